"""Who may do what, and finding the conversation a chat place refers to.

Organization isolation lives here: a member acts only within their organization, and a
chat place resolves only to conversations of the organization its route belongs to."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.types import Actor, ChatRef
from storage.models import (
    Conversation,
    Line,
    Member,
    MemberIdentity,
    ProcessedEvent,
    Route,
    Thread,
)

# What each role may do; `limited` members act only on conversations assigned to them.
PERMISSIONS = {
    "admin": {
        "reply",
        "note",
        "assign",
        "close",
        "optout",
        "optin",
        "tag",
        "draft",
        "new",
        "block",
        "report",
        "members",
        "routes",
        "audit",
        "lead",
        "contacts",
        "settings",
    },
    "agent": {
        "reply",
        "note",
        "assign",
        "close",
        "optout",
        "tag",
        "draft",
        "new",
        "block",
        "report",
        "lead",
        "contacts",
    },
    "limited": {"reply", "note", "close", "draft", "tag", "lead"},
}

ACTION_WORDS = {
    "reply": "send SMS replies",
    "note": "add notes",
    "assign": "assign conversations",
    "close": "close or reopen conversations",
    "optout": "opt leads out",
    "optin": "opt leads back in",
    "tag": "tag conversations",
    "draft": "ask for AI drafts",
    "new": "start new conversations",
    "block": "block or unblock numbers",
    "report": "see the team's reports",
    "members": "add, change or remove members",
    "routes": "route lines to channels",
    "audit": "see the admin changes",
    "lead": "edit a lead's name and details",
    "contacts": "export the contacts",
    "settings": "change the team's settings",
}


class Denied(Exception):
    """A refusal with a sentence for the member."""


def check(member: Member, action: str, conversation: Conversation | None = None) -> None:
    if action not in PERMISSIONS.get(member.role, set()):
        raise Denied(
            f"Your role ({member.role}) may not {ACTION_WORDS.get(action, action)}. "
            "Ask an admin of your team."
        )
    if (
        member.role == "limited"
        and conversation is not None
        and conversation.assignee_id != member.id
    ):
        raise Denied(
            "You can act only on conversations assigned to you. "
            "Ask a teammate to assign it to you first."
        )


def members_of(actor: Actor) -> Select[tuple[Member]]:
    """The members (with access) a chat account is, one per organization at most."""
    return (
        select(Member)
        .join(MemberIdentity, MemberIdentity.member_id == Member.id)
        .where(
            MemberIdentity.platform == actor.platform,
            MemberIdentity.user_id == actor.user_id,
            Member.removed_at.is_(None),
        )
    )


async def member_for(session: AsyncSession, organization_id: int, actor: Actor) -> Member:
    member = await session.scalar(
        members_of(actor).where(MemberIdentity.organization_id == organization_id)
    )
    if member is None:
        raise Denied(
            "You are not a member of the team this channel belongs to, so smsbridge cannot "
            "act for you. Ask an admin to add you: `/sms member add @you`."
        )
    return member


async def routes_for_channel(session: AsyncSession, where: ChatRef) -> list[Route]:
    result = await session.scalars(
        select(Route).where(Route.platform == where.platform, Route.channel == where.channel)
    )
    return list(result)


async def routed_channels(session: AsyncSession, platform: str) -> frozenset[str]:
    return frozenset(await session.scalars(select(Route.channel).where(Route.platform == platform)))


async def organization_for_channel(session: AsyncSession, where: ChatRef) -> int | None:
    routes = await routes_for_channel(session, where)
    if not routes:
        return None
    line = await session.get(Line, routes[0].line_id)
    return line.organization_id if line else None


async def member_here(
    session: AsyncSession, actor: Actor, where: ChatRef
) -> tuple[Member, Conversation | None]:
    """The member `actor` is in the organization of this chat place (a conversation's
    thread, or a channel a line routes to), with the thread's conversation if any."""
    conversation = await conversation_for_thread(session, where)
    if conversation is not None:
        org_id: int | None = conversation.organization_id
    else:
        org_id = await organization_for_channel(session, where)
    if org_id is None:
        raise Denied(
            "This channel is not connected to an SMS line. Use `/sms` in a channel that a "
            "line routes to, or in one of its conversation threads."
        )
    return await member_for(session, org_id, actor), conversation


async def conversation_for_thread(session: AsyncSession, where: ChatRef) -> Conversation | None:
    """The conversation mirrored in this thread (current or an older copy of it)."""
    if where.thread_id is None:
        return None
    thread = await session.scalar(
        select(Thread)
        .where(
            Thread.platform == where.platform,
            Thread.channel == where.channel,
            Thread.thread_id == where.thread_id,
        )
        .order_by(Thread.active.desc(), Thread.id.desc())
        .limit(1)
    )
    if thread is None:
        return None
    return await session.get(Conversation, thread.conversation_id)


async def was_done(session: AsyncSession, source: str, key: str) -> bool:
    """Whether a request (a click, a slash command) was recorded done by `mark_done`."""
    return await session.get(ProcessedEvent, (source, f"done:{key}")) is not None


async def mark_done(session: AsyncSession, source: str, key: str) -> None:
    """Record a request done, in the transaction of what it changed. A concurrent twin
    makes the commit fail on the key (IntegrityError): Core.run runs the work again, and
    it then sees the twin's record."""
    session.add(ProcessedEvent(source=source, key=f"done:{key}"))
    await session.flush()


async def first_time(session: AsyncSession, source: str, key: str) -> bool:
    """Record an outside event id; False when it was seen before (a retry)."""
    seen = await session.get(ProcessedEvent, (source, key))
    if seen is not None:
        return False
    try:
        # A savepoint, so a concurrent twin's insert fails alone, not our transaction.
        async with session.begin_nested():
            session.add(ProcessedEvent(source=source, key=key))
    except IntegrityError:
        return False
    return True
