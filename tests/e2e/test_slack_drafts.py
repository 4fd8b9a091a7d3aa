"""The Slack draft's Edit button end to end: a click opens a modal holding the draft
(views.open with the click's trigger_id), and its Send goes out as the lead's SMS through
the same path as the draft's own Send button."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bridges.ai import AiSettings
from standins import slack_interactivity as si
from standins.openai import DEFAULT_API_KEY, OpenAIStandIn
from standins.twilio import TwilioStandIn
from storage.models import Member, Message
from tests.conftest import LEAD, wait_for
from tests.slack_fixtures import SALES, SlackEnv

DRAFT = "Sure, we can come Tuesday."


@asynccontextmanager
async def drafting(tmp_path: Path, twilio: TwilioStandIn) -> AsyncIterator[SlackEnv]:
    async with OpenAIStandIn(reply=DRAFT) as ai:
        settings = AiSettings(DEFAULT_API_KEY, ai.url + "/v1", timeout=5.0)
        async with SlackEnv.start(tmp_path, twilio, openai=settings) as sx:
            yield sx


async def ask_for_draft(sx: SlackEnv) -> tuple[dict[str, Any], dict[str, Any]]:
    """An SMS comes in and Dana clicks ✨ AI draft on its card: the header and the draft
    (the ephemeral message only Dana sees)."""
    await sx.sms_in("Can you come this week?")
    header = await sx.header()
    await wait_for(lambda: sx.thread(header))
    click = si.block_actions_payload(
        "sms_draft", "1", user_id="U0DANA", channel_id=SALES, message=header
    )
    await sx.interact(click)
    await wait_for(lambda: any(e["blocks"] for e in sx.slack.ephemerals))
    return header, next(e for e in sx.slack.ephemerals if e["blocks"])


def buttons(draft: dict[str, Any]) -> dict[str, dict[str, Any]]:
    actions = next(b for b in draft["blocks"] if b["type"] == "actions")
    return {e["text"]["text"]: e for e in actions["elements"]}


async def click_edit(
    sx: SlackEnv, draft: dict[str, Any], url: str, typed: str | None = None
) -> dict[str, Any]:
    """Dana clicks Edit under the draft (with `typed` in the draft's box, if Slack sends
    its state); returns the modal that opened."""
    opened = len(sx.slack.views)
    state = {"draft": {"text": {"type": "plain_text_input", "value": typed}}} if typed else None
    click = si.block_actions_payload(
        "draft_edit",
        buttons(draft)["Edit"]["value"],
        user_id="U0DANA",
        channel_id=SALES,
        is_ephemeral=True,
        message_ts=draft["message_ts"],
        response_url=url,
        state_values=state,
    )
    await sx.interact(click)
    await wait_for(lambda: len(sx.slack.views) > opened)
    return list(sx.slack.views.values())[-1]


def submission(modal: dict[str, Any], text: str) -> dict[str, Any]:
    values = {"draft": {"text": {"type": "plain_text_input", "value": text}}}
    return si.view_submission_payload(
        modal["callback_id"],
        values,
        user_id="U0DANA",
        user_name="dana",
        private_metadata=modal["private_metadata"],
        view_id=modal["id"],
        blocks=modal["blocks"],
    )


def box(modal: dict[str, Any]) -> dict[str, Any]:
    return next(b for b in modal["blocks"] if b["type"] == "input")["element"]


async def test_edit_opens_the_draft_in_a_modal_and_sends_the_edited_text(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    async with drafting(tmp_path, twilio) as sx:
        header, draft = await ask_for_draft(sx)
        assert list(buttons(draft)) == ["Send as SMS", "Edit", "Discard"]
        assert "1 segment · GSM-7" in draft["blocks"][0]["text"]["text"]
        url = sx.slack.response_url(SALES, draft["message_ts"])

        modal = await click_edit(sx, draft, url)
        assert sx.slack.calls("views.open")
        assert modal["type"] == "modal" and modal["title"]["text"] == "Edit AI draft"
        assert modal["submit"]["text"] == "Send as SMS"
        assert box(modal)["multiline"] is True and box(modal)["initial_value"] == DRAFT
        # What the member already typed in the draft's box is what the modal holds.
        typed = await click_edit(sx, draft, url, typed="Sure, Tuesday at 9?")
        assert box(typed)["initial_value"] == "Sure, Tuesday at 9?"

        edited = "Sure, we can come Tuesday at 9. - Dana"
        assert await sx.submit(submission(modal, edited)) == {}
        assert (await sx.response(url)).startswith("✅ Sending to")  # the draft's new text
        await wait_for(lambda: sx.twilio.messages)
        assert [(m["to"], m["body"]) for m in sx.twilio.messages] == [(LEAD, edited)]
        async with sx.app.db.session() as s:
            sent = await s.scalar(select(Message).where(Message.direction == "out"))
            dana = await s.scalar(select(Member).where(Member.key == "dana"))
        assert sent is not None and dana is not None
        assert sent.ai_assisted is True and sent.author_id == dana.id and sent.source == "draft"
        shown = "📤 *Sent as SMS* by Dana · ✨ AI-assisted"
        await wait_for(lambda: any(t.startswith(shown) and edited in t for t in sx.texts(header)))


async def test_an_empty_edit_is_a_modal_error_and_sends_nothing(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    async with drafting(tmp_path, twilio) as sx:
        _, draft = await ask_for_draft(sx)
        url = sx.slack.response_url(SALES, draft["message_ts"])
        modal = await click_edit(sx, draft, url)

        answer = await sx.submit(submission(modal, "  \n "))
        assert answer == {
            "response_action": "errors",
            "errors": {"draft": "Write the message first: an empty SMS cannot be sent."},
        }
        await asyncio.sleep(0.3)
        assert sx.twilio.messages == [] and sx.slack.responses == []
        async with sx.app.db.session() as s:
            assert await s.scalar(select(Message).where(Message.direction == "out")) is None


async def test_a_refused_edit_says_why_and_keeps_the_draft(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    async with drafting(tmp_path, twilio) as sx:
        _, draft = await ask_for_draft(sx)
        url = sx.slack.response_url(SALES, draft["message_ts"])
        modal = await click_edit(sx, draft, url)
        assert "opted out" in await sx.command(f"optout {LEAD}", "U0SAM")

        assert await sx.submit(submission(modal, "Tuesday at 9?")) == {}
        await wait_for(lambda: any("opted out" in t for t in sx.ephemerals_for("U0DANA")))
        refusal = next(t for t in sx.ephemerals_for("U0DANA") if "opted out" in t)
        assert "nothing was sent" in refusal
        await asyncio.sleep(0.3)
        assert sx.twilio.messages == []
        assert not [r for r in sx.slack.responses if url.endswith(r["id"])]
