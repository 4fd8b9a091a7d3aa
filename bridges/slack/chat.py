"""The outbound side of Slack: the chat worker mirrors conversations through this.

Every chat.postMessage is paced per channel (Slack allows about one a second with short
bursts) and a 429 holds the channel for its Retry-After. Once part of a delivery is in
Slack, a later 429 in the same delivery is waited out here rather than raised: raising
would make the worker post the first part again."""

from __future__ import annotations

import asyncio
import logging
import mimetypes
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.delivery.pacing import Pacer
from bot.ports import Rejected, RetryLater, ThreadGone
from bot.types import ConversationView, MessageView, ThreadRef
from bridges.slack import render
from bridges.slack.errors import CHANNEL_GONE, THREAD_GONE, web_call
from bridges.slack.files import Files

log = logging.getLogger(__name__)

MEMORY = 5000  # recent posts (status marks) and threads (broadcast) kept in memory

# What may have marked a post before a given mark (to take it off without a lookup).
EARLIER_MARKS = {
    render.STAGE_EMOJI["waiting"]: (),
    render.STAGE_EMOJI["sent"]: (render.STAGE_EMOJI["waiting"],),
}
# A card is looked for from a little before its opening was recorded (clocks differ).
CLOCK_SKEW = 60.0
HISTORY_PAGES = 5
PATIENCE = 3  # waits for Retry-After once part of a delivery is posted
MAX_WAIT = 30.0


class SlackChat:
    """ChatBridge for Slack: a thread per conversation under a header card."""

    platform = "slack"

    def __init__(
        self, client: AsyncWebClient, files: Files, *, rate: float = 1.0, burst: float = 4
    ) -> None:
        self.client = client
        self.files = files
        self.pacer = Pacer(rate=rate, burst=burst)
        self.team_id: str | None = None
        self.team_url = "https://slack.com/"
        # Current status mark of recent posts, so a change takes off only the old one.
        self._marks: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._mark_locks = [asyncio.Lock() for _ in range(64)]
        # Threads whose next inbound SMS is also shown in the channel (new or reopened).
        # (Bounded: an outbound-only conversation may never get that inbound SMS.)
        self._broadcast: OrderedDict[str, None] = OrderedDict()
        # Which conversation a thread's parent message is the card of (None: not ours).
        self._cards: OrderedDict[tuple[str, str], int | None] = OrderedDict()

    # ---- ChatBridge ----------------------------------------------------------------

    async def create_thread(
        self, channel: str, conversation: ConversationView, previous: ThreadRef | None
    ) -> ThreadRef:
        text, blocks = render.header_card(conversation)
        try:
            resp = await self._post(
                channel, text=text, blocks=blocks, metadata=render.card_metadata(conversation)
            )
        except ThreadGone as exc:
            # Not a thread to replace: the route names a channel we cannot post in.
            raise Rejected(
                f"cannot post in Slack channel {channel} ({exc}): check the line's "
                "slack_channel and invite the bot",
                code=str(exc),
            ) from None
        ts = resp["ts"]
        ref = ThreadRef(self.platform, resp["channel"], ts, ts, self.team_id)
        self._broadcast_next(ts)
        if previous is not None:
            link = render.permalink(
                self.team_url, previous.channel, previous.header_post_id or previous.thread_id
            )
            note = f"↩️ This conversation continues from <{link}|an earlier thread>."
            await self._patiently(
                lambda: self._post(ref.channel, thread_ts=ts, text=note), required=False
            )
        return ref

    async def find_thread(
        self, channel: str, conversation: ConversationView, since: datetime
    ) -> ThreadRef | None:
        """Our card for `conversation` among the channel's messages since `since` (its
        message metadata names the conversation)."""
        cursor = None
        for _ in range(HISTORY_PAGES):
            resp = await web_call(
                self.pacer,
                self.client.conversations_history,
                CHANNEL_GONE,
                channel=channel,
                oldest=f"{since.timestamp() - CLOCK_SKEW:.6f}",
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            for message in resp.get("messages") or []:
                if render.card_conversation(message) == conversation.id:
                    ts = str(message["ts"])
                    self._broadcast_next(ts)
                    return ThreadRef(self.platform, channel, ts, ts, self.team_id)
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return None

    async def replies(
        self, channel: str, thread_ts: str, after: str, cursor: str | None
    ) -> dict[str, Any]:
        """One page of a thread's messages newer than `after`."""
        resp = await web_call(
            self.pacer,
            self.client.conversations_replies,
            THREAD_GONE,
            channel=channel,
            ts=thread_ts,
            oldest=after,
            limit=200,
            cursor=cursor,
        )
        return dict(resp.data) if isinstance(resp.data, dict) else {}

    async def card_of(self, channel: str, ts: str) -> int | None:
        """The conversation whose header card is the message `ts`, if it is one of ours
        (remembered: threads of a channel that are not ours are asked about once)."""
        if (channel, ts) in self._cards:
            return self._cards[(channel, ts)]
        try:
            resp = await web_call(
                self.pacer,
                self.client.conversations_history,
                CHANNEL_GONE,
                channel=channel,
                latest=ts,
                inclusive=True,
                limit=1,
                include_all_metadata=True,
            )
        except (RetryLater, Rejected, ThreadGone) as exc:
            log.warning("slack: could not read the message a thread hangs on: %s", exc)
            return None
        found = [m for m in resp.get("messages") or [] if m.get("ts") == ts]
        conversation = render.card_conversation(found[0]) if found else None
        self._cards[(channel, ts)] = conversation
        while len(self._cards) > MEMORY:
            self._cards.popitem(last=False)
        return conversation

    async def update_header(self, thread: ThreadRef, conversation: ConversationView) -> None:
        text, blocks = render.header_card(conversation)
        await web_call(
            self.pacer,
            self.client.chat_update,
            THREAD_GONE,
            channel=thread.channel,
            ts=thread.header_post_id or thread.thread_id,
            text=text,
            blocks=blocks,
        )

    async def post_messages(
        self, thread: ThreadRef, conversation: ConversationView, messages: list[MessageView]
    ) -> list[str]:
        post_ids: dict[int, str] = {}
        for post in render.group_posts(messages, conversation):
            ts = await self._patiently(
                lambda post=post: self._post_one(thread, conversation, post),
                required=True,
                started=bool(post_ids),
            )
            for message in post.messages:
                post_ids[message.id] = ts
            await self._after_post(thread, post, ts)
        return [post_ids[m.id] for m in messages]

    async def show_status(self, thread: ThreadRef, post_id: str, message: MessageView) -> None:
        emoji = render.NOTE_EMOJI if message.kind == "note" else None
        emoji = emoji or render.status_emoji(message.status)
        if emoji is not None:
            await self.mark(thread.channel, post_id, emoji)

    async def edit_post(
        self, thread: ThreadRef, post_id: str, conversation: ConversationView, message: MessageView
    ) -> None:
        text = render.post_text(message, conversation)
        await self._on_post(self.client.chat_update, thread, post_id, text=text or " ")

    async def delete_post(self, thread: ThreadRef, post_id: str) -> None:
        await self._on_post(self.client.chat_delete, thread, post_id)

    async def _on_post(
        self,
        method: Callable[..., Awaitable[AsyncSlackResponse]],
        thread: ThreadRef,
        post_id: str,
        **kwargs: Any,
    ) -> None:
        """Change one of our posts; one deleted meanwhile is not a lost thread."""
        try:
            await web_call(
                self.pacer, method, CHANNEL_GONE, channel=thread.channel, ts=post_id, **kwargs
            )
        except Rejected as exc:
            if exc.code != "message_not_found":
                raise

    async def notify(
        self,
        thread: ThreadRef,
        text: str,
        *,
        mention: str | None = None,
        retry_message_id: int | None = None,
    ) -> None:
        # Seen by everyone in the thread (it is the team's inbox); the mention pushes it
        # to the teammate whose SMS it is about.
        if mention:
            text = f"<@{mention}> {text}"
        blocks = render.notice_blocks(text, retry_message_id)
        await self._post(
            text=text, blocks=blocks, channel=thread.channel, thread_ts=thread.thread_id
        )

    async def post_file(
        self, channel: str, text: str, filename: str | None = None, data: bytes | None = None
    ) -> None:
        await self.pacer.wait(channel)
        if data is None or filename is None:
            await web_call(
                self.pacer, self.client.chat_postMessage, frozenset(), channel=channel, text=text
            )
            return
        # files_upload_v2: upload URL, the bytes, then the share with its comment.
        await web_call(
            self.pacer,
            self.client.files_upload_v2,
            frozenset(),
            channel=channel,
            initial_comment=text,
            file_uploads=[{"content": data, "filename": filename, "title": filename}],
        )

    # ---- status marks --------------------------------------------------------------

    async def mark(self, channel: str, ts: str, emoji: str, *, only_first: bool = False) -> None:
        """Put `emoji` on a post as its one status mark. `only_first` marks a post only if
        nothing marked it yet: the "pending" mark of a reply must not land after the
        worker already marked it sent."""
        key = (channel, ts)
        async with self._mark_locks[hash(key) % len(self._mark_locks)]:
            before = self._marks.get(key)
            if before == emoji or (only_first and before is not None):
                return
            if not await self._react("reactions_add", channel, ts, emoji):
                return
            if before is not None:
                stale: tuple[str, ...] = (before,)
            else:
                stale = EARLIER_MARKS.get(
                    emoji, (render.STAGE_EMOJI["waiting"], render.STAGE_EMOJI["sent"])
                )
            for old in stale:
                await self._react("reactions_remove", channel, ts, old)
            self._marks[key] = emoji
            self._marks.move_to_end(key)
            while len(self._marks) > MEMORY:
                self._marks.popitem(last=False)

    async def _react(self, method: str, channel: str, ts: str, name: str) -> bool:
        """Add or remove one reaction; False when the post is gone (deleted in Slack:
        nothing left to mark, which is not a lost thread)."""
        try:
            await web_call(
                self.pacer,
                getattr(self.client, method),
                CHANNEL_GONE,
                channel=channel,
                timestamp=ts,
                name=name,
            )
        except Rejected as exc:
            if exc.code == "message_not_found":
                return False
            if exc.code not in ("already_reacted", "no_reaction"):
                raise
        return True

    # ---- posting ---------------------------------------------------------------------

    async def _post_one(self, thread: ThreadRef, view: ConversationView, post: render.Post) -> str:
        kwargs: dict[str, Any] = {"text": post.text or " "}
        if post.kind == "inbound":
            kwargs.update(username=render.clip(view.lead_display, 80), icon_emoji=render.LEAD_ICON)
            if thread.thread_id in self._broadcast:
                kwargs["reply_broadcast"] = True
        resp = await self._post(thread.channel, thread_ts=thread.thread_id, **kwargs)
        if kwargs.get("reply_broadcast"):
            self._broadcast.pop(thread.thread_id, None)
        return str(resp["ts"])

    def _broadcast_next(self, thread_id: str) -> None:
        self._broadcast[thread_id] = None
        while len(self._broadcast) > MEMORY:
            self._broadcast.popitem(last=False)

    async def _after_post(self, thread: ThreadRef, post: render.Post, ts: str) -> None:
        """What follows a post that is already in Slack: never raises for a retry."""
        for message in post.messages:
            if message.event == "reopened":
                self._broadcast_next(thread.thread_id)
            if post.kind == "outbound" and message.status:
                emoji = render.status_emoji(message.status)
                if emoji:
                    await self._quietly(self.mark(thread.channel, ts, emoji))
            if post.kind == "inbound":
                images = [m for m in message.media if render.is_image(m)]
                if images:
                    await self._quietly(self._upload_images(thread, message, images))

    async def _upload_images(
        self, thread: ThreadRef, message: MessageView, images: list[Any]
    ) -> None:
        """Inbound MMS pictures, uploaded into the thread so they show inline (Slack
        retired files.upload; files_upload_v2 is the way). A picture we cannot fetch
        becomes a link."""
        uploads, failed = [], []
        for i, media in enumerate(images, 1):
            data = await self.files.fetch_media(media.url)
            if data is None:
                failed.append(media)
                continue
            ext = mimetypes.guess_extension(media.content_type) or ""
            name = media.filename or f"mms-{message.id}-{i}{ext}"
            uploads.append({"content": data, "filename": name, "title": name})
        if uploads:
            await self.pacer.wait(thread.channel)
            await self._patiently(
                lambda: web_call(
                    self.pacer,
                    self.client.files_upload_v2,
                    THREAD_GONE,
                    channel=thread.channel,
                    thread_ts=thread.thread_id,
                    file_uploads=uploads,
                ),
                required=False,
            )
        if failed:
            text = "\n".join(render.media_links(failed))
            await self._post(thread.channel, thread_ts=thread.thread_id, text=text)

    async def _post(self, channel: str, **kwargs: Any) -> AsyncSlackResponse:
        await self.pacer.wait(channel)
        kwargs.setdefault("unfurl_links", False)
        kwargs.setdefault("unfurl_media", False)
        return await web_call(
            self.pacer, self.client.chat_postMessage, THREAD_GONE, channel=channel, **kwargs
        )

    async def _patiently(
        self,
        call: Callable[[], Awaitable[Any]],
        *,
        required: bool,
        started: bool = True,
    ) -> Any:
        """Run a call whose delivery already has effects in Slack: a 429 is waited out
        here (a few times) instead of making the worker repeat those effects. With
        `started=False` nothing is in Slack yet, so the worker may retry as usual."""
        for attempt in range(PATIENCE + 1):
            try:
                return await call()
            except RetryLater as exc:
                if not started or attempt == PATIENCE:
                    if required:
                        raise
                    log.warning("slack: gave up an optional step: %s", exc)
                    return None
                await asyncio.sleep(min(exc.after or 1.0, MAX_WAIT))
            except Rejected as exc:
                if required:
                    raise
                log.warning("slack: an optional step was refused: %s", exc)
                return None
        raise AssertionError("unreachable")

    async def _quietly(self, step: Awaitable[Any]) -> None:
        """A finishing touch (status mark, pictures) after the post is in: failing it
        must not make the worker post the messages again."""
        try:
            await step
        except (RetryLater, Rejected, ThreadGone) as exc:
            log.warning("slack: finishing touch failed: %s", exc)
