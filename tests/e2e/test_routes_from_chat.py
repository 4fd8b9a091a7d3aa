"""Routes from chat (#14): an admin sends a line's conversations to the channel they are
in; the next new conversation arrives there. A route the TOML declares stays the file's."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

from bot.directory_file import parse_directory
from standins.discord import DiscordStandIn
from standins.twilio import TwilioStandIn
from tests.conftest import DIRECTORY, LEAD, LINE, applied, wait_for
from tests.discord_fixtures import (  # noqa: F401  (fixtures)
    DANA,
    GUILD,
    TEXT_CHANNEL,
    answered,
    discord_api_fixture,
    discord_directory,
    discord_settings,
    start_bridge,
    the_thread,
)
from tests.slack_fixtures import SlackEnv

NEW = "C0NEWLEADS"
SERVICE = "+15005550002"  # an Acme line the file routes nowhere


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


async def test_a_route_added_from_discord_mirrors_and_takes_replies_in_its_threads(
    tmp_path: Path, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    directory = discord_directory()
    directory["lines"][SERVICE] = {"organization": "acme", "label": "Service"}
    settings = replace(
        discord_settings(tmp_path, discord_api, twilio), directory=parse_directory(directory)
    )
    app = await start_bridge(settings)
    try:
        interaction = await discord_api.command_interaction(
            TEXT_CHANNEL, DANA, "route", {"action": "here", "line": SERVICE}
        )
        await answered(discord_api, interaction)
        record = discord_api.interactions[interaction["id"]]
        assert "now come to this channel" in (record.followups or [record.original])[-1]["content"]

        url = app.settings.public_url + "/twilio/sms"
        assert (await twilio.send_inbound(url, from_=LEAD, to=SERVICE, body="Gutter help?"))[
            0
        ] == 200
        await applied(app)
        thread = await the_thread(discord_api, app, TEXT_CHANNEL)
        await discord_api.message_create(thread["id"], DANA, "Sure, Monday?", guild_id=GUILD)
        await wait_for(lambda: [m["body"] for m in twilio.messages] == ["Sure, Monday?"])
    finally:
        await app.stop()


async def test_when_a_route_moves_existing_threads_stay_and_new_conversations_go_to_the_new_channel(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    unrouted = copy.deepcopy(DIRECTORY)
    del unrouted["lines"][LINE]["slack_channel"]
    async with SlackEnv.start(tmp_path, twilio, directory=parse_directory(unrouted)) as sx:
        sx.slack.add_channel(NEW, "new-leads")
        sx.slack.add_channel("C0OTHER", "other-leads")
        await sx.command(f"route {LINE} here", "U0DANA", channel=NEW)
        await sx.sms_in("Hi, do you fix skylights?")
        old = await sx.header(channel=NEW)
        await wait_for(lambda: any("skylights" in t for t in sx.texts(old, channel=NEW)))

        await sx.command(f"route {LINE} here", "U0DANA", channel="C0OTHER")
        await sx.sms_in("Also the chimney, please")
        await wait_for(lambda: any("chimney" in t for t in sx.texts(old, channel=NEW)))
        await sx.sms_in("Hello, new here", from_="+14155550999")
        fresh = await sx.header(channel="C0OTHER")
        await wait_for(lambda: any("new here" in t for t in sx.texts(fresh, channel="C0OTHER")))
        assert not any("chimney" in t for t in sx.texts(fresh, channel="C0OTHER"))
