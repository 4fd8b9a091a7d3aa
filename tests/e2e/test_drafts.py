"""AI drafts and snippets end to end: the real web server and workers, the real `openai`
client against the loopback stand-in, SMS out through the twilio stand-in."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import Options, SmsBridge
from bot.config import Settings
from bot.directory_file import parse_directory
from bot.domain.prompt import NOTE_MARK
from bot.domain.segments import segment_info
from bot.facade import DRAFTING, Facade
from bot.results import Drafted, Queued, Result
from bot.services.drafts import NOT_CONFIGURED
from bot.types import Actor, ChatRef
from bridges.ai import AiSettings
from standins.openai import DEFAULT_API_KEY, OpenAIStandIn
from standins.twilio import TwilioStandIn
from storage.models import Conversation, Lead, Line, Member, Message, Thread
from tests.conftest import DIRECTORY, LEAD, LINE, applied, wait_for, with_settings

MODEL = "acme-drafts-1"
GLOBEX_LINE = "+15005550001"
DANA = Actor("slack", "U0DANA", "Dana")
LEE = Actor("slack", "U0LEE", "Lee")  # limited: only conversations assigned to them
GINA = Actor("slack", "U0GINA", "Gina")  # a member of another organization
CHANNEL = ChatRef("slack", "C0SALES")
THREAD = ChatRef("slack", "C0SALES", "1700000000.000100")
VOICE = {
    "tone": "warm and brief",
    "rules": ["Sign as Acme"],
    "examples": ["Thanks Jo! We can come Tuesday at 9. - Acme"],
    "facts": ["Free estimates", "Open Mon-Sat 8-6"],
    "temperature": 0.3,
}


@pytest.fixture
async def ai_standin() -> AsyncIterator[OpenAIStandIn]:
    server = OpenAIStandIn(reply="“Hi Jo, Thursday at 9 works!” - Acme")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def settings(settings: Settings, ai_standin: OpenAIStandIn) -> Settings:
    data = copy.deepcopy(DIRECTORY)
    data["organizations"]["acme"]["voice"] = VOICE
    ai = AiSettings(DEFAULT_API_KEY, ai_standin.url + "/v1", MODEL, timeout=1.0)
    return with_settings(settings, openai=ai, undo_seconds=1.0, directory=parse_directory(data))


def facade_of(bridge: SmsBridge) -> Facade:
    assert bridge.core is not None
    return Facade(bridge.core)


async def start_conversation(bridge: SmsBridge, twilio: TwilioStandIn) -> int:
    """An Acme conversation with an inbound SMS, known lead fields and a thread (as if the
    chat worker had mirrored it); the same phone also texts Globex."""
    url = bridge.settings.public_url + "/twilio/sms"
    await twilio.send_inbound(url, from_=LEAD, to=LINE, body="My roof leaks. Call 415-555-0100")
    await twilio.send_inbound(url, from_=LEAD, to=GLOBEX_LINE, body="GLOBEX-ONLY secret")
    await applied(bridge)
    async with bridge.db.session() as s, s.begin():
        conv = await s.scalar(
            select(Conversation)
            .join(Line, Line.id == Conversation.line_id)
            .where(Line.phone == LINE)
        )
        assert conv is not None
        lead = await s.get(Lead, conv.lead_id)
        assert lead is not None
        lead.name, lead.email, lead.fields = "Jo Baker", "jo@example.com", {"stage": "quote"}
        s.add(
            Thread(
                conversation_id=conv.id,
                platform="slack",
                channel="C0SALES",
                thread_id=THREAD.thread_id,
            )
        )
        return conv.id


async def run(bridge: SmsBridge, actor: Actor, where: ChatRef, text: str) -> Result:
    return await facade_of(bridge).command(actor, where, text)


async def outbound(bridge: SmsBridge) -> list[Message]:
    async with bridge.db.session() as s:
        query = select(Message).where(Message.kind == "sms", Message.direction == "out")
        return list(await s.scalars(query.order_by(Message.id)))


async def test_draft_prompt_holds_history_notes_voice_and_lead_and_nothing_else(
    bridge: SmsBridge, twilio: TwilioStandIn, ai_standin: OpenAIStandIn
) -> None:
    conv_id = await start_conversation(bridge, twilio)
    assert (await run(bridge, DANA, THREAD, "note Gate code 4411, big dog")).ok
    told: list[str] = []

    async def progress(text: str) -> None:
        told.append(text)

    outcome = await facade_of(bridge).command(
        DANA, THREAD, "draft offer Thursday 9am", progress=progress
    )

    assert told == [DRAFTING]  # said before the AI answers
    assert isinstance(outcome, Drafted) and outcome.conversation_id == conv_id
    assert outcome.text == '"Hi Jo, Thursday at 9 works!" - Acme'  # straight quotes: GSM-7
    assert outcome.ai is True and outcome.model == MODEL
    assert outcome.describe == segment_info(outcome.text).describe()
    assert outcome.describe.startswith("1 segment · GSM-7")
    request = ai_standin.completions[0]["request"]
    assert request["model"] == MODEL and request["temperature"] == 0.3
    system, user = (m["content"] for m in request["messages"])
    assert "Lead: My roof leaks. Call [lead's phone]" in user
    assert f"{NOTE_MARK} Dana: Gate code 4411, big dog" in user
    assert "offer Thursday 9am" in user
    assert "Tone: warm and brief" in system and "- Sign as Acme" in system
    assert "Thanks Jo! We can come Tuesday at 9." in system and "- Free estimates" in system
    assert "Name: Jo Baker" in system and "Email: jo@example.com" in system
    assert "stage: quote" in system and '"Sales" line' in system
    everything = system + user
    assert "GLOBEX" not in everything and "Globex" not in everything
    assert LEAD not in everything and "555-0100" not in everything
    assert await outbound(bridge) == [] and twilio.messages == []


async def test_draft_by_conversation_id_from_a_button(
    bridge: SmsBridge, twilio: TwilioStandIn, ai_standin: OpenAIStandIn
) -> None:
    conv_id = await start_conversation(bridge, twilio)
    outcome = await facade_of(bridge).request_draft(DANA, CHANNEL, "", conversation_id=conv_id)
    assert outcome.ok and outcome.conversation_id == conv_id
    assert "No special instructions" in ai_standin.prompts[0][1]["content"]


async def test_slow_model_is_a_short_refusal_within_the_timeout(
    bridge: SmsBridge, twilio: TwilioStandIn, ai_standin: OpenAIStandIn
) -> None:
    await start_conversation(bridge, twilio)
    ai_standin.delay = 5.0
    started = time.monotonic()
    outcome = await facade_of(bridge).request_draft(DANA, THREAD, "")
    assert time.monotonic() - started < 3.0
    assert not outcome.ok
    assert outcome.text == "No draft: the AI took too long. Nothing was sent."
    assert await outbound(bridge) == [] and twilio.messages == []


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (429, "No draft: the AI service is busy (rate limited). Nothing was sent."),
        (500, "No draft: the AI service had an error (HTTP 500). Nothing was sent."),
    ],
)
async def test_model_errors_are_short_refusals(
    bridge: SmsBridge,
    twilio: TwilioStandIn,
    ai_standin: OpenAIStandIn,
    status: int,
    text: str,
) -> None:
    await start_conversation(bridge, twilio)
    ai_standin.fail_next(status, path_contains="/chat/completions")
    outcome = await facade_of(bridge).request_draft(DANA, THREAD, "")
    assert not outcome.ok and outcome.text == text
    assert await outbound(bridge) == []


async def test_refusal_by_the_model(
    bridge: SmsBridge, twilio: TwilioStandIn, ai_standin: OpenAIStandIn
) -> None:
    await start_conversation(bridge, twilio)
    ai_standin.refuse = True
    outcome = await facade_of(bridge).request_draft(DANA, THREAD, "")
    assert not outcome.ok and outcome.text.startswith("No draft: the AI declined: I'm sorry")


async def test_without_a_key_drafts_say_they_are_not_configured(
    settings: Settings, twilio: TwilioStandIn, ai_standin: OpenAIStandIn
) -> None:
    async with SmsBridge(
        with_settings(settings, openai=None), Options(worker_kwargs={"poll": 0.05})
    ) as app:
        assert app.core is not None and app.core.drafter is None
        conv_id = await start_conversation(app, twilio)
        outcome = await facade_of(app).request_draft(DANA, THREAD, "")
        assert not outcome.ok and outcome.text == NOT_CONFIGURED
        by_id = await facade_of(app).request_draft(DANA, CHANNEL, "", conversation_id=conv_id)
        assert by_id.text == NOT_CONFIGURED
    assert ai_standin.completions == []


@pytest.mark.parametrize(
    ("actor", "words"),
    [
        (LEE, "assigned to you"),
        (GINA, "not a member"),
        (Actor("slack", "U0NOBODY"), "not a member"),
    ],
)
async def test_only_members_with_the_draft_permission_get_drafts(
    bridge: SmsBridge,
    twilio: TwilioStandIn,
    ai_standin: OpenAIStandIn,
    actor: Actor,
    words: str,
) -> None:
    conv_id = await start_conversation(bridge, twilio)
    outcome = await facade_of(bridge).request_draft(actor, CHANNEL, "", conversation_id=conv_id)
    assert not outcome.ok and words in outcome.text
    assert ai_standin.completions == []


async def test_no_draft_for_an_opted_out_lead_or_outside_a_conversation(
    bridge: SmsBridge, twilio: TwilioStandIn, ai_standin: OpenAIStandIn
) -> None:
    await start_conversation(bridge, twilio)
    outside = await facade_of(bridge).request_draft(DANA, CHANNEL, "")
    assert not outside.ok and "ask inside the conversation's thread" in outside.text
    await run(bridge, DANA, THREAD, "optout")
    opted = await facade_of(bridge).request_draft(DANA, THREAD, "")
    assert not opted.ok and "opted out" in opted.text
    assert ai_standin.completions == []


async def test_sending_a_draft_takes_the_undo_window_and_records_ai_and_approver(
    bridge: SmsBridge, twilio: TwilioStandIn
) -> None:
    conv_id = await start_conversation(bridge, twilio)
    draft = await facade_of(bridge).request_draft(DANA, THREAD, "")
    edited = draft.text + " See you!"
    outcome = await facade_of(bridge).send_draft(DANA, THREAD, conv_id, edited, ai=True)
    assert isinstance(outcome, Queued) and "in 1s (undo window)" in outcome.text
    assert outcome.ai_assisted is True and outcome.author == "Dana"
    [pending] = await outbound(bridge)
    assert pending.status == "pending" and twilio.messages == []

    await wait_for(lambda: twilio.messages)
    assert twilio.messages[0]["body"] == edited and twilio.messages[0]["to"] == LEAD
    [sent] = await outbound(bridge)
    async with bridge.db.session() as s:
        dana = await s.scalar(select(Member).where(Member.key == "dana"))
    assert dana is not None
    assert sent.ai_assisted is True and sent.author_id == dana.id and sent.source == "draft"


async def test_a_sent_draft_can_still_be_canceled_inside_the_undo_window(
    bridge: SmsBridge, twilio: TwilioStandIn
) -> None:
    conv_id = await start_conversation(bridge, twilio)
    await facade_of(bridge).send_draft(DANA, THREAD, conv_id, "Hi Jo!", ai=True)
    canceled = await run(bridge, DANA, THREAD, "cancel")
    assert canceled.ok and "was not sent" in canceled.text
    await wait_for(lambda: _status(bridge, "canceled"))
    await _quiet(1.5)
    assert twilio.messages == []


async def test_a_draft_is_never_sent_to_an_opted_out_lead_or_by_an_outsider(
    bridge: SmsBridge, twilio: TwilioStandIn
) -> None:
    conv_id = await start_conversation(bridge, twilio)
    outsider = await facade_of(bridge).send_draft(GINA, CHANNEL, conv_id, "Hi", ai=True)
    assert not outsider.ok and "not a member" in outsider.text
    other_thread = ChatRef("slack", "C0SALES", "1799999999.000100")
    async with bridge.db.session() as s, s.begin():
        other = await s.scalar(select(Conversation.id).where(Conversation.id != conv_id))
        assert other is not None
        s.add(
            Thread(
                conversation_id=other,
                platform="slack",
                channel="C0SALES",
                thread_id=other_thread.thread_id,
            )
        )
    misplaced = await facade_of(bridge).send_draft(DANA, other_thread, conv_id, "Hi", ai=True)
    assert not misplaced.ok and "another conversation" in misplaced.text
    await run(bridge, DANA, THREAD, "optout")
    opted = await facade_of(bridge).send_draft(DANA, THREAD, conv_id, "Hi", ai=True)
    assert not opted.ok and "opted out" in opted.text
    assert await outbound(bridge) == []
    await _quiet(0.3)
    assert twilio.messages == []


async def test_snippet_is_merged_and_shown_like_a_draft_then_sent(
    bridge: SmsBridge, twilio: TwilioStandIn
) -> None:
    conv_id = await start_conversation(bridge, twilio)
    text = "Hi {first_name}, {member_name} from {line_label} here about order {order}."
    assert (await run(bridge, DANA, CHANNEL, f"snippet add hello {text}")).ok

    in_thread = await run(bridge, DANA, THREAD, "snippet hello")
    merged = "Hi Jo, Dana from Sales here about order {order}."
    assert isinstance(in_thread, Drafted) and in_thread.text == merged
    assert in_thread.conversation_id == conv_id and in_thread.ai is False
    assert in_thread.describe == segment_info(merged).describe()
    assert in_thread.unknown_fields == ("order",) and in_thread.snippet == "hello"

    in_channel = await run(bridge, DANA, CHANNEL, "snippet hello")
    assert isinstance(in_channel, Drafted)
    assert in_channel.text == "Hi there, Dana from Sales here about order {order}."
    assert in_channel.conversation_id is None

    fixed = merged.replace("{order}", "1234")
    sent = await facade_of(bridge).send_draft(DANA, THREAD, conv_id, fixed, ai=False)
    assert sent.ok
    await wait_for(lambda: twilio.messages)
    [message] = await outbound(bridge)
    assert message.body == fixed and message.ai_assisted is False


async def test_token_usage_is_in_metrics(bridge: SmsBridge, twilio: TwilioStandIn) -> None:
    await start_conversation(bridge, twilio)
    assert (await facade_of(bridge).request_draft(DANA, THREAD, "")).ok
    async with aiohttp.ClientSession() as http:
        async with http.get(bridge.settings.public_url + "/metrics") as response:
            body = await response.text()
    assert 'smsbridge_ai_tokens_total{kind="prompt"}' in body
    assert 'smsbridge_ai_tokens_total{kind="completion"}' in body
    assert 'smsbridge_ai_drafts_total{outcome="ok"}' in body


async def _status(bridge: SmsBridge, status: str) -> bool:
    return [m.status for m in await outbound(bridge)] == [status]


async def _quiet(seconds: float) -> None:
    await asyncio.sleep(seconds)
