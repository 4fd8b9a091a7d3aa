"""What keeps a teammate's message from being lost between chat and the database.

- Held events: a platform that stops resending once acknowledged (Slack) gets its message
  events written here before the acknowledgement and deleted once handled; a process
  that died in between handles what is left at its next start.
- Catch-up: after downtime, each recently active thread is read back from the platform
  for messages newer than the last one we know, and each goes through the normal thread
  message path with the time it was typed (chat_events: a note is stored, a reply inside
  its undo window goes the normal way, an older one is offered to its author, never sent
  by itself)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.services.views import thread_ref
from bot.types import ThreadRef
from storage.models import ChatPost, Conversation, Message, ReceivedChatEvent, Thread


async def hold(session: AsyncSession, core: Core, platform: str, key: str, payload: Any) -> None:
    """Keep a message event until it is handled (a twin of it already kept is left)."""
    if await session.get(ReceivedChatEvent, (platform, key)) is not None:
        return
    try:
        async with session.begin_nested():
            session.add(
                ReceivedChatEvent(
                    platform=platform, key=key, payload=payload, received_at=core.now()
                )
            )
    except IntegrityError:
        pass


async def release(session: AsyncSession, platform: str, key: str) -> None:
    await session.execute(
        delete(ReceivedChatEvent).where(
            ReceivedChatEvent.platform == platform, ReceivedChatEvent.key == key
        )
    )


async def held(session: AsyncSession, platform: str) -> list[tuple[str, Any]]:
    """Message events kept but not handled (a process died in between), oldest first."""
    rows = await session.execute(
        select(ReceivedChatEvent.key, ReceivedChatEvent.payload)
        .where(ReceivedChatEvent.platform == platform)
        .order_by(ReceivedChatEvent.received_at)
    )
    return [(key, payload) for key, payload in rows]


@dataclass(frozen=True)
class ThreadToRead:
    """A thread to read back after downtime: messages newer than `after` (a post id of
    the platform, or the thread's own id when nothing was posted in it yet)."""

    thread: ThreadRef
    after: str


async def threads_to_read(
    session: AsyncSession, core: Core, platform: str, hours: float
) -> list[ThreadToRead]:
    """Active threads of conversations with a message in the last `hours`, newest first,
    each with the newest post of it we know (ours or a teammate's)."""
    since = core.now() - timedelta(hours=hours)
    # The newest post of each conversation, in the same query (Slack ts and Discord
    # snowflakes sort as numbers: longest first, then by text).
    newest = (
        select(ChatPost.post_id)
        .join(Message, Message.id == ChatPost.message_id)
        .where(
            Message.conversation_id == Thread.conversation_id,
            ChatPost.platform == platform,
        )
        .order_by(func.length(ChatPost.post_id).desc(), ChatPost.post_id.desc())
        .limit(1)
        .correlate(Thread)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Thread, newest)
        .join(Conversation, Conversation.id == Thread.conversation_id)
        .where(
            Thread.platform == platform,
            Thread.active.is_(True),
            Conversation.last_message_at >= since,
        )
        .order_by(Conversation.last_message_at.desc())
    )
    return [ThreadToRead(thread_ref(thread), post or thread.thread_id) for thread, post in rows]
