"""The chat worker: mirrors conversations into chat threads through a ChatBridge.

It creates the thread on first need, posts messages in order (coalescing a backlog),
keeps the header card current, marks outbound status and makes copies follow a reply
its author changed on another platform. A thread deleted in chat gets a
fresh one that links the old. When a line's route moves to another channel, conversations
that have a thread keep it (the team is talking there); new ones open in the new channel."""

from __future__ import annotations

import base64
import logging
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.delivery import queue
from bot.delivery.worker import Result
from bot.metrics import THREADS_ADOPTED
from bot.ports import ChatBridge, ThreadGone
from bot.services.views import Prefixed, media_view, message_view, view_of
from bot.types import ConversationView, MediaView, MemberView, MessageView, ThreadRef
from storage.models import (
    ChatPost,
    Conversation,
    Delivery,
    Lead,
    Line,
    Media,
    Member,
    MemberIdentity,
    Message,
    Organization,
    Route,
    Thread,
    ThreadOpening,
)

log = logging.getLogger(__name__)


# Built once, bound per run, on Core (no ORM objects to build): a run reads the
# conversation with its lead, line, organization, assignee (a row per chat account), the
# line's route and the active thread in one statement, and its messages with their
# posts and media in another (bench/e2e.py: seven statements before, three times the CPU).
_PLATFORM = bindparam("platform")
CONVERSATIONS, LEADS, LINES = Conversation.__table__, Lead.__table__, Line.__table__
ORGS, MEMBERS, IDENTITIES = Organization.__table__, Member.__table__, MemberIdentity.__table__
ROUTES, THREADS = Route.__table__, Thread.__table__
_CONVERSATION = (
    select(
        CONVERSATIONS,
        *(LEADS.c[k].label(f"lead_{k}") for k in ("phone", "name", "email", "company")),
        LEADS.c.opted_out.label("lead_opted_out"),
        LINES.c.phone.label("line_phone"),
        LINES.c.label.label("line_label"),
        ORGS.c.name.label("org_name"),
        ORGS.c.timezone.label("org_zone"),
        *(MEMBERS.c[k].label(f"assignee_{k}") for k in ("key", "name", "role")),
        IDENTITIES.c.platform.label("identity_platform"),
        IDENTITIES.c.user_id.label("identity_user"),
        ROUTES.c.channel.label("route_channel"),
        THREADS.c.id.label("thread_row"),
        THREADS.c.workspace.label("thread_workspace"),
        THREADS.c.channel.label("thread_channel"),
        THREADS.c.thread_id.label("thread_post"),
        THREADS.c.header_message_id.label("thread_header"),
    )
    .join(LEADS, LEADS.c.id == CONVERSATIONS.c.lead_id)
    .join(LINES, LINES.c.id == CONVERSATIONS.c.line_id)
    .join(ORGS, ORGS.c.id == CONVERSATIONS.c.organization_id)
    .outerjoin(MEMBERS, MEMBERS.c.id == CONVERSATIONS.c.assignee_id)
    .outerjoin(IDENTITIES, IDENTITIES.c.member_id == MEMBERS.c.id)
    .outerjoin(ROUTES, and_(ROUTES.c.line_id == LINES.c.id, ROUTES.c.platform == _PLATFORM))
    .outerjoin(
        THREADS,
        and_(
            THREADS.c.conversation_id == CONVERSATIONS.c.id,
            THREADS.c.platform == _PLATFORM,
            THREADS.c.active.is_(True),
        ),
    )
    .where(CONVERSATIONS.c.id == bindparam("cid"))
)
# On Core (no ORM objects to build): each message with its post here and its media, a
# row per (post, media) pair.
MESSAGES, POSTS, MEDIA = Message.__table__, ChatPost.__table__, Media.__table__
_WITH_POSTS = (
    select(
        MESSAGES,
        POSTS.c.post_id,
        MEDIA.c.id.label("media_id"),
        MEDIA.c.url.label("media_url"),
        MEDIA.c.token.label("media_token"),
        MEDIA.c.content_type.label("media_type"),
        MEDIA.c.filename.label("media_filename"),
    )
    .outerjoin(POSTS, and_(POSTS.c.message_id == MESSAGES.c.id, POSTS.c.platform == _PLATFORM))
    .outerjoin(MEDIA, MEDIA.c.message_id == MESSAGES.c.id)
    .where(MESSAGES.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(MEDIA.c.id)
)


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
            rows = (
                await session.execute(
                    _CONVERSATION,
                    {"cid": deliveries[0].conversation_id, "platform": self.platform},
                )
            ).all()
            if not rows:
                return Result("canceled", detail="conversation gone")
            row = rows[0]
            if row.route_channel is None:
                return Result("canceled", detail=f"line has no {self.platform} route")
            channel = row.route_channel
            view = view_of(
                row, Prefixed(row, "lead_"), Prefixed(row, "line_"), _assignee(rows),
                row.org_name, row.org_zone,
            )  # fmt: skip
            thread = _thread(self.platform, rows)
            messages, posted = await self._messages(session, deliveries, view)
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

    async def _messages(
        self, session: AsyncSession, deliveries: list[Delivery], view: ConversationView
    ) -> tuple[dict[int, MessageView], dict[int, str]]:
        """The deliveries' messages, and the post each already has on this platform."""
        ids = [d.message_id for d in deliveries if d.message_id]
        if not ids:
            return {}, {}
        rows = await session.execute(_WITH_POSTS, {"ids": ids, "platform": self.platform})
        found: dict[int, Row[Any]] = {}
        media: dict[int, dict[int, MediaView]] = defaultdict(dict)
        posted: dict[int, str] = {}
        for row in rows:
            found.setdefault(row.id, row)
            if row.post_id is not None:
                posted[row.id] = row.post_id
            if row.media_id is not None:
                media[row.id][row.media_id] = media_view(
                    row.media_url, row.media_token, row.media_type, row.media_filename,
                    self.core.media_url,
                )  # fmt: skip
        author_ids = {row.author_id for row in found.values() if row.author_id}
        authors: dict[int | None, Member] = {}
        if author_ids:  # replies typed in chat; an inbound SMS has none
            members = await session.scalars(select(Member).where(Member.id.in_(author_ids)))
            authors = {m.id: m for m in members}
        views = {
            mid: message_view(
                row,
                view.lead_display,
                media=tuple(media[mid].values()),
                author=authors.get(row.author_id),
            )
            for mid, row in found.items()
        }
        return views, posted

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


def _assignee(rows: list[Row[Any]]) -> MemberView | None:
    first = rows[0]
    if first.assignee_id is None:
        return None
    accounts = {r.identity_platform: r.identity_user for r in rows if r.identity_platform}
    return MemberView(
        first.assignee_id, first.assignee_key, first.assignee_name, first.assignee_role,
        dict(sorted(accounts.items())),
    )  # fmt: skip


def _thread(platform: str, rows: list[Row[Any]]) -> ThreadRef | None:
    """The conversation's active thread here (the latest, were there ever two)."""
    row = max(rows, key=lambda r: r.thread_row or 0)
    if row.thread_row is None:
        return None
    return ThreadRef(
        platform, row.thread_channel, row.thread_post, row.thread_header, row.thread_workspace
    )
