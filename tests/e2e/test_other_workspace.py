"""Only the workspace smsbridge is installed in may act: a signed event, command or click
from another workspace (the same app installed elsewhere signs with the same secret) is
acked and ignored, and said once in the log."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.app import SmsBridge
from standins import slack_interactivity as si
from standins import slack_payloads as sp
from standins.discord import DiscordStandIn
from standins.twilio import TwilioStandIn
from tests.conftest import wait_for
from tests.discord_fixtures import (  # noqa: F401  (fixtures)
    DANA,
    FORUM,
    GUILD,
    answered,
    dbridge_fixture,
    discord_api_fixture,
)
from tests.slack_fixtures import FORM, JSON, SALES, SECRET, SlackEnv, sx_fixture  # noqa: F401

OTHER = "T0OTHER"
STRANGE_GUILD = "1390000000000000001"
STRANGE_CHANNEL = "1390000000000000002"


async def test_a_reply_from_another_workspace_sends_nothing(
    sx: SlackEnv, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    await sx.sms_in("Hello?")
    header = await sx.header()
    for text in ("Sure, call me", "Still there?"):
        event = sx.slack.user_message(SALES, "U0DANA", text, thread_ts=header["ts"])
        body = sp.json_body(sp.event_callback(event, team_id=OTHER))
        status, _ = await sp.post_signed(sx.events_url, body, JSON, SECRET)
        assert status == 200
    await asyncio.sleep(0.5)
    assert sx.twilio.messages == []
    lines = [r.getMessage() for r in caplog.records if OTHER in r.getMessage()]
    assert len(lines) == 1


async def test_installed_across_a_grid_organization_its_workspaces_act_and_others_do_not(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    async with SlackEnv.start(tmp_path, twilio, enterprise="E0ACME") as sx:
        await sx.sms_in("Hello?")
        header = await sx.header()
        for text, enterprise in (("From another org", "E0GLOBEX"), ("From a plain one", None)):
            event = sx.slack.user_message(SALES, "U0DANA", text, thread_ts=header["ts"])
            body = sp.event_callback(event, team_id=OTHER, enterprise_id=enterprise)
            status, _ = await sp.post_signed(sx.events_url, sp.json_body(body), JSON, SECRET)
            assert status == 200
        event = sx.slack.user_message(SALES, "U0DANA", "From our org", thread_ts=header["ts"])
        body = sp.event_callback(event, team_id=OTHER, enterprise_id="E0ACME")
        status, _ = await sp.post_signed(sx.events_url, sp.json_body(body), JSON, SECRET)
        assert status == 200
        await wait_for(lambda: sx.twilio.messages, timeout=8)
        await asyncio.sleep(0.3)
        assert [m["body"] for m in sx.twilio.messages] == ["From our org"]


async def test_a_command_from_another_workspace_is_not_answered(sx: SlackEnv) -> None:
    await sx.sms_in("Hello?")
    url = sx.slack.response_url()
    fields = sp.slash_command(
        "inbox all", user_id="U0DANA", channel_id=SALES, team_id=OTHER, response_url=url
    )
    status, _ = await sp.post_signed(sx.events_url, sp.form_body(fields), FORM, SECRET)
    assert status == 200
    await asyncio.sleep(0.5)
    assert sx.slack.responses == []
    assert "+1415" not in str(sx.slack.ephemerals)


async def test_a_click_from_another_workspace_changes_nothing(sx: SlackEnv) -> None:
    await sx.sms_in("Hello?")
    header = await sx.header()
    url = sx.slack.response_url(SALES, header["ts"])
    payload = si.block_actions_payload(
        "sms_close", "close", user_id="U0DANA", channel_id=SALES, message=header, team_id=OTHER,
        response_url=url,
    )  # fmt: skip
    status, _ = await sp.post_signed(sx.events_url, sp.interactive_body(payload), FORM, SECRET)
    assert status == 200
    await asyncio.sleep(0.5)
    assert sx.slack.responses == [] and "Closed" not in sx.card()


async def test_the_installed_workspace_still_acts(sx: SlackEnv) -> None:
    await sx.sms_in("Hello?")
    assert (await sx.command("inbox", "U0DANA")).startswith("1 open conversation")


async def test_a_discord_command_from_a_guild_without_routes_is_ignored(
    dbridge: SmsBridge,
    discord_api: DiscordStandIn,
    twilio: TwilioStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    discord_api.add_guild(STRANGE_GUILD, "Elsewhere")
    discord_api.add_channel(STRANGE_GUILD, STRANGE_CHANNEL, "general", 0)
    discord_api.add_member(STRANGE_GUILD, DANA, "dana")
    for _ in range(2):
        await discord_api.command_interaction(
            STRANGE_CHANNEL, DANA, "new", {"phone": "+1 415 555 0199", "text": "Hi"}
        )
    home = await discord_api.command_interaction(FORUM, DANA, "inbox")
    await answered(discord_api, home)  # the home guild is still answered
    await asyncio.sleep(0.3)
    strange = [r for r in discord_api.interactions.values() if r.payload["guild_id"] != GUILD]
    assert len(strange) == 2 and all(not r.callbacks for r in strange)
    assert twilio.messages == []
    assert len([r for r in caplog.records if STRANGE_GUILD in r.getMessage()]) == 1
