"""Gateway events from mirrored threads: a teammate's message (reply or note), its edit
or deletion inside the undo window, a 🔒 reaction. Bots, webhooks and our own posts are
ignored (no echo loops); so is anything outside the channels routes point at."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from dataclasses import replace
from datetime import datetime
from typing import Any

import discord

from bot.facade import Facade
from bot.results import Drafted, Noted, Queued, Refused, Result
from bot.types import Actor, ChatRef, ChatReply, OutboundFile
from bridges.discord import render
from bridges.discord.actions import PLATFORM, actor_for, thread_parent
from bridges.discord.components import draft_view

log = logging.getLogger(__name__)
# How long the note naming what made a reply cost more stays (Discord has no ephemeral
# answer to a plain message): the undo window plus time to read it.
COST_NOTE_SECONDS = 60

SMS_MARK = "📱"  # on a teammate's message that goes out as SMS: it is not a note
# How stale the routes added from chat may be (other processes add them too).
ROUTES_FRESH_SECONDS = 1.0
HUMAN_MESSAGES = (discord.MessageType.default, discord.MessageType.reply)


class ThreadEvents:
    def __init__(self, facade: Facade, client: discord.Client, routed: frozenset[int]) -> None:
        self.facade = facade
        self.client = client
        self.routed = routed
        self._chat_routed: frozenset[int] = frozenset()
        self._routes_read = -ROUTES_FRESH_SECONDS
        # One lock per thread: discord.py runs each event as its own task, and a reply,
        # its quick edit and its deletion must reach the core in the order they happened.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def _lock(self, thread_id: str) -> asyncio.Lock:
        lock = self._locks.get(thread_id)
        if lock is None:
            lock = self._locks[thread_id] = asyncio.Lock()
        return lock

    async def _where(self, channel: Any, guild_id: int | None) -> ChatRef | None:
        """The mirrored-thread place of a channel, or None when it is not a thread under a
        routed channel."""
        if guild_id is None:
            return None
        if isinstance(channel, discord.Thread):
            parent, thread = channel.parent_id, channel.id
        else:
            parent, thread = await thread_parent(self.client, channel.id)
        if thread is None or not await self._routed(parent):
            return None
        return ChatRef(PLATFORM, str(parent), str(thread), workspace=str(guild_id))

    async def _routed(self, channel_id: int | None) -> bool:
        """A route points at the channel: one of the start's, or one an admin added from
        chat since (read again at most once a second, so every process sees it)."""
        if channel_id is None or channel_id in self.routed:
            return channel_id is not None
        now = time.monotonic()
        if now - self._routes_read >= ROUTES_FRESH_SECONDS:
            self._routes_read = now
            channels = await self.facade.routed_channels(PLATFORM)
            self._chat_routed = frozenset(int(c) for c in channels if c.isdigit())
        return channel_id in self._chat_routed

    def _is_ours(self, user_id: int) -> bool:
        return self.client.user is not None and user_id == self.client.user.id

    async def on_message(self, message: discord.Message) -> None:
        await self.handle(message)

    async def handle(self, message: discord.Message, typed_at: datetime | None = None) -> None:
        """A teammate's message in a thread: from the gateway, or read back after downtime
        with the time it was typed (`typed_at`)."""
        if (
            message.author.bot
            or message.webhook_id is not None
            or message.type not in HUMAN_MESSAGES
        ):
            return
        where = await self._where(message.channel, message.guild.id if message.guild else None)
        if where is None or where.thread_id is None:
            return
        async with self._lock(where.thread_id):
            if message.attachments:
                # Nothing is downloaded for a stranger or outside our threads.
                allowed = await self.facade.may_share_files(actor_for(message.author), where)
                if allowed is None or not allowed.ok:
                    await self._mark(message, allowed)
                    return
            try:
                files = await _files(message)
            except discord.HTTPException as exc:
                await _reply(
                    message, f"Could not fetch the attachment ({exc.status}); nothing was sent."
                )
                return
            reply = ChatReply(
                actor_for(message.author),
                replace(where, post_id=str(message.id)),
                message.content,
                event_key=str(message.id),
                files=files,
                typed_at=typed_at,
            )
            if typed_at is None:
                outcome = await self.facade.thread_message(reply)
            else:
                outcome = await self.facade.caught_up(reply)
        if outcome is None and typed_at is None:
            await self._unmapped(message, where)
        await self._mark(message, outcome)

    async def _unmapped(self, message: discord.Message, where: ChatRef) -> None:
        """A message in a thread under a card of ours that maps to no conversation (one a
        crash left behind): its author is told it was not sent and where to write."""
        if await self.facade.mirrored(where):
            return  # seen before
        assert where.thread_id is not None
        try:
            starter = await self._partial(where).fetch_message(int(where.thread_id))
        except discord.HTTPException:
            return  # a text channel's thread: its card is in the channel, not found here
        conversation_id = (
            render.card_conversation(starter) if self._is_ours(starter.author.id) else None
        )
        if conversation_id is None:
            return
        self.facade.unmapped_message(PLATFORM)
        live = await self.facade.live_thread(PLATFORM, conversation_id)
        if live is None:
            text = (
                "not sent: this conversation's thread is being set up again; "
                "write here once more in a minute."
            )
        elif live.thread_id != where.thread_id:
            text = (
                "not sent: this thread is no longer linked. The conversation continues "
                f"in <#{live.thread_id}>; write there."
            )
        else:
            return
        await _reply(message, "⚠️ " + text)

    async def _mark(self, message: discord.Message, result: Result | None) -> None:
        try:
            match result:
                case Queued(segments=segments, cost=cost):
                    await message.add_reaction(SMS_MARK)
                    # Only with an undo window: without one the send may already have
                    # moved the status on, and the worker shows that.
                    if self.facade.settings.undo_seconds > 0:
                        await message.add_reaction(render.STAGE_EMOJI["waiting"])
                    if 1 < segments < 10:  # what it costs, on the mark: 2️⃣ = 2 segments
                        await message.add_reaction(f"{segments}\ufe0f\u20e3")
                    if cost:
                        await _reply(message, cost, seconds=COST_NOTE_SECONDS)
                case Noted():
                    await message.add_reaction(render.NOTE_MARK)
                case Refused():
                    # A glance at the thread shows which post never went out; the reply
                    # says why.
                    await message.add_reaction(render.STAGE_EMOJI["canceled"])
                    await _reply(message, result.text)
                case Drafted(typed_while_down=True, conversation_id=int(conversation_id)):
                    await _offer(message, result, conversation_id)
        except discord.HTTPException as exc:
            log.info("could not mark message %s: %s", message.id, exc)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        data: dict[str, Any] = dict(payload.data)
        author = data.get("author") or {}
        if (
            data.get("webhook_id")
            or author.get("bot")
            or "content" not in data
            or not data.get("edited_timestamp")  # an embed unfurl, not a human edit
        ):
            return
        where = await self._where_id(payload.channel_id, payload.guild_id)
        if where is None or where.thread_id is None:
            return
        async with self._lock(where.thread_id):
            result = await self.facade.message_edited(
                replace(where, post_id=str(payload.message_id)), data["content"]
            )
        match result:
            case Refused():
                await self._say(where, f"<@{author.get('id')}> {result.text}", author.get("id"))
            case Noted():
                target = self._partial(where).get_partial_message(payload.message_id)
                await _react(target, render.NOTE_MARK)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        where = await self._where_id(payload.channel_id, payload.guild_id)
        if where is None or where.thread_id is None:
            return
        async with self._lock(where.thread_id):
            outcome = await self.facade.message_deleted(
                replace(where, post_id=str(payload.message_id))
            )
        if outcome is not None:
            await self._say(where, ("🚫 " if outcome.ok else "⚠️ ") + outcome.text)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        if str(payload.emoji) != render.LOCK_EMOJI or self._is_ours(payload.user_id):
            return
        if payload.member is not None and payload.member.bot:
            return
        where = await self._where_id(payload.channel_id, payload.guild_id)
        if where is None or where.thread_id is None:
            return
        name = payload.member.display_name if payload.member else None
        actor = Actor(PLATFORM, str(payload.user_id), name)
        async with self._lock(where.thread_id):
            outcome = await self.facade.lock_reaction(
                actor, replace(where, post_id=str(payload.message_id))
            )
        if isinstance(outcome, Refused):
            await self._say(where, f"<@{payload.user_id}> {outcome.text}", payload.user_id)

    async def _where_id(self, channel_id: int, guild_id: int | None) -> ChatRef | None:
        channel = self.client.get_channel(channel_id) or discord.Object(channel_id)
        return await self._where(channel, guild_id)

    def _partial(self, where: ChatRef) -> discord.PartialMessageable:
        assert where.thread_id is not None
        return self.client.get_partial_messageable(int(where.thread_id))

    async def _say(self, where: ChatRef, text: str, user_id: Any = None) -> None:
        users = [discord.Object(int(user_id))] if user_id else []
        try:
            await self._partial(where).send(
                text[: render.MAX_CONTENT],
                allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=users),
            )
        except discord.HTTPException as exc:
            log.warning("could not post in thread %s: %s", where.thread_id, exc)


async def _files(message: discord.Message) -> tuple[OutboundFile, ...]:
    return tuple(
        [
            OutboundFile(a.filename, a.content_type or "application/octet-stream", await a.read())
            for a in message.attachments
        ]
    )


async def _reply(message: discord.Message, text: str, *, seconds: float | None = None) -> None:
    """A refusal or a note, answered to its author in the thread (no ephemerals outside
    interactions); `seconds`: removed after that long (a note for the moment)."""
    try:
        await message.reply(
            f"{message.author.mention} {text}"[: render.MAX_CONTENT],
            delete_after=seconds,
            mention_author=True,
            allowed_mentions=discord.AllowedMentions(
                everyone=False, roles=False, users=[message.author]
            ),
        )
    except discord.HTTPException as exc:
        log.warning("could not answer message %s: %s", message.id, exc)


async def _offer(message: discord.Message, draft: Drafted, conversation_id: int) -> None:
    """A reply typed while smsbridge was down, too old to send by itself: offered in the
    thread to its author with Send / Edit / Discard (Discord has no ephemeral messages
    outside interactions)."""
    embed = discord.Embed(
        title="⏸️ Typed while smsbridge was down · not sent", description=draft.text
    )
    embed.set_footer(text=f"{draft.describe} · nothing is sent until someone clicks Send")
    try:
        await message.reply(
            f"{message.author.mention} this reply was typed while smsbridge was down and was "
            "not sent. Send it now, or discard it.",
            embed=embed,
            view=draft_view(conversation_id, False),
            allowed_mentions=discord.AllowedMentions(
                everyone=False, roles=False, users=[message.author]
            ),
        )
    except discord.HTTPException as exc:
        log.warning("could not offer message %s: %s", message.id, exc)


async def _react(target: discord.PartialMessage, emoji: str) -> None:
    try:
        await target.add_reaction(emoji)
    except discord.HTTPException as exc:
        log.info("could not react on %s: %s", target.id, exc)


async def catch_up(events: ThreadEvents) -> None:
    """After a gap (a start, or a gateway session that had to start anew): each thread
    active in the last SMSBRIDGE_CATCHUP_HOURS is read for messages newer than the last
    one we know (`GET /channels/{id}/messages?after=`), oldest first, each handled with
    the time it was typed. A message the gateway did deliver is seen before and skipped."""
    read = 0
    for item in await events.facade.threads_to_read(PLATFORM):
        channel = events.client.get_partial_messageable(
            int(item.thread.thread_id), guild_id=int(item.thread.workspace or 0) or None
        )
        try:
            after = discord.Object(int(item.after))
            async for message in channel.history(after=after, limit=200, oldest_first=True):
                if not message.author.bot and message.webhook_id is None:
                    read += 1
                    await events.handle(message, typed_at=message.created_at)
        except discord.HTTPException as exc:
            log.info("thread %s not read back: %s", item.thread.thread_id, exc)
    if read:
        log.info("discord: %d message(s) typed while smsbridge was away were read back", read)
