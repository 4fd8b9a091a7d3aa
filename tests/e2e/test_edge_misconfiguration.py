"""A misconfiguration is loud in the log and nothing else leaks: a bad Twilio or Slack
signature is a WARNING (at most one line per source a minute) naming the URL it was
checked against and never the secret; /healthz says only ok or not ok; /metrics takes a
bearer token when SMSBRIDGE_METRICS_TOKEN is set."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from sqlalchemy.exc import OperationalError

from bot.app import Options, SmsBridge
from bot.config import Settings, load_settings
from standins import slack_payloads as sp
from standins.twilio import TwilioStandIn
from tests.conftest import AUTH_TOKEN, LEAD, LINE
from tests.slack_fixtures import JSON, SECRET, SlackEnv, sx_fixture  # noqa: F401


def warnings_in(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


async def test_a_bad_twilio_signature_is_one_warning_naming_the_url_and_no_secret(
    bridge: SmsBridge, twilio: TwilioStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    url = bridge.settings.public_url + "/twilio/sms"
    wrong = TwilioStandIn(twilio.account_sid, "not-the-token")
    for _ in range(3):
        status, _ = await wrong.send_inbound(url, from_=LEAD, to=LINE, body="hi")
        assert status == 403
    # Signed over another URL (a wrong SMSBRIDGE_PUBLIC_URL): the same source, same minute.
    status, _ = await twilio.send_inbound(
        url, from_=LEAD, to=LINE, body="hi", signature_url="https://elsewhere.example/twilio/sms"
    )
    assert status == 403
    [line] = [w for w in warnings_in(caplog) if "twilio" in w.lower()]
    assert url in line and "signature" in line
    assert AUTH_TOKEN not in caplog.text and "not-the-token" not in caplog.text


async def test_a_bad_slack_signature_is_one_warning_and_no_secret(
    sx: SlackEnv, caplog: pytest.LogCaptureFixture
) -> None:
    body = sp.json_body(sp.url_verification())
    for _ in range(3):
        status, _ = await sp.post_signed(sx.events_url, body, JSON, "wrong-secret")
        assert status == 401
    [line] = [w for w in warnings_in(caplog) if "slack" in w.lower()]
    assert sx.events_url in line and "SLACK_SIGNING_SECRET" in line
    assert SECRET not in caplog.text and "wrong-secret" not in caplog.text


@contextmanager
def database_down(app: SmsBridge) -> Iterator[None]:
    def broken(*_: Any, **__: Any) -> Any:
        raise OperationalError("SELECT 1", {}, Exception("password=hunter2 at /srv/db"))

    original = app.db.session
    app.db.session = broken  # type: ignore[method-assign]
    try:
        yield
    finally:
        app.db.session = original  # type: ignore[method-assign]


async def get(url: str, **headers: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as resp:
        return resp.status, await resp.text()


async def test_healthz_says_only_ok_or_not_ok(bridge: SmsBridge) -> None:
    url = bridge.settings.public_url + "/healthz"
    assert await get(url) == (200, '{"ok": true}')
    with database_down(bridge):
        status, text = await get(url)
    assert (status, text) == (503, '{"ok": false}')


@pytest.fixture
async def guarded(settings: Settings) -> AsyncIterator[SmsBridge]:
    app = SmsBridge(replace(settings, metrics_token="m3trics-t0ken"), Options())
    await app.start()
    yield app
    await app.stop()


async def test_metrics_need_the_bearer_token_when_one_is_set(guarded: SmsBridge) -> None:
    url = guarded.settings.public_url + "/metrics"
    assert (await get(url))[0] == 401
    assert (await get(url, Authorization="Bearer wrong"))[0] == 401
    assert (await get(url, Authorization="m3trics-t0ken"))[0] == 401
    status, text = await get(url, Authorization="Bearer m3trics-t0ken")
    assert status == 200 and "smsbridge_webhooks_total" in text
    assert (await get(guarded.settings.public_url + "/healthz"))[0] == 200


async def test_metrics_are_open_without_a_token(bridge: SmsBridge) -> None:
    assert (await get(bridge.settings.public_url + "/metrics"))[0] == 200


def test_the_metrics_token_comes_from_the_environment() -> None:
    env = {"SMSBRIDGE_METRICS_TOKEN": "abc"}
    assert load_settings(env, read_dotenv=False).metrics_token == "abc"
    assert load_settings({}, read_dotenv=False).metrics_token is None
