"""Slack commands and interactivity end to end: `/sms`, the header card's buttons, bot
mentions in a thread, shortcuts and modals, the Retry button, AI drafts, App Home."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bridges.ai import AiSettings
from standins import slack_interactivity as si
from standins import slack_payloads as sp
from standins.openai import DEFAULT_API_KEY, OpenAIStandIn
from standins.twilio import TwilioStandIn
from storage.models import Message
from tests.conftest import LEAD, wait_for
from tests.slack_fixtures import SALES, SlackEnv, sx_fixture  # noqa: F401


async def _conversation(sx: SlackEnv, body: str = "Hello?") -> dict[str, Any]:
    await sx.sms_in(body)
    header = await sx.header()
    await wait_for(lambda: sx.thread(header))
    return header


async def test_sms_help_inbox_and_phone_commands(sx: SlackEnv) -> None:
    assert "`/sms assign @member`" in await sx.command("help", "U0DANA")
    await _conversation(sx)
    inbox = await sx.command("inbox unread", "U0DANA")
    header = sx.headers()[0]
    assert inbox.startswith("1 unread conversation(s).")
    assert f"/archives/{SALES}/p{header['ts'].replace('.', '')}|{LEAD}>" in inbox
    found = await sx.command("search 415-555-0100", "U0SAM")
    assert "1 conversation(s) match" in found and LEAD in found

    assert await sx.command(f"assign <@U0SAM|sam> {LEAD}", "U0DANA") == "Assigned to Sam."
    await wait_for(lambda: "<@U0SAM>" in sx.card())
    await wait_for(lambda: any("<@U0SAM>" in t for t in sx.texts(header)))  # a push for Sam
    assert await sx.command(f"close {LEAD}", "U0SAM") == "Conversation closed."
    await wait_for(lambda: "Closed" in sx.card())
    assert "Reopen" in sx.card() and "sms_reopen" in str(sx.headers()[0]["blocks"])
    assert len(sx.headers()) == 1  # edited in place (chat.update), not posted again
    assert sx.slack.calls("chat.update")
    assert "acts on a conversation" in await sx.command("close", "U0DANA")
    assert "not a command" in await sx.command("frobnicate", "U0DANA")


async def test_command_refusals_for_limited_outsiders_and_other_channels(sx: SlackEnv) -> None:
    await _conversation(sx)
    assert "assigned to you" in await sx.command(f"close {LEAD}", "U0LEE")
    assert "may not opt leads out" in await sx.command(f"optout {LEAD}", "U0LEE")
    assert "not a member" in await sx.command("inbox", "U0GINA")
    # Gina's own channel works for her, and shows none of Acme's conversations
    assert await sx.command("inbox all", "U0GINA", channel="C0GLOBEX") == "0 all conversation(s)."
    assert "not connected" in await sx.command("inbox", "U0DANA", channel="C0RANDOM")
    assert "Open" in sx.card() or "Needs response" in sx.card()


async def test_header_buttons_update_the_card(sx: SlackEnv) -> None:
    header = await _conversation(sx)
    assert await sx.click("sms_close", "1", "U0DANA", header) == "Conversation closed."
    await wait_for(lambda: "Closed" in sx.card())
    header = sx.headers()[0]
    assert await sx.click("sms_optout", "1", "U0SAM", header) == (
        f"{LEAD} is opted out; nothing will be sent to them."
    )
    await wait_for(lambda: "Opted out" in sx.card())
    assert "Opt in" in sx.card()
    answer = await sx.click("sms_assign", None, "U0DANA", header, selected_user="U0LEE")
    assert answer == "Assigned to Lee."
    await wait_for(lambda: "<@U0LEE>" in sx.card())
    assert "may not opt leads back in" in await sx.click("sms_optin", "1", "U0SAM", header)
    assert "not a member" in await sx.click("sms_reopen", "1", "U0GINA", header)
    events = [t for t in sx.texts(header) if t.startswith(("✅", "🚫", "👤"))]
    assert len(events) == 3


async def test_mention_in_thread_runs_a_command(sx: SlackEnv) -> None:
    header = await _conversation(sx)
    mention = sp.app_mention_event(SALES, "U0SAM", "<@U0BOT> close", thread_ts=header["ts"])
    assert await sx.send_event(mention) == 200
    # Slack also delivers the mention as a message in the thread: it is not an SMS
    message = sx.slack.user_message(SALES, "U0SAM", "<@U0BOT> close", thread_ts=header["ts"])
    assert await sx.send_event(message) == 200
    await wait_for(lambda: sx.ephemerals_for("U0SAM"))
    assert sx.ephemerals_for("U0SAM") == ["Conversation closed."]
    await wait_for(lambda: "Closed" in sx.card())
    assert sx.twilio.messages == []


async def test_note_modal_shortcuts_and_assign_modal(sx: SlackEnv) -> None:
    header = await _conversation(sx)
    url = sx.slack.response_url(SALES, header["ts"])
    click = si.block_actions_payload(
        "sms_note", "1", user_id="U0SAM", channel_id=SALES, message=header, response_url=url
    )
    await sx.interact(click)
    await wait_for(lambda: sx.slack.views)
    modal = next(iter(sx.slack.views.values()))
    assert modal["callback_id"] == "sms_note_modal"
    values = {"note": {"text": {"type": "plain_text_input", "value": "Prefers calls"}}}
    submit = si.view_submission_payload(
        "sms_note_modal", values, user_id="U0SAM", private_metadata=modal["private_metadata"]
    )
    await sx.interact(submit)
    await wait_for(lambda: any("Prefers calls" in t for t in sx.texts(header)))
    assert any(t.startswith("🔒 *Note* by Sam") for t in sx.texts(header))

    lead_post = sx.thread(header)[0]
    shortcut = si.message_action_payload(
        "sms_assign", lead_post, user_id="U0DANA", channel_id=SALES
    )
    await sx.interact(shortcut)
    await wait_for(lambda: len(sx.slack.views) == 2)
    assign = next(v for v in sx.slack.views.values() if v["callback_id"] == "sms_assign_modal")
    picked = {"assignee": {"user": {"type": "users_select", "selected_user": "U0SAM"}}}
    await sx.interact(
        si.view_submission_payload(
            "sms_assign_modal",
            picked,
            user_id="U0DANA",
            private_metadata=assign["private_metadata"],
        )
    )
    await wait_for(lambda: "<@U0SAM>" in sx.card())

    url = sx.slack.response_url()
    close = si.message_action_payload(
        "sms_close", lead_post, user_id="U0DANA", channel_id=SALES, response_url=url
    )
    await sx.interact(close)
    assert await sx.response(url) == "Conversation closed."
    assert sx.twilio.messages == []


async def test_failed_sms_offers_retry_once(sx: SlackEnv) -> None:
    header = await _conversation(sx)
    await sx.reply("U0DANA", "Call me back", header)
    await wait_for(lambda: sx.twilio.messages)
    sid = sx.twilio.messages[0]["sid"]
    await sx.twilio.send_status_callbacks(sid, ("sent", "undelivered"), error_code="30003")
    await wait_for(lambda: any("not delivered" in t for t in sx.texts(header)))
    notice = next(m for m in sx.thread(header) if "not delivered" in m.get("text", ""))
    assert "handset is unreachable" in notice["text"]
    assert notice["text"].startswith("<@U0DANA> ")  # the author's phone buzzes
    [button] = notice["blocks"][1]["elements"]
    assert button["action_id"] == "sms_retry"
    answer = await sx.click("sms_retry", button["value"], "U0DANA", notice, thread_ts=header["ts"])
    assert "Retried by <@U0DANA>" in answer
    await wait_for(lambda: len(sx.twilio.messages) == 2)
    assert sx.twilio.messages[1]["body"] == "Call me back"
    again = await sx.click("sms_retry", button["value"], "U0SAM", notice, thread_ts=header["ts"])
    assert "Already retried" in again
    await wait_for(lambda: any("(retried)" in t for t in sx.texts(header)))
    assert len(sx.twilio.messages) == 2


async def test_ai_draft_is_ephemeral_and_sent_on_click(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    async with OpenAIStandIn(reply="Sure, we can come Tuesday.") as ai:
        settings = AiSettings(DEFAULT_API_KEY, ai.url + "/v1", timeout=5.0)
        async with SlackEnv.start(tmp_path, twilio, openai=settings) as sx:
            header = await _conversation(sx, "Can you come this week?")
            await sx.interact(
                si.block_actions_payload(
                    "sms_draft", "1", user_id="U0DANA", channel_id=SALES, message=header
                )
            )
            await wait_for(lambda: any(e["blocks"] for e in sx.slack.ephemerals))
            draft = next(e for e in sx.slack.ephemerals if e["blocks"])
            assert draft["user"] == "U0DANA" and draft["thread_ts"] == header["ts"]
            assert "Can you come this week?" in json.dumps(ai.completions[0])
            assert sx.twilio.messages == []  # nothing goes out without a click
            send = next(b for b in draft["blocks"] if b["type"] == "actions")["elements"][0]
            state = {"draft": {"text": {"type": "plain_text_input", "value": "Tuesday 9am?"}}}
            url = sx.slack.response_url(SALES, draft["message_ts"])
            click = si.block_actions_payload(
                "draft_send",
                send["value"],
                user_id="U0DANA",
                channel_id=SALES,
                is_ephemeral=True,
                message_ts=draft["message_ts"],
                response_url=url,
                state_values=state,
            )
            await sx.interact(click)
            assert (await sx.response(url)).startswith("✅ Sending to")
            await wait_for(lambda: sx.twilio.messages)
            assert sx.twilio.messages[0]["body"] == "Tuesday 9am?"
            async with sx.app.db.session() as s:
                sent = await s.scalar(select(Message).where(Message.direction == "out"))
            assert sent is not None and sent.ai_assisted
            await wait_for(lambda: any("AI-assisted" in t for t in sx.texts(header)))


async def test_app_home_publishes_counts(sx: SlackEnv) -> None:
    await _conversation(sx)
    await sx.sms_in("Another lead", from_="+14155550111")
    await wait_for(lambda: len(sx.headers()) == 2)
    await sx.command("assign @dana +14155550111", "U0DANA")  # assigning marks it read
    assert await sx.send_event(sp.app_home_opened_event("U0DANA")) == 200
    await wait_for(lambda: "U0DANA" in sx.slack.home_views)
    home = json.dumps(sx.slack.home_views["U0DANA"]["blocks"], ensure_ascii=False)
    assert "*Open* 2 · *Unread* 1 · *Mine* 1 · *Unassigned* 1 · *Needs response* 2" in home
    assert "/archives/C0SALES/p" in home and "+14155550111" in home
    assert await sx.send_event(sp.app_home_opened_event("U0STRANGER")) == 200
    await wait_for(lambda: "U0STRANGER" in sx.slack.home_views)
    assert "not a member" in json.dumps(sx.slack.home_views["U0STRANGER"]["blocks"])
