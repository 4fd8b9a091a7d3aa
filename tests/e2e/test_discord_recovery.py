"""Discord never delivers a message sent while the gateway is disconnected: what teammates
typed in a thread while smsbridge was down is read back when it connects again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.app import SmsBridge
from bot.services.views import conversation_view
from standins.discord import DiscordStandIn
from standins.twilio import TwilioStandIn
from storage.models import Conversation, Message
from tests.conftest import wait_for
from tests.discord_fixtures import (  # noqa: F401  (fixtures)
    DANA,
    FORUM,
    custom_ids,
    discord_api_fixture,
    discord_settings,
    posts,
    start_bridge,
    text_in,
    the_thread,
)


async def notes(app: SmsBridge) -> list[str]:
    assert app.core is not None
    async with app.core.db.session() as s:
        return list(await s.scalars(select(Message.body).where(Message.kind == "note")))


async def test_what_was_typed_in_discord_while_down_is_read_back_notes_kept_replies_offered(
    tmp_path: Path, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    settings = discord_settings(tmp_path, discord_api, twilio)
    app = await start_bridge(settings)
    try:
        await text_in(app, twilio, "Is Tuesday possible?")
        thread = (await the_thread(discord_api, app))["id"]
        await wait_for(lambda: any("Tuesday" in p["content"] for p in posts(discord_api, thread)))
    finally:
        await app.stop()

    await discord_api.message_create(thread, DANA, "note: ask about the gutter too")
    await discord_api.message_create(thread, DANA, "Tuesday at 10 works")

    app = await start_bridge(settings)
    try:

        def offer() -> list[dict]:
            return [
                p
                for p in posts(discord_api, thread)
                if "typed while smsbridge was down" in p["content"]
            ]

        (offered,) = await wait_for(offer)
        assert f"<@{DANA}>" in offered["content"]
        assert offered["embeds"][0]["description"] == "Tuesday at 10 works"
        assert any("draftsend" in c for c in custom_ids(offered))
        assert "ask about the gutter too" in await wait_for(lambda: notes(app))
        assert not any("Tuesday at 10" in m["body"] for m in twilio.messages), "never by itself"
    finally:
        await app.stop()


async def test_a_forum_post_made_before_a_crash_is_found_again_by_its_card(
    tmp_path: Path, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    app = await start_bridge(discord_settings(tmp_path, discord_api, twilio))
    try:
        await text_in(app, twilio, "Hello from the lead")
        post = await the_thread(discord_api, app)
        assert app.core is not None
        async with app.core.db.session() as s:
            conversation = await s.scalar(select(Conversation))
            assert conversation is not None
            view = await conversation_view(s, conversation)
        bridge = app.plugins["discord"].bridge
        since = datetime.now(UTC) - timedelta(minutes=1)
        found = await bridge.find_thread(FORUM, view, since)
        assert found is not None and found.thread_id == post["id"]
        later = datetime.now(UTC) + timedelta(minutes=5)
        assert await bridge.find_thread(FORUM, view, later) is None, "only cards since then"
    finally:
        await app.stop()
