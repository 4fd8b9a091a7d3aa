"""The blocklist: a blocked number's SMS are kept aside (screened_sms) and counted, but
open no conversation, post nothing and trigger no automation or reminder. A number whose
first text matched a block keyword is marked spam the same way, for a member to review:
unblocking it brings its held texts into a conversation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.domain.phones import InvalidPhone, normalize_phone
from bot.services.access import Denied, check
from bot.services.inbound import store_inbound
from bot.services.portal import Portal, lead_of
from storage.models import Conversation, Lead, Line, Media, Member, ScreenedSms


@dataclass(frozen=True)
class Blocked:
    """A number on the organization's blocklist, with the SMS it sent since."""

    phone: str
    reason: str  # "blocked" | "spam"
    since: datetime | None
    screened: int
    last_text: str


def _phone(raw: str) -> str:
    try:
        return normalize_phone(raw)
    except InvalidPhone as exc:
        raise Denied(f"{exc}. Write the number like +15551234567.") from None


async def _lead(session: AsyncSession, organization_id: int, phone: str) -> Lead | None:
    return await session.scalar(
        select(Lead).where(Lead.organization_id == organization_id, Lead.phone == phone)
    )


async def block(core: Core, session: AsyncSession, actor: Member, raw_phone: str) -> str:
    check(actor, "block")
    phone = _phone(raw_phone)
    lead = await _lead(session, actor.organization_id, phone)
    if lead is None:
        line = await session.scalar(
            select(Line).where(Line.organization_id == actor.organization_id).limit(1)
        )
        if line is None:
            raise Denied("Your team has no line yet, so there is nothing to block.")
        lead = await lead_of(session, line, phone)
    if lead.blocked == "blocked":
        return f"{phone} is already blocked."
    lead.blocked, lead.blocked_at = "blocked", core.now()
    for conversation in await session.scalars(
        select(Conversation).where(Conversation.lead_id == lead.id)
    ):
        # Nobody waits on a blocked number: no reminder, no escalation.
        conversation.needs_response = False
        conversation.unread_count = 0
        portal = Portal(core, session, conversation)
        await portal.event(
            f"{actor.name} blocked this number: its texts are kept aside, not shown.",
            "blocked",
            actor,
        )
        await portal.refresh_header()
    return f"Blocked {phone}: its texts are kept aside and open no thread (`/sms blocked`)."


async def unblock(core: Core, session: AsyncSession, actor: Member, raw_phone: str) -> str:
    check(actor, "block")
    phone = _phone(raw_phone)
    lead = await _lead(session, actor.organization_id, phone)
    if lead is None or lead.blocked is None:
        return f"{phone} is not blocked."
    was_spam = lead.blocked == "spam"
    lead.blocked = lead.blocked_at = None
    released = await _release(core, session, lead) if was_spam else 0
    for conversation in await session.scalars(
        select(Conversation).where(Conversation.lead_id == lead.id)
    ):
        portal = Portal(core, session, conversation)
        await portal.event(f"{actor.name} unblocked this number.", "unblocked", actor)
        await portal.refresh_header()
    if released:
        return f"Unblocked {phone}: its {released} held text(s) are now in a conversation."
    return f"Unblocked {phone}: its next texts open a thread as usual."


async def _release(core: Core, session: AsyncSession, lead: Lead) -> int:
    """A reviewed spam number's held texts become its conversation's messages."""
    held = list(
        await session.scalars(
            select(ScreenedSms).where(ScreenedSms.lead_id == lead.id).order_by(ScreenedSms.id)
        )
    )
    for sms in held:
        line = await session.get(Line, sms.line_id)
        assert line is not None
        portal, _ = await Portal.open(core, session, line, lead)
        portal.conversation.status = "open"
        media = [Media(url=url, content_type="application/octet-stream") for url in sms.media]
        await store_inbound(portal, sms.body, sms.provider_sid, media, sms.received_at)
        await session.delete(sms)
        await portal.refresh_header()
    return len(held)


async def blocked_numbers(session: AsyncSession, actor: Member, limit: int = 50) -> list[Blocked]:
    """The organization's blocked and spam numbers, newest first, with their SMS count."""
    check(actor, "block")
    counts = (
        select(
            ScreenedSms.lead_id,
            func.count(ScreenedSms.id).label("n"),
            func.max(ScreenedSms.id).label("last_id"),
        )
        .group_by(ScreenedSms.lead_id)
        .subquery()
    )
    rows = await session.execute(
        select(Lead.phone, Lead.blocked, Lead.blocked_at, counts.c.n, ScreenedSms.body)
        .outerjoin(counts, counts.c.lead_id == Lead.id)
        .outerjoin(ScreenedSms, ScreenedSms.id == counts.c.last_id)
        .where(Lead.organization_id == actor.organization_id, Lead.blocked.is_not(None))
        .order_by(Lead.blocked_at.desc())
        .limit(limit)
    )
    return [
        Blocked(phone, reason, since, n or 0, (body or "")[:60])
        for phone, reason, since, n, body in rows.all()
    ]


def describe_blocked(items: list[Blocked]) -> str:
    if not items:
        return "No number is blocked. Block one with `/sms block +15551234567`."
    lines = ["*Blocked numbers*"]
    for b in items:
        what = "🚫 blocked" if b.reason == "blocked" else "🗑️ spam, for review"
        last = f' · last: "{b.last_text}"' if b.last_text else ""
        lines.append(f"• {b.phone} — {what} · {b.screened} text(s) kept aside{last}")
    lines.append("`/sms unblock +1…` lets a number through again (spam: its texts appear).")
    return "\n".join(lines)
