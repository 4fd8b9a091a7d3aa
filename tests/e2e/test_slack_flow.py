"""Slack end to end with the real slack_bolt/slack_sdk against the loopback stand-in: SMS in
becomes a thread, thread replies go out as SMS, notes stay in, nothing loops."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from standins import slack_payloads as sp
from standins.twilio import TwilioStandIn
from storage.models import Message, Thread
from tests.conftest import LEAD, wait_for
from tests.slack_fixtures import SALES, SlackEnv, sx_fixture  # noqa: F401


async def _messages(sx: SlackEnv) -> list[Message]:
    async with sx.app.db.session() as s:
        return list(await s.scalars(select(Message).order_by(Message.id)))


async def test_inbound_sms_opens_a_thread_posted_as_the_lead_in_order(sx: SlackEnv) -> None:
    await sx.sms_in("Hi, need a quote")
    header = await sx.header()
    assert "SMS conversation with " + LEAD in header["text"]
    card = str(header["blocks"])
    assert "Needs response" in card and "sms_close" in card and "sms_optout" in card
    assert "sms_assign" in card and "sms_draft" in card and "sms_note" in card
    await wait_for(lambda: sx.thread(header))
    first = sx.thread(header)[0]
    assert first["text"] == "Hi, need a quote" and first["username"] == LEAD
    assert first["subtype"] == "thread_broadcast"  # the first message shows in the channel too

    for i in range(5):
        await sx.sms_in(f"part {i} <!channel> & more")
    await wait_for(lambda: "part 4" in "\n".join(sx.texts(header)))
    text = "\n".join(sx.texts(header)[1:])
    assert [text.index(f"part {i}") for i in range(5)] == sorted(
        text.index(f"part {i}") for i in range(5)
    )
    assert "&lt;!channel&gt; &amp; more" in text  # an SMS cannot ping the channel
    assert len(sx.headers()) == 1
    assert all(m.get("subtype") != "thread_broadcast" for m in sx.thread(header)[1:])
    # the card was edited in place as the unread count grew
    await wait_for(lambda: "*Unread*\n6" in sx.card())


async def test_thread_reply_goes_out_as_sms_and_is_marked(sx: SlackEnv) -> None:
    await sx.sms_in("Hello?")
    header = await sx.header()
    reply = await sx.reply("U0DANA", "Hi! This is Acme &amp; co &lt;3", header)
    await wait_for(lambda: sx.twilio.messages)
    sent = sx.twilio.messages[0]
    assert sent["to"] == LEAD and sent["body"] == "Hi! This is Acme & co <3"
    await wait_for(lambda: "outbox_tray" in sx.reactions(reply["ts"]))
    await sx.twilio.send_status_callbacks(sent["sid"], ("sent", "delivered"))
    await wait_for(lambda: sx.reactions(reply["ts"]) == ["white_check_mark"])
    # the teammate's reply is not posted again by the bot
    assert all("Acme" not in (m.get("text") or "") for m in sx.slack.posts(SALES))


async def test_mentions_of_teammates_reach_the_lead_as_names(sx: SlackEnv) -> None:
    sx.slack.users["U0SAM"]["profile"]["display_name"] = "Sam"
    await sx.sms_in("Who will come?")
    header = await sx.header()
    await sx.reply("U0DANA", "<@U0SAM> will come, or <@U0LEE|lee> <https://acme.test|site>", header)
    await wait_for(lambda: sx.twilio.messages)
    assert sx.twilio.messages[0]["body"] == "@Sam will come, or @lee https://acme.test"


async def test_notes_never_reach_twilio(sx: SlackEnv) -> None:
    await sx.sms_in("Hello?")
    header = await sx.header()
    notes = ["note: call back Monday", "// check the roof size", ";; VIP", "NOTE: upsell"]
    for text in notes:
        event = await sx.reply("U0SAM", text, header)
        await wait_for(lambda ts=event["ts"]: sx.reactions(ts) == ["lock"])
    await sx.reply("U0SAM", "Real reply", header)
    await wait_for(lambda: sx.twilio.messages)
    assert [m["body"] for m in sx.twilio.messages] == ["Real reply"]
    stored = [m for m in await _messages(sx) if m.kind == "note"]
    assert [m.body for m in stored] == ["call back Monday", "check the roof size", "VIP", "upsell"]


async def test_own_posts_unfurls_and_retries_do_not_loop(sx: SlackEnv) -> None:
    await sx.sms_in("Hello?")
    header = await sx.header()
    await wait_for(lambda: sx.thread(header))
    bot_post = sx.thread(header)[0]
    # Slack sends our own posts back as events, and edits of them as message_changed
    echo = sp.message_event(SALES, "U0BOT", bot_post["text"], thread_ts=header["ts"])
    echo["bot_id"] = "B0BOT"
    assert await sx.send_event(echo) == 200
    changed = sp.message_changed_event(SALES, {**bot_post, "thread_ts": header["ts"]}, "x")
    assert await sx.send_event(changed) == 200

    reply = await sx.reply("U0DANA", "See https://acme.example/roof", header)
    await wait_for(lambda: sx.twilio.messages)
    unfurl = sp.message_changed_event(SALES, reply, reply["text"])
    unfurl["message"]["attachments"] = [{"title": "Acme roofs", "from_url": "https://acme"}]
    assert await sx.send_event(unfurl) == 200
    # the same event delivered again as Slack's retry
    retried = sp.event_callback(reply, event_id="Ev0RETRY")
    for attempt in (None, 1, 2):
        body = sp.json_body(retried)
        status, _ = await sp.post_signed(
            sx.events_url, body, "application/json", "8f742231b10e8888abcd99yyyzzz85a5", attempt
        )
        assert status == 200
    mention = sp.app_mention_event(SALES, "U0DANA", "<@U0BOT> tag add vip", thread_ts=header["ts"])
    for attempt in (None, 1):
        body = sp.json_body(sp.event_callback(mention, event_id="Ev0MENTION"))
        await sp.post_signed(
            sx.events_url, body, "application/json", "8f742231b10e8888abcd99yyyzzz85a5", attempt
        )
    await wait_for(lambda: sx.ephemerals_for("U0DANA"))
    await wait_for(lambda: "vip" in sx.card())
    out = [m for m in await _messages(sx) if m.kind == "sms" and m.direction == "out"]
    assert [m.body for m in out] == ["See https://acme.example/roof"]
    assert len(sx.twilio.messages) == 1
    assert sx.ephemerals_for("U0DANA") == ["Tags: vip"]
    tagged = [m for m in await _messages(sx) if m.event == "tagged"]
    assert len(tagged) == 1


async def test_unsigned_or_stale_requests_get_401(sx: SlackEnv) -> None:
    await sx.sms_in("Hello?")
    header = await sx.header()
    event = sx.slack.user_message(SALES, "U0DANA", "sneaky", thread_ts=header["ts"])
    assert await sx.send_event(event, secret="wrong-secret") == 401
    assert await sx.send_event(event, timestamp=1_600_000_000) == 401
    command = sp.form_body(sp.slash_command("inbox", user_id="U0DANA", channel_id=SALES))
    status, _ = await sp.post_signed(
        sx.events_url, command, "application/x-www-form-urlencoded", "nope"
    )
    assert status == 401
    assert sx.twilio.messages == []


async def test_undo_window_delete_cancels_and_edit_corrects(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    async with SlackEnv.start(tmp_path, twilio, undo_seconds=1.5) as sx:
        await sx.sms_in("Hello?")
        header = await sx.header()
        oops = await sx.reply("U0DANA", "Wrong number sorry", header)
        await wait_for(lambda: "hourglass_flowing_sand" in sx.reactions(oops["ts"]))
        fixed = await sx.reply("U0DANA", "See you at 5", header)
        locked = await sx.reply("U0DANA", "Internal: he is rude", header)
        assert await sx.send_event(sx.slack.delete_message(SALES, oops["ts"])) == 200
        edit = sp.message_changed_event(SALES, fixed, "See you at 6")
        assert await sx.send_event(edit) == 200
        lock = sp.reaction_added_event("U0DANA", "lock", SALES, locked["ts"], item_user="U0DANA")
        assert await sx.send_event(lock) == 200
        await wait_for(lambda: len(sx.ephemerals_for("U0DANA")) >= 3)
        answers = "\n".join(sx.ephemerals_for("U0DANA"))
        assert "Canceled" in answers and "Corrected" in answers and "note" in answers
        await wait_for(lambda: twilio.messages)
        await wait_for(lambda: "lock" in sx.reactions(locked["ts"]))
        assert [m["body"] for m in twilio.messages] == ["See you at 6"]
        # after the window, a delete cannot unsend
        assert await sx.send_event(sx.slack.delete_message(SALES, fixed["ts"])) == 200
        await wait_for(lambda: "already gone out" in "\n".join(sx.ephemerals_for("U0DANA")))


async def test_refusals_are_ephemeral_and_send_nothing(sx: SlackEnv) -> None:
    await sx.sms_in("Hello?")
    header = await sx.header()
    await sx.reply("U0LEE", "I am limited", header)
    await sx.reply("U0GINA", "I am from another organization", header)
    await sx.reply("U0NOBODY", "Who am I", header)
    await wait_for(lambda: len(sx.slack.ephemerals) >= 3)
    assert "assigned to you" in sx.ephemerals_for("U0LEE")[0]
    assert "not a member" in sx.ephemerals_for("U0GINA")[0]
    assert "not a member" in sx.ephemerals_for("U0NOBODY")[0]
    assert all(e["thread_ts"] == header["ts"] for e in sx.slack.ephemerals)
    assert await sx.command(f"assign @lee {LEAD}", "U0DANA") == "Assigned to Lee."
    await sx.reply("U0LEE", "Lee here, I can help", header)  # now theirs: allowed
    await wait_for(lambda: sx.twilio.messages)
    assert [m["body"] for m in sx.twilio.messages] == ["Lee here, I can help"]
    await sx.sms_in("STOP")
    await wait_for(lambda: "Opted out" in sx.card())
    refused = await sx.reply("U0DANA", "Are you sure?", header)
    await wait_for(lambda: sx.ephemerals_for("U0DANA"))
    assert "opted out" in sx.ephemerals_for("U0DANA")[0]
    # The ephemeral is gone on the next reload; the post keeps saying it was not sent.
    await wait_for(lambda: sx.reactions(refused["ts"]) == ["no_entry_sign"])
    assert len(sx.twilio.messages) == 1


async def test_deleted_thread_opens_a_fresh_one_linking_the_old(sx: SlackEnv) -> None:
    await sx.sms_in("first")
    old = await sx.header()
    await wait_for(lambda: sx.thread(old))
    sx.slack.delete_message(SALES, old["ts"])  # a person deletes the header and its thread
    await sx.sms_in("second")
    new = await sx.header()
    assert new["ts"] != old["ts"]
    await wait_for(lambda: any("second" in t for t in sx.texts(new)))
    texts = sx.texts(new)
    assert "continues from" in texts[0] and old["ts"].replace(".", "") in texts[0]
    assert texts[1] == "second"
    async with sx.app.db.session() as s:
        threads = list(await s.scalars(select(Thread).order_by(Thread.id)))
    assert [(t.thread_id, t.active) for t in threads] == [(old["ts"], False), (new["ts"], True)]


async def test_mms_in_both_directions(sx: SlackEnv) -> None:
    photo = sx.twilio.media_url("photo.png")
    await sx.sms_in("Here is the roof", media=[(photo, "image/png"), (photo, "video/mp4")])
    header = await sx.header()
    await wait_for(lambda: len(sx.thread(header)) >= 2)
    post, upload = sx.thread(header)[:2]
    assert post["text"].startswith("Here is the roof") and "video/mp4" in post["text"]
    assert upload["files"][0]["mimetype"] == "image/png"
    assert sx.slack.file_data[upload["files"][0]["id"]][:4] == b"\x89PNG"

    picture = sx.slack.add_file(
        b"\xff\xd8jpegdata", "estimate.jpg", user="U0DANA", mimetype="image/jpeg"
    )
    await sx.reply("U0DANA", "Estimate attached", header, files=[picture])
    await wait_for(lambda: sx.twilio.messages)
    [sent] = sx.twilio.messages
    assert sent["body"] == "Estimate attached" and len(sent["media_urls"]) == 1
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(sent["media_urls"][0]) as resp:
        assert resp.status == 200 and await resp.read() == b"\xff\xd8jpegdata"

    pdf = sx.slack.add_file(b"%PDF-1.4", "contract.pdf", user="U0DANA", mimetype="application/pdf")
    await sx.reply("U0DANA", "", header, files=[pdf])
    await wait_for(lambda: sx.ephemerals_for("U0DANA"))
    assert "contract.pdf" in sx.ephemerals_for("U0DANA")[0]
    assert len(sx.twilio.messages) == 1


async def test_explicit_reply_mode_sends_only_quoted_text(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    from bot.directory_file import parse_directory
    from tests.conftest import DIRECTORY, LINE

    lines = {**DIRECTORY["lines"], LINE: {**DIRECTORY["lines"][LINE], "reply_mode": "explicit"}}
    directory = parse_directory({**DIRECTORY, "lines": lines})
    async with SlackEnv.start(tmp_path, twilio, directory=directory) as sx:
        await sx.sms_in("Hello?")
        header = await sx.header()
        thinking = await sx.reply("U0DANA", "he sounds annoyed", header)
        await wait_for(lambda: sx.reactions(thinking["ts"]) == ["lock"])
        await sx.reply("U0DANA", "&gt; Hi, Dana from Acme here", header)  # Slack escapes ">"
        await wait_for(lambda: twilio.messages)
        assert [m["body"] for m in twilio.messages] == ["Hi, Dana from Acme here"]


async def test_reopened_conversation_shows_in_channel_again(sx: SlackEnv) -> None:
    await sx.sms_in("Hello?")
    header = await sx.header()
    await wait_for(lambda: sx.thread(header))
    assert await sx.command(f"close {LEAD}", "U0DANA") == "Conversation closed."
    await sx.sms_in("Me again")
    await wait_for(lambda: "Me again" in sx.texts(header))
    again = next(m for m in sx.thread(header) if m.get("text") == "Me again")
    assert again["subtype"] == "thread_broadcast"
    assert any("Reopened" in t for t in sx.texts(header))
    await wait_for(lambda: "Needs response" in sx.card())


async def test_new_conversation_from_slack_appears_once_twilio_accepts(sx: SlackEnv) -> None:
    answer = await sx.command("new +1 415 555 0188 Hi, it's Dana from Acme", "U0DANA")
    assert answer.startswith("Sending to +14155550188")
    await wait_for(lambda: sx.twilio.messages)
    header = await sx.header()
    assert "Outbound only" in sx.card()
    await wait_for(lambda: sx.thread(header))
    [post] = sx.thread(header)
    assert post["text"].startswith("📤 *Sent as SMS* by Dana")
    assert "Hi, it's Dana from Acme" in post["text"]
    await wait_for(lambda: "outbox_tray" in sx.reactions(post["ts"]))
    assert post.get("username") is None  # posted as the bot, not as the lead


async def test_unknown_outcome_is_marked_and_offers_retry(sx: SlackEnv) -> None:
    await sx.sms_in("Hello?")
    header = await sx.header()
    sx.twilio.fail_next(drop=True, path_contains="/Messages.json")
    reply = await sx.reply("U0DANA", "Are you there?", header)
    # the new mark goes on before the old one comes off
    await wait_for(lambda: sx.reactions(reply["ts"]) == ["grey_question"])
    await wait_for(lambda: any("Not sure the SMS" in t for t in sx.texts(header)))
    notice = next(m for m in sx.thread(header) if "Not sure" in m.get("text", ""))
    assert notice["blocks"][-1]["elements"][0]["action_id"] == "sms_retry"


async def test_files_in_other_threads_are_left_alone(sx: SlackEnv) -> None:
    await sx.sms_in("Hello?")
    header = await sx.header()
    chatter = sx.slack.user_message(SALES, "U0SAM", "lunch?")
    video = sx.slack.add_file(b"x" * (6 << 20), "big.mov", user="U0SAM", mimetype="video/mp4")
    await sx.reply("U0SAM", "too big", chatter, files=[video])  # someone else's thread
    await sx.reply("U0SAM", "too big", header, files=[video])
    await wait_for(lambda: sx.ephemerals_for("U0SAM"))
    [refusal] = sx.ephemerals_for("U0SAM")
    assert "big.mov is 6.0 MB" in refusal and sx.slack.ephemerals[0]["thread_ts"] == header["ts"]
    assert not sx.slack.calls("/files-pri/")  # nothing was fetched
    assert sx.twilio.messages == []
