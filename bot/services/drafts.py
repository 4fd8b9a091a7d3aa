"""Flow 7 of DESIGN.md: AI drafts and snippets, shown only to the member who asked and
sent only when they click Send.

- `request_draft` reads the conversation from OUR database (never from chat), builds the
  prompt (bot/domain/prompt.py) and asks `core.drafter`; a slow or failing model becomes
  a short refusal, never a hang, never a send.
- `send_draft` sends the approved text through the normal reply path (undo window,
  opt-out and quiet-hour checks), recording that it was AI-assisted and who approved it
  (the message's author).
- `snippet_draft` fills a snippet's merge fields and returns it shaped like a draft."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.domain.localtime import lead_time_zone, local_time_label
from bot.domain.merge import MergeValues, merge_fields, unknown_fields
from bot.domain.prompt import (
    HISTORY_LIMIT,
    DraftRequest,
    HistoryItem,
    LeadFacts,
    Voice,
    build_messages,
    tidy_draft,
)
from bot.domain.segments import segment_info
from bot.metrics import AI_DRAFTS
from bot.ports import Completion, Rejected, RetryLater
from bot.results import Drafted, Queued, Refused
from bot.services.access import (
    Denied,
    check,
    conversation_for_thread,
    member_for,
    routes_for_channel,
)
from bot.services.portal import Portal
from bot.services.replies import ReplyOptions, send_reply
from bot.types import Actor, ChatRef
from storage.models import Conversation, Line, Member, Message, Organization

log = logging.getLogger(__name__)

NOT_CONFIGURED = (
    "AI drafts are not configured: set OPENAI_API_KEY "
    "(and OPENAI_BASE_URL for another OpenAI-compatible server)."
)
MAX_TOKENS = 300  # room for a long SMS when the instructions ask for one
DEFAULT_TEMPERATURE = 0.4  # `temperature` in [organizations.X.voice] overrides it
TIMEOUT_GRACE = 2.0  # on top of the client's own timeout, for the whole call
MAX_EVENTS = 10


async def request_draft(
    core: Core,
    actor: Actor,
    where: ChatRef,
    instructions: str,
    *,
    conversation_id: int | None = None,
) -> Drafted | Refused:
    """A draft of the next reply, for `actor`'s eyes only, or why there is none. Never
    sends anything."""
    drafter = core.drafter
    if drafter is None:
        AI_DRAFTS.labels("not_configured").inc()
        return Refused(NOT_CONFIGURED, conversation_id=conversation_id)

    async with core.db.session() as session:
        gathered = await _gather(core, session, actor, where, instructions, conversation_id)
    if isinstance(gathered, Refused):
        return gathered
    conv_id, request = gathered

    temperature = request.voice.temperature
    if temperature is None:
        temperature = DEFAULT_TEMPERATURE
    limit = drafter.timeout + TIMEOUT_GRACE
    try:
        async with asyncio.timeout(limit):
            completion: Completion = await drafter.complete(
                build_messages(request), max_tokens=MAX_TOKENS, temperature=temperature
            )
    except TimeoutError:
        AI_DRAFTS.labels("timeout").inc()
        return _no_draft("the AI took too long", conv_id)
    except (RetryLater, Rejected) as exc:
        return _no_draft(str(exc), conv_id)
    except Exception:
        log.exception("ai draft for conversation %s failed", conv_id)
        return _no_draft("the AI service failed unexpectedly", conv_id)

    text = tidy_draft(completion.text)
    if not text:
        return _no_draft("the AI returned an empty draft", conv_id)
    return drafted(text, conv_id, ai=True, model=completion.model)


async def send_draft(
    core: Core,
    session: AsyncSession,
    actor: Actor,
    where: ChatRef,
    conversation_id: int,
    text: str,
    *,
    ai_assisted: bool,
) -> Queued | Refused:
    """The member clicked Send (after editing, maybe): the text goes out like any reply,
    through the undo window and the opt-out and quiet-hour checks. The message records
    `ai_assisted` and the approving member as its author."""
    try:
        portal = await Portal.load(core, session, conversation_id)
    except Denied as exc:
        return Refused(str(exc))
    here = await conversation_for_thread(session, where)
    if here is not None and here.id != conversation_id:
        return Refused(
            "This draft belongs to another conversation: nothing was sent.",
            conversation_id=conversation_id,
        )
    try:
        member = await member_for(session, portal.conversation.organization_id, actor)
        options = ReplyOptions(source="draft", undo=True, ai_assisted=ai_assisted)
        return await send_reply(core, session, portal, member, text, options=options)
    except Denied as exc:
        return Refused(str(exc), conversation_id=conversation_id)


async def snippet_draft(
    session: AsyncSession,
    organization_id: int,
    conversation: Conversation | None,
    member: Member,
    where: ChatRef,
    name: str,
    template: str,
) -> Drafted:
    """A saved snippet with its merge fields filled, shaped like a draft (ai=False)."""
    lead_name = line_label = None
    if conversation is not None:
        lead_name, line_label = conversation.lead.name, conversation.line.label
    else:
        routes = await routes_for_channel(session, where)
        line = await session.get(Line, routes[0].line_id) if routes else None
        line_label = line.label if line is not None else None
    org = await session.get(Organization, organization_id)
    values = MergeValues(lead_name, line_label, member.name, org.name if org else None)
    text = merge_fields(template, values)
    return drafted(
        text,
        conversation.id if conversation is not None else None,
        snippet=name,
        unknown_fields=tuple(unknown_fields(template)),
    )


async def _gather(
    core: Core,
    session: AsyncSession,
    actor: Actor,
    where: ChatRef,
    instructions: str,
    conversation_id: int | None,
) -> tuple[int, DraftRequest] | Refused:
    """Find the conversation, check the member, read what the prompt needs."""
    if conversation_id is not None:
        conversation = await session.get(Conversation, conversation_id)
    else:
        conversation = await conversation_for_thread(session, where)
    if conversation is None:
        return Refused(
            "A draft is for a conversation: ask inside the conversation's thread, or give "
            "a phone number: `/sms draft +15551234567`."
        )
    try:
        member = await member_for(session, conversation.organization_id, actor)
        check(member, "draft", conversation)
    except Denied as exc:
        return Refused(str(exc), conversation_id=conversation.id)
    lead = conversation.lead
    if lead.opted_out:
        return Refused(
            f"{lead.name or 'This lead'} has opted out (replied STOP): no SMS can be sent, "
            "so there is nothing to draft.",
            conversation_id=conversation.id,
        )
    org = await session.get(Organization, conversation.organization_id)
    assert org is not None
    request = DraftRequest(
        organization=org.name,
        line_label=conversation.line.label,
        lead=LeadFacts(
            lead.name,
            lead.email,
            lead.address,
            dict(lead.fields or {}),
            lead.phone,
            company=lead.company,
            local_time=local_time_label(lead_time_zone(lead.phone, org.timezone), core.now()),
        ),
        history=await history(session, conversation.id),
        voice=Voice.from_config(org.voice, strict=False),
        member_name=member.name,
        instructions=instructions,
        timezone=org.timezone,
        now=core.now(),
    )
    return conversation.id, request


async def history(
    session: AsyncSession, conversation_id: int, *, limit: int = HISTORY_LIMIT
) -> list[HistoryItem]:
    """The last `limit` SMS and notes of one conversation, oldest first, with the events
    among them (at most MAX_EVENTS, so assignments and tags do not crowd out words)."""
    of_conversation = Message.conversation_id == conversation_id
    words = list(
        await session.scalars(
            select(Message)
            .where(of_conversation, Message.kind != "event")
            .order_by(Message.id.desc())
            .limit(limit)
        )
    )
    since = min((m.id for m in words), default=0)
    events = list(
        await session.scalars(
            select(Message)
            .where(of_conversation, Message.kind == "event", Message.id >= since)
            .order_by(Message.id.desc())
            .limit(MAX_EVENTS)
        )
    )
    rows = sorted(words + events, key=lambda m: m.id)
    return [
        HistoryItem(
            kind=m.kind,
            body=m.body,
            direction=m.direction,
            author=m.author.name if m.author is not None else None,
            status=m.status,
            media=len(m.media),
            at=m.created_at,
        )
        for m in rows
    ]


def _no_draft(reason: str, conversation_id: int) -> Refused:
    reason = reason.rstrip(".")
    text = f"No draft: {reason}. Nothing was sent."
    return Refused(text, conversation_id=conversation_id)


def drafted(text: str, conversation_id: int | None, *, ai: bool = False, **kw: Any) -> Drafted:
    """A draft of `text` with its cost (segments, encoding) described."""
    info = segment_info(text)
    return Drafted(
        text,
        describe=info.describe(),
        ai=ai,
        conversation_id=conversation_id,
        segments=info.segments,
        encoding=info.encoding,
        **kw,
    )
