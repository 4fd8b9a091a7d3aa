"""The chat worker: mirrors conversations into chat threads through a ChatBridge.

It creates the thread on first need, posts messages in order (coalescing a backlog),
keeps the header card current, marks outbound status and makes copies follow a reply
its author changed on another platform. A thread deleted in chat gets a
fresh one that links the old. When a line's route moves to another channel, conversations
that have a thread keep it (the team is talking there); new ones open in the new channel."""

from __future__ import annotations

import base64
import logging
from datetime import datetime

from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.delivery import queue, run_reads
from bot.delivery.worker import Result
from bot.metrics import THREADS_ADOPTED
from bot.ports import ChatBridge, ThreadGone
from bot.types import ConversationView, MessageView, ThreadRef
from storage.models import ChatPost, Delivery, Thread, ThreadOpening

log = logging.getLogger(__name__)


class ChatMirror:
    """Handles every chat.* delivery of one platform."""

    batch = 10
    # A header refresh queued behind a message (every inbound SMS queues both) runs with
    # it: one claim, one load of the conversation, one close instead of two.
    absorbs = {queue.CHAT_MESSAGE: frozenset({queue.CHAT_HEADER})}

    def __init__(self, core: Core, bridge: ChatBridge) -> None:
        self.core = core
        self.bridge = bridge
        self.platform = bridge.platform

    async def run(self, deliveries: list[Delivery]) -> Result:
        kind = deliveries[0].kind
        if kind in (queue.CHAT_REPORT, queue.CHAT_POST):
            return await self._reports(deliveries)
        refresh = any(d.kind != kind for d in deliveries)  # a header taken along
        deliveries = [d for d in deliveries if d.kind == kind]
        async with self.core.db.session() as session:
            found = await run_reads.conversation(
                session, self.platform, deliveries[0].conversation_id
            )
            if found is None:
                return Result("canceled", detail="conversation gone")
            view, channel, thread = found
            if channel is None:
                return Result("canceled", detail=f"line has no {self.platform} route")
            messages, posted = await run_reads.messages(
                session,
                self.platform,
                [d.message_id for d in deliveries if d.message_id],
                view.lead_display,
                self.core.media_url,
            )
        fresh = False  # a header card made in this run shows `view` already
        if thread is None:
            thread, fresh = await self._create(channel, view, None), True
            if kind == queue.CHAT_HEADER:
                return Result()
        try:
            result = await self._apply(kind, deliveries, thread, view, messages, posted)
        except ThreadGone:
            log.info("thread %s on %s is gone; opening a new one", thread.thread_id, self.platform)
            thread, fresh = await self._replace(thread, channel, view), True
            result = await self._apply(kind, deliveries, thread, view, messages, posted)
        if refresh and not fresh:
            await self._refresh_along(thread, view, result)
        return result

    async def _reports(self, deliveries: list[Delivery]) -> Result:
        for delivery in deliveries:
            p = delivery.payload
            data = base64.b64decode(p["png"]) if "png" in p else None
            await self.bridge.post_file(p["channel"], p["text"], p.get("filename"), data)
        return Result()

    async def _refresh_along(self, thread: ThreadRef, view: ConversationView, done: Result) -> None:
        """The header refresh taken along with posted messages. The posts are in chat, so a
        failure here must not fail the run (the worker would post them again): the
        refresh gets a delivery of its own instead, queued as the run closes."""
        try:
            await self.bridge.update_header(thread, view)
            return
        except Exception as exc:
            log.warning("header refresh on %s failed, queued again: %s", self.platform, exc)
        finish = done.finish

        async def requeue(session: AsyncSession) -> None:
            if finish is not None:
                await finish(session)
            queue.enqueue(
                session,
                queue.CHAT_HEADER,
                self.platform,
                now=self.core.now(),
                conversation_id=view.id,
            )

        done.finish = requeue

    async def _apply(
        self,
        kind: str,
        deliveries: list[Delivery],
        thread: ThreadRef,
        view: ConversationView,
        messages: dict[int, MessageView],
        posted: dict[int, str],
    ) -> Result:
        if kind == queue.CHAT_HEADER:
            await self.bridge.update_header(thread, view)
            return Result()
        if kind == queue.CHAT_MESSAGE:
            todo = [
                messages[d.message_id]
                for d in deliveries
                if d.message_id in messages and d.message_id not in posted
            ]
            if not todo:
                return Result()
            post_ids = await self.bridge.post_messages(thread, view, todo)
            return Result(finish=self._link(thread, todo, post_ids))
        if kind == queue.CHAT_STATUS:
            for delivery in deliveries:
                post_id = posted.get(delivery.message_id or 0)
                message = messages.get(delivery.message_id or 0)
                if post_id and message:
                    await self.bridge.show_status(thread, post_id, message)
            return Result()
        if kind == queue.CHAT_EDIT:
            for delivery in deliveries:
                post_id = posted.get(delivery.message_id or 0)
                message = messages.get(delivery.message_id or 0)
                if post_id is None or message is None:
                    continue  # not posted here yet: the post will show the new state
                if delivery.payload.get("deleted"):
                    await self.bridge.delete_post(thread, post_id)
                else:
                    await self.bridge.edit_post(thread, post_id, view, message)
            return Result()
        if kind == queue.CHAT_NOTICE:
            for delivery in deliveries:
                await self.bridge.notify(
                    thread,
                    delivery.payload.get("text", ""),
                    mention=delivery.payload.get("mention"),
                    retry_message_id=delivery.message_id
                    if "retry" in delivery.payload.get("actions", [])
                    else None,
                )
            return Result()
        return Result("failed", detail=f"unknown chat delivery kind {kind}")

    def _link(self, thread: ThreadRef, todo: list[MessageView], post_ids: list[str]) -> object:
        # A coalesced post carries several messages; a post links to one message (the
        # first), which is what edits, deletes and status marks look up.
        first: dict[str, int] = {}
        for message, post_id in zip(todo, post_ids, strict=True):
            first.setdefault(post_id, message.id)
        rows = [
            {
                "message_id": message_id,
                "platform": self.platform,
                "channel": thread.channel,
                "post_id": post_id,
                "authored": False,
            }
            for post_id, message_id in first.items()
        ]

        async def finish(session: AsyncSession) -> None:
            await session.execute(insert(ChatPost.__table__), rows)

        return finish

    async def _create(
        self, channel: str, view: ConversationView, previous: ThreadRef | None
    ) -> ThreadRef:
        ref = None
        opening = await self._opening(view.id, channel)
        if opening is not None:
            # A process died while posting this card: adopt it if it reached chat.
            ref = await self.bridge.find_thread(channel, view, opening)
            if ref is not None:
                THREADS_ADOPTED.labels(self.platform).inc()
                log.info("adopted an earlier %s thread for conversation %s", self.platform, view.id)
        if ref is None:
            ref = await self.bridge.create_thread(channel, view, previous)
        # Committed at once: a crash after this must not open a second thread.
        async with self.core.db.session() as session, session.begin():
            await session.execute(
                delete(ThreadOpening).where(
                    ThreadOpening.conversation_id == view.id,
                    ThreadOpening.platform == self.platform,
                )
            )
            session.add(
                Thread(
                    conversation_id=view.id,
                    platform=self.platform,
                    workspace=ref.workspace,
                    channel=ref.channel,
                    thread_id=ref.thread_id,
                    header_message_id=ref.header_post_id,
                    active=True,
                    created_at=self.core.now(),
                )
            )
        return ref

    async def _opening(self, conversation_id: int, channel: str) -> datetime | None:
        """Record that a card is about to be posted (committed before the post); returns
        when an earlier, unfinished opening in the same channel began, if there is one."""
        async with self.core.db.session() as session, session.begin():
            row = await session.get(ThreadOpening, (conversation_id, self.platform))
            if row is not None and row.channel == channel:
                return row.started_at
            if row is None:
                row = ThreadOpening(conversation_id=conversation_id, platform=self.platform)
                session.add(row)
            row.channel, row.started_at = channel, self.core.now()
        return None

    async def _replace(self, old: ThreadRef, channel: str, view: ConversationView) -> ThreadRef:
        async with self.core.db.session() as session, session.begin():
            await session.execute(
                update(Thread)
                .where(
                    Thread.conversation_id == view.id,
                    Thread.platform == self.platform,
                    Thread.thread_id == old.thread_id,
                )
                .values(active=False)
            )
        return await self._create(channel, view, old)

    async def lost(self, session: AsyncSession, delivery: Delivery) -> None:
        # Posting again may duplicate a chat message, never lose one (a header card is
        # looked for first: see _create). The mark says, for whoever reads the outbox,
        # that a repeat of this delivery's posts came from a crash.
        delivery.status = "pending"
        delivery.payload = {**delivery.payload, "recovered": True}

    async def gave_up(self, session: AsyncSession, delivery: Delivery, reason: str) -> None:
        log.error("chat delivery %s on %s given up: %s", delivery.id, self.platform, reason)
