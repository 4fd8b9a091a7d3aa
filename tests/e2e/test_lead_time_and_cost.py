"""Quiet hours on the lead's clock, the organization's phone region, GSM-7 smart quotes,
what a reply costs and the inbox preview, through `/sms` commands on a running server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import Options, SmsBridge
from bot.directory_file import parse_directory
from bot.facade import Facade
from bot.results import Listed, Queued, Result
from bot.types import Actor, ChatRef
from bridges.sms import TwilioSettings
from standins.twilio import TwilioStandIn
from tests.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    DIRECTORY,
    LEAD,
    LINE,
    applied,
    make_settings,
    wait_for,
)

SALES = ChatRef("slack", "C0SALES")
DANA = Actor("slack", "U0DANA")


def acme(**settings: Any) -> dict[str, Any]:
    data = {**DIRECTORY, "organizations": {**DIRECTORY["organizations"]}}
    data["organizations"]["acme"] = {**DIRECTORY["organizations"]["acme"], **settings}
    return data


def server(tmp_path: Path, twilio: TwilioStandIn, **settings: Any) -> SmsBridge:
    base = make_settings(
        tmp_path,
        parse_directory(acme(**settings)),
        twilio=TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, twilio.url),
    )
    return SmsBridge(base, Options())


async def run(bridge: SmsBridge, text: str) -> Result:
    assert bridge.core is not None
    return await Facade(bridge.core).command(DANA, SALES, text)


def window_around_now_in(zone: str) -> list[str]:
    hour = datetime.now(UTC).astimezone(ZoneInfo(zone)).hour
    return [f"{(hour - 1) % 24:02d}:00", f"{(hour + 2) % 24:02d}:00"]


async def test_quiet_hours_by_the_leads_zone_hold_a_reply_the_teams_clock_would_send(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    # Night in San Francisco (the lead, +1 415), daytime in Kolkata (the team).
    quiet = window_around_now_in("America/Los_Angeles")
    async with server(
        tmp_path, twilio, timezone="Asia/Kolkata", quiet_hours=quiet, quiet_hours_zone="lead"
    ) as bridge:
        held = await run(bridge, f"new {LEAD} hello")
        assert isinstance(held, Queued) and held.held, held.text
        assert "Held for quiet hours" in held.text and "America/Los_Angeles" in held.text
        assert held.send_at > datetime.now(UTC)
    assert twilio.messages == []


async def test_quiet_hours_by_the_organization_ignore_the_leads_night(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    quiet = window_around_now_in("America/Los_Angeles")
    async with server(tmp_path, twilio, timezone="Asia/Kolkata", quiet_hours=quiet) as bridge:
        sent = await run(bridge, f"new {LEAD} hello")
        assert sent.ok and "quiet" not in sent.text, sent.text
        await wait_for(lambda: twilio.messages)


async def test_a_number_without_plus_is_read_in_the_organizations_region(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    async with server(tmp_path, twilio, region="GB") as bridge:
        sent = await run(bridge, "new 07911 123456 Hello from London")
        assert sent.ok, sent.text
        await wait_for(lambda: twilio.messages)
    assert twilio.messages[0]["to"] == "+447911123456"


async def test_smart_quotes_go_out_as_gsm7_when_the_organization_asks(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    async with server(tmp_path, twilio, gsm_smart_quotes=True) as bridge:
        sent = await run(bridge, f"new {LEAD} “Great” — we’ll be there…")
        assert isinstance(sent, Queued) and "GSM-7" in sent.text, sent.text
        assert str(sent.cost).startswith('Sent in plain GSM-7 punctuation: “"Great" - we')
        await wait_for(lambda: twilio.messages)
    assert twilio.messages[0]["body"] == '"Great" - we\'ll be there...'
    assert twilio.messages[0]["num_segments"] == "1"


async def test_without_smart_quotes_the_author_learns_which_character_forced_ucs2(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    async with server(tmp_path, twilio) as bridge:
        sent = await run(bridge, f"new {LEAD} We’ll be there at 9")
        assert isinstance(sent, Queued) and "UCS-2" in sent.text
        assert "`’` (U+2019)" in str(sent.cost)


async def test_the_inbox_shows_each_conversations_last_message(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    async with server(tmp_path, twilio) as bridge:
        url = bridge.settings.public_url + "/twilio/sms"
        assert (await twilio.send_inbound(url, from_=LEAD, to=LINE, body="Is Tuesday ok?"))[0]
        await applied(bridge)
        listed = await run(bridge, "inbox")
        assert isinstance(listed, Listed)
        (item,) = listed.items
        assert item.conversation.preview == "Is Tuesday ok?"
        assert item.conversation.lead_zone == "America/Los_Angeles"
