"""A line routed to Slack and Discord: a teammate who corrects, locks or deletes their
reply on one side inside the undo window changes its copy on the other side too, so the
two teams never read different stories (#12, finding 8)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import standins.slack_payloads as sp
from bridges.discord import DiscordSettings
from standins.discord import DiscordStandIn
from standins.twilio import TwilioStandIn
from tests.conftest import wait_for
from tests.discord_fixtures import (  # noqa: F401  (fixtures)
    DANA,
    FORUM,
    GUILD,
    TOKEN,
    discord_api_fixture,
    posts,
)
from tests.slack_fixtures import SALES, SlackEnv

STATUS = {"⏳", "📤", "✅", "❌", "🚫", "❓"}


@pytest.fixture(name="both")
async def both_fixture(
    tmp_path: Path, twilio: TwilioStandIn, discord_api: DiscordStandIn
) -> AsyncIterator[tuple[SlackEnv, DiscordStandIn]]:
    discord = DiscordSettings(TOKEN, api_url=discord_api.url, gateway_url=discord_api.gateway_url)
    async with SlackEnv.start(tmp_path, twilio, discord=discord, undo_seconds=5.0) as env:
        yield env, discord_api


async def _threads(both: tuple[SlackEnv, DiscordStandIn]) -> tuple[dict[str, Any], str]:
    sx, api = both
    await sx.sms_in("Hello?")
    header = await sx.header()
    thread = (await wait_for(lambda: api.threads_of(FORUM)))[0]["id"]
    return header, thread


async def _replied(
    both: tuple[SlackEnv, DiscordStandIn], text: str
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """Dana's reply typed in Slack, the Discord thread, and the reply's copy there."""
    sx, api = both
    header, thread = await _threads(both)
    reply = await sx.reply("U0DANA", text, header)
    copy = await wait_for(lambda: discord_copy(api, thread, text))
    return reply, thread, copy


def discord_copy(api: DiscordStandIn, thread: str, words: str) -> dict[str, Any] | None:
    return next((m for m in posts(api, thread) if words in m["content"]), None)


def our_marks(message: dict[str, Any]) -> set[str]:
    return {r["emoji"]["name"] for r in message.get("reactions", []) if r["me"]} & STATUS


async def test_a_reply_shows_the_same_stage_on_both_platforms_while_it_waits_and_once_twilio_has_it(
    both: tuple[SlackEnv, DiscordStandIn],
) -> None:
    sx, api = both
    reply, thread, copy = await _replied(both, "On my way")
    await wait_for(lambda: our_marks(api.get_message(thread, copy["id"])) == {"⏳"})
    assert "hourglass_flowing_sand" in sx.reactions(reply["ts"])  # the undo window
    await wait_for(lambda: sx.twilio.messages, timeout=15)  # Twilio answered "queued"
    await wait_for(lambda: our_marks(api.get_message(thread, copy["id"])) == {"📤"})
    await wait_for(lambda: "outbox_tray" in sx.reactions(reply["ts"]))
    assert "hourglass_flowing_sand" not in sx.reactions(reply["ts"])


async def test_a_reply_corrected_in_slack_shows_the_new_text_in_discord_and_goes_out_once(
    both: tuple[SlackEnv, DiscordStandIn],
) -> None:
    sx, api = both
    fixed, thread, copy = await _replied(both, "See you at 5")

    assert await sx.send_event(sp.message_changed_event(SALES, fixed, "See you at 6")) == 200
    await wait_for(lambda: "See you at 6" in api.get_message(thread, copy["id"])["content"])
    assert "See you at 5" not in api.get_message(thread, copy["id"])["content"]
    await wait_for(lambda: sx.twilio.messages, timeout=15)
    assert [m["body"] for m in sx.twilio.messages] == ["See you at 6"]


async def test_a_reply_locked_into_a_note_in_slack_is_a_note_in_discord_with_no_send_status(
    both: tuple[SlackEnv, DiscordStandIn],
) -> None:
    sx, api = both
    locked, thread, copy = await _replied(both, "Internal: he is rude")
    await wait_for(lambda: our_marks(api.get_message(thread, copy["id"])) == {"⏳"})

    lock = sp.reaction_added_event("U0DANA", "lock", SALES, locked["ts"], item_user="U0DANA")
    assert await sx.send_event(lock) == 200
    await wait_for(lambda: "**Note**" in api.get_message(thread, copy["id"])["content"])
    assert "sent as SMS" not in api.get_message(thread, copy["id"])["content"]
    await asyncio.sleep(5.5)  # the undo window is over: nothing went, nothing marks it sent
    assert sx.twilio.messages == []
    assert not our_marks(api.get_message(thread, copy["id"]))


async def test_a_reply_deleted_in_slack_is_taken_down_in_discord_and_never_sent(
    both: tuple[SlackEnv, DiscordStandIn],
) -> None:
    sx, api = both
    header, thread = await _threads(both)
    oops = await sx.reply("U0DANA", "Wrong number sorry", header)
    await wait_for(lambda: discord_copy(api, thread, "Wrong number"))

    assert await sx.send_event(sx.slack.delete_message(SALES, oops["ts"])) == 200
    await wait_for(lambda: discord_copy(api, thread, "Wrong number") is None)
    await sx.reply("U0DANA", "Sorry, ignore that", header)  # the next one still goes
    await wait_for(lambda: sx.twilio.messages, timeout=15)
    assert [m["body"] for m in sx.twilio.messages] == ["Sorry, ignore that"]


async def test_a_reply_edited_then_deleted_in_discord_follows_in_slack(
    both: tuple[SlackEnv, DiscordStandIn],
) -> None:
    sx, api = both
    header, thread = await _threads(both)
    typed = await api.message_create(thread, DANA, "Tuesday at 9?", guild_id=GUILD)
    await wait_for(lambda: any("Tuesday at 9?" in t for t in sx.texts(header)))

    await api.message_update(thread, typed["id"], content="Tuesday at 10?")
    await wait_for(lambda: any("Tuesday at 10?" in t for t in sx.texts(header)))
    assert not any("Tuesday at 9?" in t for t in sx.texts(header))

    await api.message_update(thread, typed["id"], content="// check the calendar first")
    await wait_for(lambda: any("Note" in t and "calendar" in t for t in sx.texts(header)))

    other = await api.message_create(thread, DANA, "Or Wednesday?", guild_id=GUILD)
    await wait_for(lambda: any("Or Wednesday?" in t for t in sx.texts(header)))
    await api.message_delete(thread, other["id"])
    await wait_for(lambda: not any("Or Wednesday?" in t for t in sx.texts(header)))
    await wait_for(lambda: len(sx.slack.calls("chat.delete")) == 1)
    assert sx.twilio.messages == []
