"""Inbox automations that look at time passing: auto-close of conversations idle for
`auto_close_after_days` (an event in the thread) and escalation of a lead waiting
`escalate_after_minutes` for a reply (the `escalate_to` members are mentioned once per
wait). Each conversation is claimed with a conditional update, so two processes running
the same sweep never act on it twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.services.automations import rules_of
from bot.services.claim import claim
from bot.services.portal import Portal
from storage.models import Conversation, Lead, Member, Organization

# Not escalated since the conversation's last message: this wait is not escalated yet.
NOT_ESCALATED = or_(
    Conversation.escalated_at.is_(None), Conversation.escalated_at < Conversation.last_message_at
)
# Escalations look this far back only: an old wait is not brought up out of the blue.
WINDOW = timedelta(days=1)
BATCH = 200  # conversations acted on per organization per sweep


async def sweep(core: Core, now: datetime | None = None) -> tuple[int, int]:
    """Close idle conversations and escalate waiting ones; returns (closed, escalated)."""
    now = now or core.now()

    async def work(session: AsyncSession) -> tuple[int, int]:
        closed = escalated = 0
        for org in await session.scalars(select(Organization)):
            rules = rules_of(org)
            if rules.auto_close_after_days:
                closed += await _auto_close(core, session, org, rules.auto_close_after_days, now)
            if rules.escalate_after_minutes and rules.escalate_to:
                escalated += await _escalate(
                    core, session, org, rules.escalate_after_minutes, rules.escalate_to, now
                )
        return closed, escalated

    return await core.run(work)


async def _auto_close(
    core: Core, session: AsyncSession, org: Organization, days: int, now: datetime
) -> int:
    idle = now - timedelta(days=days)
    stale = list(
        await session.scalars(
            select(Conversation)
            .where(
                Conversation.organization_id == org.id,
                Conversation.status == "open",
                Conversation.last_message_at <= idle,
            )
            .limit(BATCH)
        )
    )
    closed = 0
    for conversation in stale:
        still_open = Conversation.status == "open"
        if not await claim(
            session, Conversation, conversation.id, still_open,
            status="closed", closed_at=now, needs_response=False,
        ):  # fmt: skip
            continue
        await session.refresh(conversation)
        portal = Portal(core, session, conversation)
        await portal.event(f"Closed automatically: no message for {days} days", "closed")
        await portal.refresh_header()
        closed += 1
    return closed


async def _escalate(
    core: Core,
    session: AsyncSession,
    org: Organization,
    minutes: int,
    keys: tuple[str, ...],
    now: datetime,
) -> int:
    due = now - timedelta(minutes=minutes)
    waiting = list(
        await session.scalars(
            select(Conversation)
            .join(Lead, Lead.id == Conversation.lead_id)
            .where(
                Conversation.organization_id == org.id,
                Conversation.status == "open",
                Conversation.needs_response.is_(True),
                Conversation.last_message_at <= due,
                Conversation.last_message_at > due - WINDOW,
                Lead.blocked.is_(None),
                NOT_ESCALATED,
            )
            .limit(BATCH)
        )
    )
    if not waiting:
        return 0
    members = list(
        await session.scalars(
            select(Member).where(Member.organization_id == org.id, Member.key.in_(keys))
        )
    )
    escalated = 0
    for conversation in waiting:
        if not await claim(session, Conversation, conversation.id, NOT_ESCALATED, escalated_at=now):
            continue
        portal = Portal(core, session, conversation)
        who = conversation.assignee
        state = f"assigned to {who.name}" if who else "nobody is assigned"
        waited = int((now - conversation.last_message_at).total_seconds() // 60)
        for member in members:
            portal.notice(
                f"🚨 Escalated: {portal.label} has waited {waited} min for a reply ({state}).",
                mention=member,
            )
        escalated += 1
    return escalated
