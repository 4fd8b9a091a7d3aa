"""Routes from chat (#14): an admin sends a line's conversations to the channel they are
in; the next new conversation arrives there. A route the TOML declares stays the file's."""

from __future__ import annotations

import copy
from pathlib import Path

from bot.config import parse_directory
from tests.conftest import DIRECTORY, LINE, wait_for
from tests.slack_fixtures import SlackEnv
from tests.standins.twilio import TwilioStandIn

NEW = "C0NEWLEADS"


async def test_a_route_added_from_slack_receives_the_next_conversation(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    unrouted = copy.deepcopy(DIRECTORY)
    del unrouted["lines"][LINE]["slack_channel"]
    async with SlackEnv.start(tmp_path, twilio, directory=parse_directory(unrouted)) as sx:
        sx.slack.add_channel(NEW, "new-leads")
        refused = await sx.command(f"route {LINE} here", "U0SAM", channel=NEW)
        assert "may not route lines to channels" in refused
        done = await sx.command(f"route {LINE} here", "U0DANA", channel=NEW)
        assert done == f"Conversations of {LINE} (Sales) now come to this channel."
        await sx.sms_in("Hi, do you fix skylights?")
        header = await sx.header(channel=NEW)
        await wait_for(lambda: any("skylights" in t for t in sx.texts(header, channel=NEW)))
        listed = await sx.command("route list", "U0DANA", channel=NEW)
        assert f"• {LINE} Sales: discord 1200000000000000001 (file), slack {NEW}" in listed
        assert "no longer routed" in await sx.command(f"route {LINE} off", "U0DANA", channel=NEW)
        assert "not connected" in await sx.command("inbox", "U0DANA", channel=NEW)


async def test_a_route_the_file_declares_cannot_be_changed_from_chat(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    async with SlackEnv.start(tmp_path, twilio) as sx:
        sx.slack.add_channel(NEW, "new-leads")
        refused = await sx.command(f"route {LINE} here", "U0DANA", channel=NEW)
        assert refused == (
            f"The slack route of {LINE} is managed by the file: edit "
            f'`lines."{LINE}".slack_channel` in smsbridge.toml (it applies at the next start).'
        )
        assert "has no line" in await sx.command("route +15005550999 off", "U0DANA")
