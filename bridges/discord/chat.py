"""The outbound side: a ChatBridge over discord.py's REST client, called by the chat
delivery worker. A forum route gets one post per conversation (tags show its state); a
text channel route gets a header message with a thread started from it."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

import aiohttp
import discord

from bot.ports import Rejected
from bot.types import ConversationView, MessageView, ThreadRef
from bridges.discord import render
from bridges.discord.components import header_view, retry_view
from bridges.discord.errors import (
    THREAD_ARCHIVED,
    UNKNOWN_CHANNEL,
    UNKNOWN_WEBHOOK,
    rest_errors,
    unless_deleted,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

CLOCK_SKEW = 60.0  # a card is looked for from a little before its opening was recorded
ARCHIVE_MINUTES = 10080  # the longest Discord allows: a week of quiet before it hides
WEBHOOK_NAME = "smsbridge"


class DiscordChat:
    """ChatBridge for Discord. ThreadRef: channel = the route's forum/text channel,
    thread_id = the post/thread, header_post_id = the header message, workspace = guild."""

    platform = "discord"

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        self._webhooks: dict[int, discord.Webhook | None] = {}
        self._forum_tags: dict[int, dict[str, discord.ForumTag]] = {}
        # What we last applied to each forum post, so an unchanged header costs no PATCH
        # (channel edits have tight rate limits).
        self._applied: dict[int, tuple[tuple[int, ...], str]] = {}
        self._setup_lock = asyncio.Lock()

    # -- ChatBridge ------------------------------------------------------------------

    async def create_thread(
        self, channel: str, conversation: ConversationView, previous: ThreadRef | None
    ) -> ThreadRef:
        # The route's channel itself missing is a configuration problem, not a lost thread.
        async with rest_errors(gone=()):
            parent = await self._channel(int(channel))
            name = render.thread_name(conversation)
            embed, view = render.header_embed(conversation), header_view(conversation)
            if isinstance(parent, discord.ForumChannel):
                tags = await self._tags(parent, render.tag_names(conversation))
                made = await parent.create_thread(
                    name=name,
                    embed=embed,
                    view=view,
                    applied_tags=tags,
                    auto_archive_duration=ARCHIVE_MINUTES,
                    allowed_mentions=render.NO_MENTIONS,
                )
                thread, header = made.thread, made.message
                self._applied[thread.id] = (tuple(sorted(t.id for t in tags)), name)
            elif isinstance(parent, discord.TextChannel):
                header = await parent.send(
                    embed=embed, view=view, allowed_mentions=render.NO_MENTIONS
                )
                thread = await header.create_thread(
                    name=name, auto_archive_duration=ARCHIVE_MINUTES
                )
            else:
                raise Rejected(f"Discord channel {channel} is neither a forum nor a text channel")
        ref = ThreadRef(
            self.platform, channel, str(thread.id), str(header.id), str(parent.guild.id)
        )
        if previous is not None:
            await self.notify(
                ref,
                f"ℹ️ This conversation continues here from an earlier thread "
                f"(<#{previous.thread_id}>) that was deleted or moved.",
            )
        return ref

    async def find_thread(
        self, channel: str, conversation: ConversationView, since: datetime
    ) -> ThreadRef | None:
        """Our card for `conversation` posted in `channel` since `since`: a forum post among
        the guild's active threads, or a header message in a text channel (its thread
        started now if the crash came before that)."""
        since = since - timedelta(seconds=CLOCK_SKEW)
        async with rest_errors(gone=()):
            parent = await self._channel(int(channel))
            guild = str(parent.guild.id)
            if isinstance(parent, discord.ForumChannel):
                posts = [
                    t
                    for t in await parent.guild.active_threads()
                    if t.parent_id == parent.id and discord.utils.snowflake_time(t.id) >= since
                ]
                for post in sorted(posts, key=lambda t: t.id):
                    starter = await self._partial(post.id).fetch_message(post.id)
                    if self._ours(starter) and render.card_conversation(starter) == conversation.id:
                        return ThreadRef(self.platform, channel, str(post.id), str(post.id), guild)
                return None
            if not isinstance(parent, discord.TextChannel):
                return None
            async for header in parent.history(after=since, limit=100, oldest_first=True):
                if self._ours(header) and render.card_conversation(header) == conversation.id:
                    try:
                        thread = await self._channel(header.id)
                    except discord.NotFound:
                        thread = await header.create_thread(
                            name=render.thread_name(conversation),
                            auto_archive_duration=ARCHIVE_MINUTES,
                        )
                    return ThreadRef(self.platform, channel, str(thread.id), str(header.id), guild)
        return None

    def _ours(self, message: discord.Message) -> bool:
        return self.client.user is not None and message.author.id == self.client.user.id

    async def update_header(self, thread: ThreadRef, conversation: ConversationView) -> None:
        async with rest_errors():
            parent = await self._channel(int(thread.channel))
            is_forum = isinstance(parent, discord.ForumChannel)
            # A forum post's header is its starter message, inside the post; a text
            # channel's header is the message the thread was started from, in the channel.
            host = int(thread.thread_id) if is_forum else int(thread.channel)
            header = self._partial(host).get_partial_message(
                int(thread.header_post_id or thread.thread_id)
            )
            await self._unarchived(
                thread,
                lambda: header.edit(
                    embed=render.header_embed(conversation),
                    view=header_view(conversation),
                    allowed_mentions=render.NO_MENTIONS,
                ),
            )
            if isinstance(parent, discord.ForumChannel):
                await self._retag(parent, int(thread.thread_id), conversation)
            else:
                await self._rename(int(thread.thread_id), conversation)

    async def post_messages(
        self, thread: ThreadRef, conversation: ConversationView, messages: list[MessageView]
    ) -> list[str]:
        ids: list[str] = []
        async with rest_errors():
            for post in render.plan_posts(messages, conversation):
                if post.as_lead:
                    post_id = await self._post_as_lead(thread, conversation, post)
                else:
                    mentions = discord.AllowedMentions(
                        everyone=False,
                        roles=False,
                        users=[discord.Object(u) for u in post.mentions],
                    )
                    sent = await self._unarchived(
                        thread,
                        lambda p=post, m=mentions: self._partial(int(thread.thread_id)).send(
                            p.content, embeds=p.embeds, allowed_mentions=m
                        ),
                    )
                    post_id = sent.id
                    await self._first_mark(sent, post.messages[0])
                ids.extend(str(post_id) for _ in post.messages)
        return ids

    async def _first_mark(self, sent: discord.Message, message: MessageView) -> None:
        """A copy of an outbound SMS shows its status from the start (⏳ while it waits),
        as its author's own post does. The copy is in Discord already: failing here must
        not make the worker post it again."""
        if message.kind != "sms" or message.direction != "out":
            return
        emoji = render.status_emoji(message.status)
        if emoji is None:
            return
        try:
            await sent.add_reaction(emoji)
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("discord: could not mark a copy's status: %s", exc)

    async def show_status(self, thread: ThreadRef, post_id: str, message: MessageView) -> None:
        emoji = render.status_emoji(message.status)
        if emoji is None:
            return
        target = self._partial(int(thread.thread_id)).get_partial_message(int(post_id))
        async with rest_errors(gone=(UNKNOWN_CHANNEL,)), unless_deleted():
            await self._mark(target, emoji)

    async def edit_post(
        self, thread: ThreadRef, post_id: str, conversation: ConversationView, message: MessageView
    ) -> None:
        target = self._partial(int(thread.thread_id)).get_partial_message(int(post_id))
        content = render.plan_posts([message], conversation)[0].content
        async with rest_errors(gone=(UNKNOWN_CHANNEL,)), unless_deleted():
            await self._unarchived(thread, lambda: target.edit(content=content))
            if message.kind == "note":
                await self._mark(target, None)  # a note was never sent: no status left

    async def delete_post(self, thread: ThreadRef, post_id: str) -> None:
        target = self._partial(int(thread.thread_id)).get_partial_message(int(post_id))
        async with rest_errors(gone=(UNKNOWN_CHANNEL,)), unless_deleted():
            await self._unarchived(thread, target.delete)

    async def _mark(self, target: discord.PartialMessage, emoji: str | None) -> None:
        """Make `emoji` our one status reaction on a post (None: no status at all)."""
        current = await target.fetch()
        ours = {
            str(r.emoji)
            for r in current.reactions
            if r.me and str(r.emoji) in render.ALL_STATUS_EMOJI
        }
        if emoji is not None and emoji not in ours:
            await target.add_reaction(emoji)
        assert self.client.user is not None
        for stale in ours - {emoji}:
            await target.remove_reaction(stale, self.client.user)

    async def notify(
        self,
        thread: ThreadRef,
        text: str,
        *,
        mention: str | None = None,
        retry_message_id: int | None = None,
    ) -> None:
        # Seen by everyone in the thread; the mention pushes it to the teammate concerned.
        content = f"<@{mention}> {text}" if mention else text
        mentions = discord.AllowedMentions(
            everyone=False, roles=False, users=[discord.Object(int(mention))] if mention else []
        )
        view = retry_view(retry_message_id) if retry_message_id else discord.utils.MISSING
        async with rest_errors():
            await self._unarchived(
                thread,
                lambda: self._partial(int(thread.thread_id)).send(
                    content[: render.MAX_CONTENT], view=view, allowed_mentions=mentions
                ),
            )

    async def post_file(
        self, channel: str, text: str, filename: str | None = None, data: bytes | None = None
    ) -> None:
        file = discord.File(io.BytesIO(data), filename=filename) if data and filename else None
        async with rest_errors():
            await self._partial(int(channel)).send(
                text[: render.MAX_CONTENT],
                **({"file": file} if file else {}),
                allowed_mentions=discord.AllowedMentions.none(),
            )

    # -- helpers -----------------------------------------------------------------------

    def _partial(self, channel_id: int) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(channel_id)

    async def _channel(self, channel_id: int) -> discord.abc.GuildChannel | discord.Thread:
        channel = self.client.get_channel(channel_id)
        if channel is None:
            fetched = await self.client.fetch_channel(channel_id)
            if isinstance(fetched, discord.abc.PrivateChannel):
                raise Rejected(f"Discord channel {channel_id} is not in a server")
            channel = fetched
        return channel  # type: ignore[return-value]

    async def _unarchived(self, thread: ThreadRef, call: Callable[[], Awaitable[T]]) -> T:
        """Run a REST call against a thread, reopening it first if Discord archived it
        after a quiet week."""
        try:
            return await call()
        except discord.HTTPException as exc:
            if exc.code != THREAD_ARCHIVED:
                raise
        await self.client.http.edit_channel(int(thread.thread_id), archived=False)
        return await call()

    async def _tags(self, forum: discord.ForumChannel, names: list[str]) -> list[discord.ForumTag]:
        known = self._forum_tags.get(forum.id)
        if known is None:
            known = {t.name.lower(): t for t in forum.available_tags}
        if any(n.lower() not in known for n in names):
            async with self._setup_lock:
                known = await self._create_tags(forum, known)
        self._forum_tags[forum.id] = known
        return [known[n.lower()] for n in names if n.lower() in known]

    async def _create_tags(
        self, forum: discord.ForumChannel, known: dict[str, discord.ForumTag]
    ) -> dict[str, discord.ForumTag]:
        wanted = [
            discord.ForumTag(name=name, emoji=emoji)
            for name, emoji in render.STATE_TAGS.items()
            if name.lower() not in known
        ]
        try:
            updated = await forum.edit(available_tags=[*known.values(), *wanted])
        except discord.HTTPException as exc:
            # Full forum (20 tags) or no Manage Channels: posts still work, untagged.
            log.warning("could not add state tags to forum %s: %s", forum.id, exc)
            return known
        return {t.name.lower(): t for t in updated.available_tags}

    async def _retag(
        self, forum: discord.ForumChannel, thread_id: int, conversation: ConversationView
    ) -> None:
        tags = await self._tags(forum, render.tag_names(conversation))
        wanted = (tuple(sorted(t.id for t in tags)), render.thread_name(conversation))
        if self._applied.get(thread_id) == wanted:
            return
        await self.client.http.edit_channel(
            thread_id, applied_tags=[str(t) for t in wanted[0]], name=wanted[1]
        )
        self._applied[thread_id] = wanted

    async def _rename(self, thread_id: int, conversation: ConversationView) -> None:
        """A text channel's thread is named after the lead too (renamed with them)."""
        wanted = ((), render.thread_name(conversation))
        if self._applied.get(thread_id) == wanted:
            return
        known = self.client.get_channel(thread_id)
        if known is None or getattr(known, "name", None) != wanted[1]:
            await self.client.http.edit_channel(thread_id, name=wanted[1])
        self._applied[thread_id] = wanted

    async def _webhook(self, parent: discord.abc.GuildChannel) -> discord.Webhook | None:
        """Our webhook on the route channel (made once), or None without Manage Webhooks."""
        if parent.id in self._webhooks:
            return self._webhooks[parent.id]
        async with self._setup_lock:
            if parent.id not in self._webhooks:
                self._webhooks[parent.id] = await self._find_or_create_webhook(parent)
        return self._webhooks[parent.id]

    async def _find_or_create_webhook(
        self, parent: discord.abc.GuildChannel
    ) -> discord.Webhook | None:
        assert isinstance(parent, discord.ForumChannel | discord.TextChannel)
        me = self.client.user
        try:
            for hook in await parent.webhooks():
                if (
                    hook.token
                    and hook.user is not None
                    and me is not None
                    and hook.user.id == me.id
                ):
                    return hook
            return await parent.create_webhook(name=WEBHOOK_NAME)
        except discord.Forbidden:
            log.warning("no Manage Webhooks in %s: inbound SMS are posted as the bot", parent.id)
            return None

    async def _post_as_lead(
        self, thread: ThreadRef, conversation: ConversationView, post: render.Post
    ) -> int:
        """Inbound SMS appear as written by the lead: through the channel's webhook with
        the lead's name, or as a bot post with the lead as embed author."""
        parent = await self._channel(int(thread.channel))
        hook = await self._webhook(parent)  # type: ignore[arg-type]
        if hook is None:
            embed = discord.Embed(description=post.content)
            embed.set_author(name=render.lead_username(conversation))
            sent = await self._unarchived(
                thread,
                lambda: self._partial(int(thread.thread_id)).send(
                    embeds=[embed, *post.embeds][: render.MAX_EMBEDS],
                    allowed_mentions=render.NO_MENTIONS,
                ),
            )
            return sent.id
        try:
            return await self._webhook_send(thread, conversation, post, hook)
        except discord.NotFound as exc:
            if exc.code != UNKNOWN_WEBHOOK:
                raise
        # Someone deleted our webhook: make a new one.
        self._webhooks.pop(parent.id, None)
        hook = await self._webhook(parent)  # type: ignore[arg-type]
        assert hook is not None
        return await self._webhook_send(thread, conversation, post, hook)

    async def _webhook_send(
        self,
        thread: ThreadRef,
        conversation: ConversationView,
        post: render.Post,
        hook: discord.Webhook,
    ) -> int:
        sent = await self._unarchived(
            thread,
            lambda: hook.send(
                post.content,
                username=render.lead_username(conversation),
                embeds=post.embeds,
                thread=discord.Object(int(thread.thread_id)),
                allowed_mentions=render.NO_MENTIONS,
                wait=True,
            ),
        )
        return sent.id
