"""Automations through the Discord bridge (real discord.py against the stand-in, a fake
clock): the away message is marked automatic in the forum post, a blocked number opens
no post, escalation mentions the listed member once, the weekly digest arrives with its
chart attached."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app import SmsBridge
from bot.directory_file import parse_directory
from bot.services import blocklist
from bot.services.digest import send_digests
from bot.services.sweeps import sweep
from standins.discord import DiscordStandIn
from standins.twilio import TwilioStandIn
from storage.models import Member
from tests.conftest import LEAD, wait_for
from tests.discord_fixtures import (  # noqa: F401  (fixtures)
    DANA,
    OTHER_CHANNEL,
    discord_api_fixture,
    discord_directory,
    discord_settings,
    posts,
    start_bridge,
    text_in,
    the_thread,
)

AWAY = "We're closed now and will text you back at 8am."
MONDAY_NIGHT = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # Mon 22:00 in Chicago
NEXT_MONDAY = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # Mon 09:00 in Chicago
SPAMMER = "+14155550123"
PNG = b"\x89PNG\r\n\x1a\n"


async def start(tmp_path: Path, api: DiscordStandIn, twilio: TwilioStandIn) -> SmsBridge:
    data = discord_directory()
    acme = data["organizations"]["acme"]
    acme["automations"] = {
        "business_hours": ["Mon-Fri 08:00-18:00"],
        "away_message": AWAY,
        "escalate_after_minutes": 30,
        "escalate_to": ["dana"],
    }
    acme["reports_channel"] = {"discord": OTHER_CHANNEL}
    settings = discord_settings(tmp_path, api, twilio)
    return await start_bridge(replace(settings, directory=parse_directory(data)))


async def test_away_message_block_escalation_and_digest_on_discord(
    tmp_path: Path, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    bridge = await start(tmp_path, discord_api, twilio)
    try:
        core = bridge.core
        assert core is not None
        now = [MONDAY_NIGHT]
        core.clock = lambda: now[0]

        async def block(session: Any) -> str:
            dana = await session.scalar(select(Member).where(Member.key == "dana"))
            return await blocklist.block(core, session, dana, SPAMMER)

        await core.run(block)
        await text_in(bridge, twilio, "Buy followers", from_=SPAMMER)
        await text_in(bridge, twilio, "My roof leaks")
        thread = await the_thread(discord_api, bridge)  # one post: the blocked number opened none
        auto = await wait_for(
            lambda: [m for m in posts(discord_api, thread["id"]) if AWAY in m["content"]]
        )
        assert "(automatic reply)" in auto[0]["content"]
        assert [m["to"] for m in twilio.messages] == [LEAD]

        now[0] += timedelta(minutes=31)
        assert await sweep(core) == (0, 1)
        assert await sweep(core) == (0, 0)
        [escalation] = await wait_for(
            lambda: [m for m in posts(discord_api, thread["id"]) if "Escalated" in m["content"]]
        )
        assert escalation["content"].startswith(f"<@{DANA}> 🚨")

        now[0] = NEXT_MONDAY
        assert await send_digests(core) == 1
        assert await send_digests(core) == 0
        [digest] = await wait_for(lambda: posts(discord_api, OTHER_CHANNEL))
        assert "Weekly report · Acme Roofing" in digest["content"]
        [chart] = digest["attachments"]
        assert chart["filename"] == "report.png"
        assert discord_api.files[chart["id"]][0].startswith(PNG)
    finally:
        await bridge.stop()
