"""A lead's profile (name, email, company, notes, custom fields): the one place it is
changed, from chat or from a contacts import, so every change refreshes the chat cards
of the lead's conversations and, when a teammate made it, is an event in the thread."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.services.portal import Portal
from storage.models import Conversation, Lead, Member

PROFILE = ("name", "email", "company", "notes")


@dataclass(frozen=True)
class ProfileChange:
    """New values; None leaves a field as it is, "" clears it. `fields` are merged into
    the custom fields (a "" value removes that field)."""

    name: str | None = None
    email: str | None = None
    company: str | None = None
    notes: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


def apply_change(lead: Lead, change: ProfileChange) -> list[str]:
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
    change: ProfileChange,
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
