"""Inbox automations on an inbound SMS: the away message outside business hours, the
acknowledgement of a lead's first SMS, and the screening of blocked and spam numbers.

They run inside the transaction that stores the SMS (persist first, then act): the
automatic text is an ordinary outbound SMS (opt-out, quiet hours, pacing, status marks)
marked `source="auto"`, and the lead's `auto_texted_at` is claimed with a conditional
update, so two processes applying SMS of the same lead never both answer."""

from __future__ import annotations

import logging

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.domain.automations import (
    AWAY_WINDOW,
    Automations,
    AutoText,
    Inbound,
    automatic_text,
    mention_assignee,
    spam_keyword,
)
from bot.domain.hours import parse_business_hours
from bot.services.access import Denied
from bot.services.claim import claim
from bot.services.portal import Portal
from bot.services.replies import ReplyOptions, queue_sms
from bot.types import InboundSms
from storage.models import Conversation, Lead, Line, Message, Organization, ScreenedSms

log = logging.getLogger(__name__)


def rules_of(org: Organization) -> Automations:
    """The organization's automation settings (validated when the file or chat set them)."""
    raw = org.automations or {}
    hours = raw.get("business_hours")
    return Automations(
        business_hours=parse_business_hours(hours, org.timezone) if hours else None,
        away_message=raw.get("away_message", ""),
        ack_message=raw.get("ack_message", ""),
        auto_close_after_days=raw.get("auto_close_after_days", 0),
        escalate_after_minutes=raw.get("escalate_after_minutes", 0),
        escalate_to=tuple(raw.get("escalate_to", ())),
    )


def needs_first(org: Organization) -> bool:
    """Whether the organization has a setting that depends on a lead's first SMS."""
    raw = org.automations or {}
    return bool(raw.get("ack_message") or raw.get("block_keywords"))


async def texted_before(session: AsyncSession, lead: Lead) -> bool:
    """Whether the lead sent this organization an SMS before (any line)."""
    return bool(
        await session.scalar(
            select(
                exists().where(Conversation.lead_id == lead.id, Conversation.has_inbound.is_(True))
            )
        )
    )


async def screen(
    core: Core, session: AsyncSession, line: Line, lead: Lead, sms: InboundSms, *, first: bool
) -> bool:
    """Keep the SMS aside when the number is blocked, or when it is the number's first
    text and matches a block keyword (the number is then marked spam, for review).
    Returns whether it was screened: nothing else happens to it."""
    if lead.blocked is None and first:
        keywords = (line.organization.automations or {}).get("block_keywords", [])
        if spam_keyword(sms.body, keywords):
            lead.blocked, lead.blocked_at = "spam", core.now()
    if lead.blocked is None:
        return False
    session.add(
        ScreenedSms(
            lead_id=lead.id,
            line_id=line.id,
            provider_sid=sms.provider_sid,
            body=sms.body,
            media=[m.url for m in sms.media],
            received_at=core.now(),
        )
    )
    return True


async def answer_automatically(
    core: Core, portal: Portal, org: Organization, *, keyword: bool, first: bool
) -> AutoText | None:
    """Queue the away message or the acknowledgement this SMS calls for, once."""
    rules = rules_of(org)
    if not (rules.away_message or rules.ack_message):
        return None
    lead, now = portal.lead, core.now()
    facts = Inbound(
        at=now,
        keyword=keyword,
        blocked=lead.blocked is not None,
        opted_out=lead.opted_out,
        first_ever=first,
        last_auto_at=lead.auto_texted_at,
    )
    which = automatic_text(rules, facts)
    recent = or_(Lead.auto_texted_at.is_(None), Lead.auto_texted_at <= now - AWAY_WINDOW)
    if which is None or not await claim(portal.session, Lead, lead.id, recent, auto_texted_at=now):
        return None
    text = rules.away_message if which is AutoText.AWAY else rules.ack_message
    try:
        await queue_sms(
            core,
            portal,
            text,
            author=None,
            options=ReplyOptions(source="auto", undo=False),
        )
    except Denied as exc:  # quiet hours in "refuse" mode: the team answers instead
        log.info("automatic %s not sent: %s", which, exc)
        return None
    return which


async def notify_assignee(portal: Portal) -> None:
    """A new SMS in an assigned conversation mentions the assignee, per their `notify`
    setting, so it pushes to their phone even when the thread is not theirs to watch."""
    assignee = portal.conversation.assignee
    if assignee is None or assignee.notify == "none":
        return
    watching = False
    if assignee.notify == "mentions":
        watching = bool(
            await portal.session.scalar(
                select(
                    exists().where(
                        Message.conversation_id == portal.conversation.id,
                        Message.author_id == assignee.id,
                    )
                )
            )
        )
    if mention_assignee(assignee.notify, already_watching=watching):
        portal.notice(f"📨 New SMS from {portal.label} (assigned to you).", mention=assignee)
