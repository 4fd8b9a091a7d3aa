"""Flow 1 for a batch of received SMS in one transaction, on SQLAlchemy Core.

Why: through the ORM an inbound SMS costs a dozen statements and ~2 ms of CPU (lead,
conversation, message, flushes, header check), so a stored burst was applied at a
twentieth of the rate it was answered (bench/RESULTS.md, apply). Here the common case
(no STOP/START/HELP keyword, no automation of the organization that answers or screens,
an open or new conversation whose assignee is not to be mentioned) is a fixed handful
of statements per batch: look up lines, leads and conversations, insert what is new,
and insert messages, media and chat deliveries with executemany. Where a chat lane of
the conversation is free, its deliveries are written already claimed for this process's
worker, which runs them once the batch commits: no claim of their own (docs/JOBS.md).

Every other SMS goes through `apply_inbound` one at a time, in the same transaction and
before the common ones, so what it changes (a lead opted out, a conversation reopened)
is what the common path then reads. The intake hands over at most one SMS per lead and
line per batch, so per-conversation order needs nothing more here."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import AFTER_COMMIT, HANDED, Core
from bot.delivery import queue
from bot.domain.compliance import classify_keyword
from bot.domain.phones import InvalidSender, normalize_sender
from bot.results import Done, Refused
from bot.services.inbound import apply_inbound
from bot.types import InboundSms
from storage.models import (
    Conversation,
    Delivery,
    Lead,
    Line,
    Media,
    Member,
    Message,
    Organization,
    Route,
)

log = logging.getLogger(__name__)

# Core statements on the tables: executemany without the ORM's unit of work.
LEADS, CONVERSATIONS, MESSAGES = Lead.__table__, Conversation.__table__, Message.__table__
MEDIA, DELIVERIES = Media.__table__, Delivery.__table__

# Automation settings that act on an inbound SMS (answer it, or screen its sender).
ACTING = ("away_message", "ack_message", "block_keywords")

# Built once, bound per batch: building a statement cost more than running it (the
# e2e profile, bench/RESULTS.md). Both columns of the (organization, phone) key go by
# IN: one index range per pair.
_LINES = (  # a row per route of each line (one with no platform for a line with none)
    select(Line.phone, Line.id, Line.organization_id, Line.default_assignee_id,
           Organization.automations, Route.platform)
    .join(Organization, Organization.id == Line.organization_id)
    .outerjoin(Route, Route.line_id == Line.id)
    .where(Line.phone.in_(bindparam("phones", expanding=True)))
)  # fmt: skip
_LEADS = (  # a row per conversation of each lead (one with none for a lead with none)
    select(Lead.organization_id, Lead.phone, Lead.id, Lead.blocked, Conversation.line_id,
           Conversation.id, Conversation.status, Member.notify)
    .outerjoin(Conversation, Conversation.lead_id == Lead.id)
    .outerjoin(Member, Member.id == Conversation.assignee_id)
    .where(
        Lead.organization_id.in_(bindparam("orgs", expanding=True)),
        Lead.phone.in_(bindparam("phones", expanding=True)),
    )
)  # fmt: skip
_UNFINISHED = select(Delivery.conversation_id, Delivery.lane, Delivery.kind, Delivery.status).where(
    Delivery.conversation_id.in_(bindparam("ids", expanding=True)),
    Delivery.status.in_(("pending", "running")),
)
_NEW_LEADS = insert(LEADS).returning(LEADS.c.id, sort_by_parameter_order=True)
_NEW_CONVERSATIONS = insert(CONVERSATIONS).returning(
    CONVERSATIONS.c.id, sort_by_parameter_order=True
)
_NEW_MESSAGES = insert(MESSAGES).returning(MESSAGES.c.id, sort_by_parameter_order=True)
_NEW_MEDIA, _NEW_DELIVERIES = insert(MEDIA), insert(DELIVERIES)
_NEW_DELIVERIES_IDS = insert(DELIVERIES).returning(DELIVERIES.c.id, sort_by_parameter_order=True)


@dataclass
class _Line:
    id: int
    organization_id: int
    default_assignee_id: int | None
    plain: bool  # no automation acts on its SMS
    platforms: list[str] = field(default_factory=list)  # mirrored to, sorted


@dataclass
class _Sms:
    index: int  # in the batch
    sms: InboundSms
    line: _Line
    phone: str
    lead_id: int | None = None
    conversation_id: int | None = None
    new_conversation: bool = False


async def apply_batch(
    core: Core, session: AsyncSession, batch: list[InboundSms]
) -> list[Done | Refused]:
    """Apply `batch` (at most one SMS per lead and line) in the caller's transaction;
    one result per SMS, in order."""
    outcomes: list[Done | Refused | None] = [None] * len(batch)
    lines = await _lines(core, session, {sms.to_phone for sms in batch})
    common: list[_Sms] = []
    other: list[int] = []
    for i, sms in enumerate(batch):
        line = lines.get(sms.to_phone)
        phone = _sender(sms.from_phone)
        if (
            line is None
            or phone is None
            or not line.plain
            or classify_keyword(sms.body, sms.opt_out_type) is not None
        ):
            other.append(i)
        else:
            common.append(_Sms(i, sms, line, phone))
    await _one_by_one(core, session, batch, other, outcomes)
    if common:
        later = await _find(session, common)
        await _one_by_one(core, session, batch, [s.index for s in later], outcomes)
        common = [s for s in common if s not in later]
    if common:
        await _write(core, session, common, outcomes)
    return [o if o is not None else Refused("not applied") for o in outcomes]


async def _one_by_one(
    core: Core,
    session: AsyncSession,
    batch: list[InboundSms],
    indexes: list[int],
    outcomes: list[Done | Refused | None],
) -> None:
    for i in indexes:
        outcomes[i] = await apply_inbound(core, session, batch[i])
    if indexes:
        await session.flush()


def _sender(raw: str) -> str | None:
    try:
        return normalize_sender(raw)
    except InvalidSender:
        return None  # apply_inbound refuses it with the reason


async def _lines(core: Core, session: AsyncSession, phones: set[str]) -> dict[str, _Line]:
    lines: dict[str, _Line] = {}
    for phone, line_id, org_id, assignee, auto, platform in await session.execute(
        _LINES, {"phones": list(phones)}
    ):
        line = lines.get(phone)
        if line is None:
            plain = not any((auto or {}).get(k) for k in ACTING)
            line = lines[phone] = _Line(line_id, org_id, assignee, plain)
        if platform in core.chat_platforms:
            line.platforms.append(platform)
    for line in lines.values():
        line.platforms.sort()
    return lines


async def _find(session: AsyncSession, common: list[_Sms]) -> list[_Sms]:
    """Fill in the leads and conversations that exist; returns the SMS that need the
    one-by-one path after all (a blocked number, a closed conversation, an assignee to
    mention, a new conversation that gets a default assignee)."""
    rows = await session.execute(
        _LEADS,
        {
            "orgs": list({s.line.organization_id for s in common}),
            "phones": list({s.phone for s in common}),
        },
    )
    found: dict[tuple[int, str], tuple[int, object]] = {}
    conversations: dict[tuple[int, int], tuple[int, str, str | None]] = {}
    for org, phone, lead_id, blocked, line_id, cid, status, notify in rows:
        found[(org, phone)] = (lead_id, blocked)
        if cid is not None:
            conversations[(line_id, lead_id)] = (cid, status, notify)
    later: list[_Sms] = []
    for s in common:
        lead_id, blocked = found.get((s.line.organization_id, s.phone), (None, None))
        if blocked is not None:
            later.append(s)
        s.lead_id = lead_id
    for s in common:
        if s in later:
            continue
        found_conversation = conversations.get((s.line.id, s.lead_id))  # type: ignore[arg-type]
        if found_conversation is None:
            if s.line.default_assignee_id is not None:
                later.append(s)  # its assignee may be mentioned: the full path decides
            continue
        cid, status, notify = found_conversation
        if status != "open" or notify not in (None, "none"):
            later.append(s)
        else:
            s.conversation_id = cid
    return later


async def _write(
    core: Core, session: AsyncSession, common: list[_Sms], outcomes: list[Done | Refused | None]
) -> None:
    now = core.now()
    new_leads = [s for s in common if s.lead_id is None]
    if new_leads:
        # Two SMS of one new lead (on two lines) make one lead.
        keys = list(dict.fromkeys((s.line.organization_id, s.phone) for s in new_leads))
        ids = await session.scalars(
            _NEW_LEADS,
            [
                {"organization_id": org, "phone": phone, "fields": {}, "created_at": now}
                for org, phone in keys
            ],
        )
        made = dict(zip(keys, ids, strict=True))
        for s in new_leads:
            s.lead_id = made[(s.line.organization_id, s.phone)]
    fresh = [s for s in common if s.conversation_id is None]
    if fresh:
        ids = await session.scalars(_NEW_CONVERSATIONS, [_conversation(s, now) for s in fresh])
        for s, conversation_id in zip(fresh, ids, strict=True):
            s.conversation_id, s.new_conversation = conversation_id, True
    known = [s for s in common if not s.new_conversation]
    if known:
        await session.execute(_TOUCH, [{"cid": s.conversation_id, "now": now} for s in known])
    message_ids = list(await session.scalars(_NEW_MESSAGES, [_message(s, now) for s in common]))
    media = [
        {"message_id": mid, "url": m.url, "content_type": m.content_type}
        for s, mid in zip(common, message_ids, strict=True)
        for m in s.sms.media
    ]
    if media:
        await session.execute(_NEW_MEDIA, media)
    deliveries, claimed = await _deliveries(core, session, common, message_ids, now)
    if claimed:
        ids = await session.scalars(_NEW_DELIVERIES_IDS, deliveries)
        _hand_over(core, session, deliveries, list(ids))
    elif deliveries:
        await session.execute(_NEW_DELIVERIES, deliveries)
    if len(claimed) < len(deliveries):
        session.info[queue.QUEUED] = True
    for s, mid in zip(common, message_ids, strict=True):
        outcomes[s.index] = Done("stored", conversation_id=s.conversation_id, message_id=mid)
    log.info("inbound: %d SMS applied together", len(common))


# An SMS in a known open conversation: unread, waiting for an answer, now the latest.
_NOW = bindparam("now", type_=CONVERSATIONS.c.last_message_at.type)
_TOUCH = (
    update(CONVERSATIONS)
    .where(CONVERSATIONS.c.id == bindparam("cid"))
    .values(
        unread_count=CONVERSATIONS.c.unread_count + 1,
        needs_response=True,
        has_inbound=True,
        last_message_at=_NOW,
        first_inbound_at=func.coalesce(CONVERSATIONS.c.first_inbound_at, _NOW),
    )
)


def _conversation(s: _Sms, now: datetime) -> dict[str, object]:
    return {
        "organization_id": s.line.organization_id,
        "line_id": s.line.id,
        "lead_id": s.lead_id,
        "status": "open",
        "assignee_id": None,
        "tags": [],
        "unread_count": 1,
        "needs_response": True,
        "has_inbound": True,
        "first_inbound_at": now,
        "created_at": now,
        "last_message_at": now,
    }


def _message(s: _Sms, now: datetime) -> dict[str, object]:
    return {
        "conversation_id": s.conversation_id,
        "kind": "sms",
        "direction": "in",
        "body": s.sms.body,
        "status": "received",
        "provider_sid": s.sms.provider_sid,
        "source": "sms",
        "created_at": now,
    }


async def _deliveries(
    core: Core, session: AsyncSession, common: list[_Sms], message_ids: list[int], now: datetime
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Per SMS, in this order (as one at a time): its post on each chat platform of its
    line, then a header refresh there unless one is waiting already. Where nothing is
    unfinished in that conversation's lane and this process's worker runs the lane, the
    rows are written claimed for it (the second list), and run once this commits."""
    waiting: set[tuple[int, str]] = set()
    busy: set[tuple[int, str]] = set()
    known = [s.conversation_id for s in common if not s.new_conversation]
    if known:
        for cid, lane, kind, status in await session.execute(_UNFINISHED, {"ids": known}):
            busy.add((cid, lane))
            if kind == queue.CHAT_HEADER and status == "pending":
                waiting.add((cid, lane))
    runner = core.runner
    # One worker: the lanes it runs share its free slots.
    room = {p: runner.room(p) for p in core.chat_platforms} if runner is not None else {}
    lanes, free = {p for p, n in room.items() if n > 0}, max(room.values(), default=0)
    claim = runner.claimed_values(now) if runner is not None else {}
    rows_out: list[dict[str, object]] = []
    claimed: list[dict[str, object]] = []
    for s, mid in zip(common, message_ids, strict=True):
        # One SMS per conversation here: a lane's rows are its post and header refresh,
        # one batch for the chat handler (it absorbs the refresh).
        mine: set[str] = set()
        for platform in s.line.platforms:
            if free > 0 and platform in lanes and (s.conversation_id, platform) not in busy:
                mine.add(platform)
                free -= 1
        for kind in (queue.CHAT_MESSAGE, queue.CHAT_HEADER):
            for platform in s.line.platforms:
                if kind == queue.CHAT_HEADER and (s.conversation_id, platform) in waiting:
                    continue
                row: dict[str, object] = {
                    "kind": kind,
                    "lane": platform,
                    "conversation_id": s.conversation_id,
                    "message_id": mid if kind == queue.CHAT_MESSAGE else None,
                    "payload": {},
                    "status": "pending",
                    "attempts": 0,
                    "run_at": now,
                    "created_at": now,
                    "lease_until": None,
                    "worker": None,
                }
                if platform in mine:
                    row.update(claim)
                    claimed.append(row)
                rows_out.append(row)
    return rows_out, claimed


def _hand_over(
    core: Core, session: AsyncSession, rows: list[dict[str, object]], ids: list[int]
) -> None:
    """After the commit, the claimed rows go to this process's worker, a batch per
    conversation and lane in the order they were written."""
    runner = core.runner
    assert runner is not None
    batches: dict[tuple[object, object], list[Delivery]] = {}
    for row, delivery_id in zip(rows, ids, strict=True):
        if row["status"] == "running":
            batches.setdefault((row["conversation_id"], row["lane"]), []).append(
                Delivery(id=delivery_id, **row)
            )
    session.info.setdefault(AFTER_COMMIT, []).append(lambda: runner.adopt(list(batches.values())))
    session.info[HANDED] = True
