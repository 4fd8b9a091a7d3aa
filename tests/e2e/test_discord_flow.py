"""The Discord bridge end to end: the real discord.py client against the loopback
Discord stand-in, the real web server, workers and twilio client."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from bot.app import SmsBridge
from standins.discord import DiscordStandIn
from standins.discord_interactions import answered, custom_ids
from standins.twilio import TwilioStandIn
from tests.conftest import LEAD, wait_for
from tests.discord_fixtures import (  # noqa: F401  (fixtures)
    DANA,
    FORUM,
    GUILD,
    SAM,
    TEXT_CHANNEL,
    dbridge_fixture,
    discord_api_fixture,
    discord_settings,
    header_field,
    posts,
    start_bridge,
    tag_names,
    text_in,
    the_thread,
)

OTHER_BOT = "1100000000000000077"


async def test_inbound_sms_opens_a_forum_post_with_tags_header_and_the_lead_message(
    dbridge: SmsBridge, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    await text_in(dbridge, twilio, "Hi, need a quote for a roof")
    thread = await the_thread(discord_api, dbridge)
    await wait_for(lambda: len(posts(discord_api, thread["id"])) >= 2)
    header, lead_post = posts(discord_api, thread["id"])[:2]
    assert header["id"] == thread["id"]  # the forum post's starter message
    assert LEAD in header["embeds"][0]["description"]
    assert "smsbridge:close:" in " ".join(custom_ids(header))
    assert lead_post["content"] == "Hi, need a quote for a roof"
    assert lead_post["webhook_id"] and lead_post["author"]["username"] == LEAD
    await wait_for(lambda: "Needs response" in tag_names(discord_api, thread))
    assert header_field(posts(discord_api, thread["id"])[0], "Status") == "Needs response"
    # The missing state tags were created on the forum, next to the one that existed.
    names = {t["name"] for t in discord_api.channels[FORUM]["available_tags"]}
    assert {"Open", "Closed", "Needs response", "Assigned", "Opted out"} <= names


async def open_thread(bridge: SmsBridge, api: DiscordStandIn, twilio: TwilioStandIn) -> str:
    """An inbound SMS, mirrored: the thread id once the lead's post is there."""
    await text_in(bridge, twilio, "Hello?")
    thread = await the_thread(api, bridge)
    await wait_for(lambda: any(m.get("webhook_id") for m in posts(api, thread["id"])))
    return str(thread["id"])


def reactions(api: DiscordStandIn, channel: str, message_id: str) -> set[str]:
    message = api.messages[channel][message_id]
    return {r["emoji"]["name"] for r in message.get("reactions", []) if r["me"]}


async def test_thread_message_goes_out_as_sms_and_shows_its_status(
    dbridge: SmsBridge, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    thread = await open_thread(dbridge, discord_api, twilio)
    mine = await discord_api.message_create(thread, DANA, "Hi! This is Dana from Acme.")
    await wait_for(lambda: twilio.messages)
    sent = twilio.messages[0]
    assert sent["to"] == LEAD and sent["body"] == "Hi! This is Dana from Acme."
    # Twilio answered "queued": it has the SMS, so the post no longer shows it waiting.
    await wait_for(lambda: "📤" in reactions(discord_api, thread, mine["id"]))
    assert reactions(discord_api, thread, mine["id"]) == {"📱", "📤"}  # 📱: it went as SMS
    await twilio.send_status_callbacks(sent["sid"], ("sent",))
    await asyncio.sleep(0.3)
    assert reactions(discord_api, thread, mine["id"]) == {"📱", "📤"}
    await twilio.send_status_callbacks(sent["sid"], ("delivered",))
    await wait_for(lambda: "✅" in reactions(discord_api, thread, mine["id"]))
    assert reactions(discord_api, thread, mine["id"]) == {"📱", "✅"}


async def test_note_prefixes_stay_in_discord(
    dbridge: SmsBridge, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    thread = await open_thread(dbridge, discord_api, twilio)
    notes = [
        await discord_api.message_create(thread, DANA, text)
        for text in ("note: call back Monday", "// owner is on holiday", ";; big roof")
    ]
    for note in notes:
        await wait_for(lambda n=note: "🔒" in reactions(discord_api, thread, n["id"]))
    assert twilio.messages == []


async def test_own_bot_and_webhook_posts_never_loop(
    dbridge: SmsBridge, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    thread = await open_thread(dbridge, discord_api, twilio)
    # Our header and the lead's webhook post were echoed to us as MESSAGE_CREATE already.
    discord_api.add_member(GUILD, OTHER_BOT, "otherbot", bot=True)
    await discord_api.message_create(thread, OTHER_BOT, "I am a bot")
    # Another integration's webhook post, whose author does not even say it is a bot.
    hooked = {**(await discord_api.message_create(thread, SAM, "sent for real"))}
    hooked.update(id=discord_api.ids.next(), content="from a webhook", webhook_id="999")
    await discord_api.dispatch("MESSAGE_CREATE", {**hooked, "guild_id": GUILD})
    await wait_for(lambda: twilio.messages)
    await asyncio.sleep(0.3)
    assert [m["body"] for m in twilio.messages] == ["sent for real"]


async def test_replayed_message_create_after_resume_changes_nothing(
    dbridge: SmsBridge, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    thread = await open_thread(dbridge, discord_api, twilio)
    first = await discord_api.message_create(thread, DANA, "one")
    await wait_for(lambda: len(twilio.messages) == 1)
    await discord_api.reconnect(close_code=4000)
    # Sent while the bot is away: replayed once it RESUMEs.
    await discord_api.message_create(thread, DANA, "two")
    await discord_api.wait_connected()
    assert discord_api.resumes == 1
    await wait_for(lambda: len(twilio.messages) == 2)
    # Discord may deliver an event again after a resume: nothing happens twice.
    event = {**first, "guild_id": GUILD}
    await discord_api.dispatch("MESSAGE_CREATE", event)
    await asyncio.sleep(0.3)
    assert [m["body"] for m in twilio.messages] == ["one", "two"]


async def test_edit_and_delete_inside_the_undo_window(
    tmp_path: Path, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    app = await start_bridge(discord_settings(tmp_path, discord_api, twilio, undo_seconds=1.0))
    try:
        thread = await open_thread(app, discord_api, twilio)
        typo = await discord_api.message_create(thread, DANA, "See you tomorow")
        await wait_for(lambda: "⏳" in reactions(discord_api, thread, typo["id"]))
        await discord_api.message_update(thread, typo["id"], content="See you tomorrow")
        gone = await discord_api.message_create(thread, DANA, "Wrong thread, sorry")
        await wait_for(lambda: "⏳" in reactions(discord_api, thread, gone["id"]))
        await discord_api.message_delete(thread, gone["id"])
        await wait_for(lambda: twilio.messages)
        await asyncio.sleep(1.3)
        assert [m["body"] for m in twilio.messages] == ["See you tomorrow"]
        # Our own posts are not teammates' replies: editing or deleting them is ignored.
        ours = next(m for m in posts(discord_api, thread) if m.get("webhook_id"))
        await discord_api.message_delete(thread, ours["id"])
        await asyncio.sleep(0.2)
        assert len(twilio.messages) == 1
    finally:
        await app.stop()


async def test_deleted_thread_gets_a_fresh_one(
    dbridge: SmsBridge, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    old = await open_thread(dbridge, discord_api, twilio)
    await discord_api.delete_channel(old)
    await text_in(dbridge, twilio, "Anyone there?")
    new = await the_thread(discord_api, dbridge)
    assert new["id"] != old
    await wait_for(
        lambda: any(m["content"] == "Anyone there?" for m in posts(discord_api, new["id"]))
    )
    assert any(f"<#{old}>" in m["content"] for m in posts(discord_api, new["id"]))


async def test_text_channel_route_gets_a_header_and_a_thread_from_it(
    tmp_path: Path, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    app = await start_bridge(discord_settings(tmp_path, discord_api, twilio, TEXT_CHANNEL))
    try:
        await text_in(app, twilio, "Quote please")
        thread = await the_thread(discord_api, app, TEXT_CHANNEL)
        header = discord_api.messages[TEXT_CHANNEL][thread["id"]]  # the thread's starter
        assert header["embeds"][0]["title"].endswith(LEAD)
        await wait_for(
            lambda: any(m["content"] == "Quote please" for m in posts(discord_api, thread["id"]))
        )
        await discord_api.message_create(thread["id"], SAM, "On it")
        await wait_for(lambda: twilio.messages)
        assert twilio.messages[0]["body"] == "On it"
        # Named after the lead, like a forum post, and renamed with them.
        ask = await discord_api.command_interaction(
            thread["id"], SAM, "name", {"name": "Maria Lopez"}
        )
        await answered(discord_api, ask)
        await wait_for(
            lambda: discord_api.channels[thread["id"]]["name"].startswith("Maria Lopez · ")
        )
    finally:
        await app.stop()


async def test_discord_429_is_waited_out_and_nothing_is_lost(
    dbridge: SmsBridge, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    thread = await open_thread(dbridge, discord_api, twilio)
    discord_api.fail_next(429, retry_after=1, path_contains="/webhooks/")
    await text_in(dbridge, twilio, "Second message")
    await wait_for(
        lambda: any(m["content"] == "Second message" for m in posts(discord_api, thread))
    )
    tries = discord_api.calls("/webhooks/", "POST")[-2:]
    assert tries[1].at - tries[0].at >= 0.9  # discord.py honoured Retry-After


async def test_mms_both_ways_inbound_images_shown_and_discord_attachments_sent(
    dbridge: SmsBridge, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    photo = twilio.media_url("roof.png")
    await text_in(dbridge, twilio, "Here is the damage", media=[(photo, "image/png")])
    thread = (await the_thread(discord_api, dbridge))["id"]
    lead_post = (
        await wait_for(lambda: [m for m in posts(discord_api, thread) if m.get("webhook_id")])
    )[0]
    assert lead_post["embeds"][0]["image"]["url"] == photo
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    await discord_api.message_create(thread, DANA, "Our quote", [("quote.png", png, "image/png")])
    await wait_for(lambda: twilio.messages)
    (url,) = twilio.messages[0]["media_urls"]
    async with aiohttp.ClientSession() as http, http.get(url) as fetched:
        assert fetched.status == 200 and await fetched.read() == png
