"""Inbound MMS media is fetched only from Twilio's media origin (the configured Twilio API
URL's scheme, host and port): the account's credentials never reach another host, not
through a look-alike URL nor through a redirect, and the server never fetches loopback or
private addresses for a stranger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridges.sms import TwilioSettings
from bridges.sms.media import MediaPolicy
from standins.twilio import TwilioStandIn
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, wait_for
from tests.slack_fixtures import SlackEnv


@pytest.fixture
async def elsewhere() -> AsyncIterator[TwilioStandIn]:
    """Another server on loopback, answering media requests like Twilio would."""
    async with TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as standin:
        yield standin


async def shown_as_link(sx: SlackEnv, url: str) -> None:
    header = await sx.header()
    await wait_for(lambda: any(url in text for text in sx.texts(header)))
    assert not sx.slack.file_data  # nothing was uploaded


async def test_media_from_another_origin_is_never_fetched_and_shows_as_a_link(
    tmp_path: Path, twilio: TwilioStandIn, elsewhere: TwilioStandIn
) -> None:
    async with SlackEnv.start(tmp_path, twilio) as sx:
        url = elsewhere.media_url("photo.png")
        await sx.sms_in("look", media=[(url, "image/png")])
        await shown_as_link(sx, url)
    assert elsewhere.calls("/media") == []


async def test_twilio_credentials_never_go_to_a_look_alike_url(
    tmp_path: Path, twilio: TwilioStandIn, elsewhere: TwilioStandIn
) -> None:
    # The configured origin is a prefix of the attacker's URL (same host, no port).
    looks_alike = TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, "http://127.0.0.1")
    elsewhere.fail_next(401, times=5, path_contains="/media")
    async with SlackEnv.start(tmp_path, twilio, twilio=looks_alike) as sx:
        url = elsewhere.media_url("photo.png")
        assert url.startswith("http://127.0.0.1")
        await sx.sms_in("look", media=[(url, "image/png")])
        await shown_as_link(sx, url)
    assert [r.headers.get("Authorization") for r in elsewhere.calls("/media")] == []


async def test_credentials_do_not_follow_a_redirect_to_another_origin(
    tmp_path: Path, twilio: TwilioStandIn, elsewhere: TwilioStandIn
) -> None:
    twilio.media_redirect = elsewhere.media_url("stolen.png")
    async with SlackEnv.start(tmp_path, twilio) as sx:
        url = twilio.media_url("photo.png")
        await sx.sms_in("look", media=[(url, "image/png")])
        await shown_as_link(sx, url)
    assert twilio.calls("/media")  # Twilio's own origin was asked
    assert elsewhere.calls("/media") == []  # a loopback address is never fetched


async def test_media_from_twilios_origin_is_fetched_with_the_account_credentials(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    async with SlackEnv.start(tmp_path, twilio) as sx:
        await sx.sms_in("look", media=[(twilio.media_url("photo.png"), "image/png")])
        await wait_for(lambda: sx.slack.file_data)
    [request] = twilio.calls("/media")
    assert request.headers["Authorization"].startswith("Basic ")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "twilio"),
        ("https://api.twilio.com:443/x", "twilio"),
        ("https://API.twilio.com/x", "twilio"),
        ("https://api.twilio.com.example.net/x", "public"),  # never with credentials
        ("https://api.twilio.com.example.net/x", "public"),  # never with credentials
        ("http://api.twilio.com/x", None),
        ("https://api.twilio.com:8443/x", "public"),
        ("ftp://api.twilio.com/x", None),
        ("https://s3-external-1.amazonaws.com/media.twiliocdn.com/x", "public"),
        ("http://s3-external-1.amazonaws.com/x", None),
        ("https://127.0.0.1/x", None),
        ("https://10.0.0.8/x", None),
        ("https://169.254.169.254/latest/meta-data", None),
        ("https://[::1]/x", None),
        ("https://[fd00::1]/x", None),
        ("https://0.0.0.0/x", None),
        ("https://192.168.1.1/x", None),
        ("https://100.64.0.1/x", None),
        ("not a url", None),
    ],
)
def test_the_media_policy_names_twilio_public_hosts_and_refuses_the_rest(
    url: str, allowed: str | None
) -> None:
    policy = MediaPolicy("https://api.twilio.com")
    assert policy.classify(url) == allowed
