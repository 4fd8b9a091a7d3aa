"""Reading the inbox: filters the seed products offer (open, unread, mine, unassigned,
closed, needs response) and search by phone, name, email or the words of messages,
always within one organization."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.phones import InvalidPhone, looks_like_phone, normalize_phone
from bot.results import HOME_FILTERS, Home, InboxItem
from bot.services.access import members_of
from bot.services.views import conversation_view, preview_text
from bot.types import Actor
from storage import search as search_index
from storage.models import Conversation, Lead, Member, Message, Organization, Thread

FILTERS = ("open", "unread", "mine", "unassigned", "closed", "needs-response", "all")


def inbox_query(
    organization_id: int, filter_: str, member: Member | None
) -> Select[tuple[Conversation]]:
    query = select(Conversation).where(Conversation.organization_id == organization_id)
    if filter_ != "all":
        query = query.where(Conversation.status == ("closed" if filter_ == "closed" else "open"))
    if filter_ == "unread":
        query = query.where(Conversation.unread_count > 0)
    elif filter_ == "mine":
        query = query.where(Conversation.assignee_id == (member.id if member else -1))
    elif filter_ == "unassigned":
        query = query.where(Conversation.assignee_id.is_(None))
    elif filter_ == "needs-response":
        query = query.where(Conversation.needs_response.is_(True))
    return query.order_by(Conversation.last_message_at.desc())


async def inbox(
    session: AsyncSession,
    organization_id: int,
    filter_: str,
    member: Member | None,
    *,
    limit: int = 10,
) -> tuple[int, list[InboxItem]]:
    query = inbox_query(organization_id, filter_, member)
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = list(await session.scalars(query.limit(limit)))
    return total or 0, [await _item(session, c) for c in rows]


async def inbox_counts(
    session: AsyncSession, organization_id: int, member: Member | None
) -> dict[str, int]:
    counts = {}
    for name in ("open", "unread", "mine", "unassigned", "needs-response"):
        query = inbox_query(organization_id, name, member).order_by(None)
        counts[name] = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return counts


async def home(session: AsyncSession, actor: Actor, *, limit: int = 3) -> list[Home]:
    """The inbox of every organization `actor` is a member of (usually one)."""
    members = list(await session.scalars(members_of(actor)))
    homes = []
    for member in members:
        org = await session.get(Organization, member.organization_id)
        counts = await inbox_counts(session, member.organization_id, member)
        newest = {
            name: (await inbox(session, member.organization_id, name, member, limit=limit))[1]
            for name in HOME_FILTERS
        }
        homes.append(Home(org.name if org else "", member.name, counts, newest))
    return homes


async def search(
    session: AsyncSession, organization_id: int, text: str, *, limit: int = 10
) -> list[InboxItem]:
    """Conversations whose lead's name, email, company or number, or whose messages'
    words, match `text`, newest first. A message hit shows that message as preview."""
    text = text.strip()
    org = await session.get(Organization, organization_id)
    region = org.region if org else "US"
    if looks_like_phone(text):
        try:
            lead_ids = list(
                await session.scalars(
                    select(Lead.id).where(
                        Lead.organization_id == organization_id,
                        Lead.phone == normalize_phone(text, region),
                    )
                )
            )
        except InvalidPhone:
            digits = "".join(ch for ch in text if ch.isdigit())
            lead_ids = await search_index.lead_ids(session, organization_id, digits, limit=limit)
        return await _items(session, organization_id, lead_ids, [], limit)
    lead_ids = await search_index.lead_ids(session, organization_id, text, limit=limit)
    hits = await search_index.message_hits(session, organization_id, text, limit=limit)
    return await _items(session, organization_id, lead_ids, hits, limit)


async def _items(
    session: AsyncSession,
    organization_id: int,
    lead_ids: list[int],
    hits: list[tuple[int, int]],
    limit: int,
) -> list[InboxItem]:
    """Lead matches (their conversations, by last message) and message matches (by the
    message's time) merged newest first, each conversation once."""
    found: dict[int, tuple[datetime, Conversation, str | None]] = {}
    if lead_ids:
        rows = await session.scalars(
            select(Conversation)
            .where(
                Conversation.organization_id == organization_id,
                Conversation.lead_id.in_(lead_ids),
            )
            .order_by(Conversation.last_message_at.desc())
            .limit(limit)
        )
        for conversation in rows:
            found[conversation.id] = (conversation.last_message_at, conversation, None)
    if hits:
        messages = {
            m.id: m
            for m in await session.scalars(
                select(Message).where(Message.id.in_([m for _, m in hits]))
            )
        }
        for conversation_id, message_id in hits:
            message = messages[message_id]
            when, conversation, _ = found.get(conversation_id, (message.created_at, None, None))
            if conversation is None:
                conversation = await session.get(Conversation, conversation_id)
                assert conversation is not None
            found[conversation_id] = (when, conversation, preview_text(message))
    ranked = sorted(found.values(), key=lambda hit: hit[0], reverse=True)[:limit]
    items = []
    for _, conversation, matched in ranked:
        item = await _item(session, conversation)
        if matched is not None:
            item = InboxItem(replace(item.conversation, preview=matched), item.threads)
        items.append(item)
    return items


async def _item(session: AsyncSession, conversation: Conversation) -> InboxItem:
    threads = await session.execute(
        select(Thread.platform, Thread.channel, Thread.thread_id).where(
            Thread.conversation_id == conversation.id, Thread.active.is_(True)
        )
    )
    return InboxItem(
        await conversation_view(session, conversation, preview=True),
        tuple((p, c, t) for p, c, t in threads),
    )
