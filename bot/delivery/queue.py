"""Writing delivery rows. Called inside the transaction of the change that causes them,
so the effect and its cause commit together or not at all."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import QUEUED
from storage.models import ChatPost, Conversation, Delivery, Message

SMS_SEND = "sms.send"
CHAT_MESSAGE = "chat.message"
CHAT_HEADER = "chat.header"
CHAT_STATUS = "chat.status"
CHAT_NOTICE = "chat.notice"
CHAT_REPORT = "chat.report"  # a report and its chart in a channel (no conversation)
CHAT_POST = "chat.post"  # a line in a channel (no conversation): an admin change
# A copy rewritten or taken down: its author edited, locked or deleted it on another platform.
CHAT_EDIT = "chat.edit"


def enqueue(
    session: AsyncSession,
    kind: str,
    lane: str,
    *,
    now: datetime,
    conversation_id: int | None = None,
    message_id: int | None = None,
    payload: dict[str, Any] | None = None,
    run_at: datetime | None = None,
) -> Delivery:
    delivery = Delivery(
        kind=kind,
        lane=lane,
        conversation_id=conversation_id,
        message_id=message_id,
        payload=payload or {},
        run_at=run_at or now,
        created_at=now,
    )
    session.add(delivery)
    session.info[QUEUED] = True
    return delivery


async def mirror_message(
    session: AsyncSession,
    platforms: set[str],
    conversation: Conversation,
    message: Message,
    *,
    now: datetime,
    authored_on: str | None = None,
) -> None:
    """Post a message to every chat mirror of its conversation, except the platform the
    teammate wrote it on (it is already there)."""
    await _to_copies(session, platforms, conversation, message, CHAT_MESSAGE, now, authored_on)


async def mirror_change(
    session: AsyncSession,
    platforms: set[str],
    conversation: Conversation,
    message: Message,
    *,
    now: datetime,
    authored_on: str,
    deleted: bool = False,
) -> None:
    """A teammate changed their reply on `authored_on` (corrected it, turned it into a
    note, deleted it): the copies on the other platforms follow."""
    payload = {"deleted": True} if deleted else None
    await _to_copies(
        session, platforms, conversation, message, CHAT_EDIT, now, authored_on, payload
    )


async def _to_copies(
    session: AsyncSession,
    platforms: set[str],
    conversation: Conversation,
    message: Message,
    kind: str,
    now: datetime,
    authored_on: str | None,
    payload: dict[str, Any] | None = None,
) -> None:
    await session.flush()
    for platform in sorted(platforms & route_platforms(conversation)):
        if platform == authored_on:
            continue
        enqueue(
            session,
            kind,
            platform,
            now=now,
            conversation_id=conversation.id,
            message_id=message.id,
            payload=payload,
        )


async def refresh_header(
    session: AsyncSession, platforms: set[str], conversation: Conversation, *, now: datetime
) -> None:
    """Queue a header card refresh, unless one is already waiting (it will read the
    newest state when it runs)."""
    await session.flush()
    for platform in sorted(platforms & route_platforms(conversation)):
        waiting = await session.scalar(
            select(Delivery.id).where(
                Delivery.conversation_id == conversation.id,
                Delivery.lane == platform,
                Delivery.kind == CHAT_HEADER,
                Delivery.status == "pending",
            )
        )
        if waiting is None:
            enqueue(session, CHAT_HEADER, platform, now=now, conversation_id=conversation.id)


async def show_status(
    session: AsyncSession,
    platforms: set[str],
    conversation: Conversation,
    message: Message,
    *,
    now: datetime,
) -> None:
    """Mark an outbound message's new status on each chat copy."""
    await session.flush()
    for platform in sorted(platforms & route_platforms(conversation)):
        enqueue(
            session,
            CHAT_STATUS,
            platform,
            now=now,
            conversation_id=conversation.id,
            message_id=message.id,
        )


def notice(
    session: AsyncSession,
    platforms: set[str],
    conversation: Conversation,
    text: str,
    *,
    now: datetime,
    mention: dict[str, str | None] | None = None,
    actions: list[str] | None = None,
    message_id: int | None = None,
) -> None:
    """A loud line in the thread (failed send, unknown outcome, held until morning);
    `mention`: the user to mention, by platform."""
    for platform in sorted(platforms & route_platforms(conversation)):
        enqueue(
            session,
            CHAT_NOTICE,
            platform,
            now=now,
            conversation_id=conversation.id,
            message_id=message_id,
            payload={
                "text": text,
                "mention": (mention or {}).get(platform),
                "actions": actions or [],
            },
        )


def route_platforms(conversation: Conversation) -> set[str]:
    return {route.platform for route in conversation.line.routes}


async def link_post(
    session: AsyncSession,
    message_id: int,
    platform: str,
    channel: str,
    post_id: str,
    *,
    authored: bool,
) -> None:
    session.add(
        ChatPost(
            message_id=message_id,
            platform=platform,
            channel=channel,
            post_id=post_id,
            authored=authored,
        )
    )
