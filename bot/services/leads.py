"""A lead's profile (name, email, company, notes, custom fields): the one place it is
changed, from chat or from a contacts import, so every change refreshes the chat cards
of the lead's conversations and, when a teammate made it, is an event in the thread."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.domain.contacts import profile_problem
from bot.results import Done, Refused
from bot.services.access import Denied, check, member_for
from bot.services.portal import Portal
from bot.types import Actor, LeadChange, LeadProfile
from storage.models import Conversation, Lead, Member

PROFILE = ("name", "email", "company", "notes")


def apply_change(lead: Lead, change: LeadChange) -> list[str]:
    """Write `change` into `lead`; the names of the fields that really changed."""
    changed = []
    for key in PROFILE:
        value = getattr(change, key)
        if value is None:
            continue
        value = value.strip() or None
        if getattr(lead, key) != value:
            setattr(lead, key, value)
            changed.append(key)
    if change.fields:
        merged = dict(lead.fields or {})
        for key, value in change.fields.items():
            if value:
                merged[key] = value
            else:
                merged.pop(key, None)
        if merged != (lead.fields or {}):
            lead.fields = merged
            changed.append("fields")
    return changed


def describe_change(lead: Lead, changed: list[str], who: str) -> str:
    """ "Dana renamed the lead to Maria Lopez" / "Dana changed the lead's email, notes"."""
    if changed == ["name"]:
        if lead.name:
            return f"{who} renamed the lead to {lead.name}"
        return f"{who} removed the lead's name"
    words = {"fields": "custom fields"}
    listed = ", ".join(words.get(c, c) for c in changed)
    if "name" in changed and lead.name:
        others = ", ".join(words.get(c, c) for c in changed if c != "name")
        return f"{who} renamed the lead to {lead.name} and changed their {others}"
    return f"{who} changed the lead's {listed}"


async def conversations_of(session: AsyncSession, lead: Lead) -> list[Conversation]:
    return list(
        await session.scalars(
            select(Conversation).where(Conversation.lead_id == lead.id).order_by(Conversation.id)
        )
    )


async def update_profile(
    core: Core,
    session: AsyncSession,
    lead: Lead,
    change: LeadChange,
    *,
    by: Member | None = None,
) -> list[str]:
    """Change the lead's profile; queue a card refresh in each of their conversations
    and, when a teammate made the change (`by`), an event saying what changed."""
    changed = apply_change(lead, change)
    if not changed:
        return changed
    for conversation in await conversations_of(session, lead):
        portal = Portal(core, session, conversation)
        if by is not None:
            await portal.event(describe_change(lead, changed, by.name), "lead_updated", by)
        if {"name", "email", "company"} & set(changed):
            await portal.refresh_header()
    return changed


def profile_of(conversation: Conversation) -> LeadProfile:
    lead = conversation.lead
    return LeadProfile(
        conversation.id,
        lead.phone,
        lead.name,
        lead.email,
        lead.company,
        lead.notes,
        {str(k): str(v) for k, v in (lead.fields or {}).items()},
    )


async def edit_lead(
    core: Core, session: AsyncSession, portal: Portal, member: Member, change: LeadChange
) -> str:
    """A teammate's edit from chat (`/sms name`, the Edit lead form): checked, applied,
    told in the thread. Returns the sentence for the member; raises Denied."""
    check(member, "lead", portal.conversation)
    values = {key: (getattr(change, key) or "").strip() or None for key in PROFILE}
    if problem := profile_problem(values):
        raise Denied(f"Nothing was changed: {problem}.")
    lead = portal.lead
    changed = await update_profile(core, session, lead, change, by=member)
    if not changed:
        return f"{portal.label}: nothing changed."
    return describe_change(lead, changed, "You") + "."


async def lead_form(
    core: Core, session: AsyncSession, actor: Actor, conversation_id: int
) -> LeadProfile | Refused:
    """What the Edit lead form opens with, for a member allowed to edit this lead."""
    try:
        portal = await Portal.load(core, session, conversation_id)
        member = await member_for(session, portal.conversation.organization_id, actor)
        check(member, "lead", portal.conversation)
    except Denied as exc:
        return Refused(str(exc))
    return profile_of(portal.conversation)


async def submit_lead_form(
    core: Core, session: AsyncSession, actor: Actor, conversation_id: int, change: LeadChange
) -> Done | Refused:
    """The Edit lead form sent: the changes are applied and told in the thread."""
    try:
        portal = await Portal.load(core, session, conversation_id)
        member = await member_for(session, portal.conversation.organization_id, actor)
        said = await edit_lead(core, session, portal, member, change)
    except Denied as exc:
        return Refused(str(exc), conversation_id=conversation_id)
    return Done(said, conversation_id=conversation_id)
