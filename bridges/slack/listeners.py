"""Bolt listeners for what people do in Slack: thread messages (replies and notes), edits
and deletes inside the undo window, the :lock: reaction, `@smsbridge <command>` in a
thread, the `/sms` slash command and the App Home tab.

Bolt acks before these run. Replays are harmless: a thread message is deduped by the core
on (channel, ts); edits, deletes and mentions on the Events API `event_id`."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.domain.commands import Command
from bot.ports import Rejected, RetryLater, ThreadGone
from bot.results import (
    Drafted,
    FileReady,
    Listed,
    Noted,
    Queued,
    Refused,
    Reported,
    Result,
)
from bot.types import Actor, ChatRef, ChatReply, OutboundFile
from bridges.slack import render, settings_form, views
from bridges.slack.files import FileRefused
from bridges.slack.host import SlackHost

log = logging.getLogger(__name__)

# Subtypes that are a person writing: plain, with files, or "also send to channel".
HUMAN_SUBTYPES = (None, "file_share", "thread_broadcast")

Answer = Callable[[str, list[dict[str, Any]] | None], Awaitable[None]]


def register(app: AsyncApp, plugin: SlackHost) -> None:
    tracked = plugin.tracked

    @app.event("message")
    @tracked
    async def on_message(event: dict[str, Any], body: dict[str, Any]) -> None:
        subtype = event.get("subtype")
        if subtype == "message_changed":
            await _edited(plugin, event, body)
        elif subtype == "message_deleted":
            await _deleted(plugin, event, body)
        elif subtype in HUMAN_SUBTYPES:
            await thread_message(plugin, event)

    @app.event("reaction_added")
    @tracked
    async def on_reaction(event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        user = event.get("user")
        if event.get("reaction") != render.NOTE_EMOJI or item.get("type") != "message":
            return
        if not user or user == plugin.bot_user_id:
            return
        where = ChatRef("slack", item["channel"], None, item["ts"])
        outcome = await plugin.facade.lock_reaction(Actor("slack", user), where)
        if outcome is not None:
            await plugin.ephemeral(item["channel"], user, outcome.text)

    @app.event("app_mention")
    @tracked
    async def on_mention(event: dict[str, Any], body: dict[str, Any]) -> None:
        user = event.get("user")
        if not user or user == plugin.bot_user_id or event.get("bot_id"):
            return
        if not await plugin.first_event(body):
            return
        channel, thread_ts = event["channel"], event.get("thread_ts")
        mention = re.compile(rf"<@{re.escape(plugin.bot_user_id)}(?:\|[^>]*)?>")
        text = render.from_slack(mention.sub(" ", event.get("text") or "")).strip()

        async def answer(text: str, blocks: list[dict[str, Any]] | None) -> None:
            await plugin.ephemeral(channel, user, text, thread_ts=thread_ts, blocks=blocks)

        where = ChatRef("slack", channel, thread_ts, None, event.get("team"))
        await run_command(plugin, Actor("slack", user), where, text, answer)

    @app.command("/sms")
    @tracked
    async def on_sms(ack: Any, command: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()

        async def answer(text: str, blocks: list[dict[str, Any]] | None) -> None:
            await answer_by_url(respond, text=text, blocks=blocks, response_type="ephemeral")

        channel, user = command.get("channel_id"), command.get("user_id")
        if not channel or not user:
            await answer("This command came without a channel or a user; nothing was done.", None)
            return
        # Slack runs slash commands only at channel level: no thread to act on.
        where = ChatRef("slack", channel, None, None, command.get("team_id"))
        actor = Actor("slack", user, command.get("user_name"))
        trigger = command.get("trigger_id")  # one per invocation: a replay repeats it
        text = command.get("text") or ""
        if text.strip().lower() == "settings":
            await settings_form.open_settings(plugin, actor, where, trigger, answer)
            return
        once = f"command:{trigger}" if trigger else None
        await run_command(plugin, actor, where, text, answer, once=once)

    @app.event("app_home_opened")
    @tracked
    async def on_home(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        user = event["user"]
        homes = await plugin.facade.home(Actor("slack", user))
        view = views.home_view(homes, user, plugin.team_url)
        try:
            await plugin.client.views_publish(user_id=user, view=view)
        except SlackApiError as exc:
            log.warning("slack: home tab not published: %s", exc.response.get("error"))


async def answer_by_url(respond: AsyncRespond, **answer: Any) -> bool:
    """Answer through the request's response_url. Slack sends one with every slash
    command and every click on a message; a request without one (a click in a modal, or
    a forged body) has nowhere to be answered: logged, not raised after the ack."""
    if not respond.response_url:
        log.info("slack: a request without a response_url; its answer is dropped")
        return False
    await respond(**answer)
    return True


async def run_command(
    plugin: SlackHost,
    actor: Actor,
    where: ChatRef,
    command: str | Command,
    answer: Answer,
    *,
    once: str | None = None,
) -> None:
    """Run a command for a member and answer them with what it did: a draft to review
    (told "drafting…" while the AI writes), a list with links to threads, or a sentence.
    `once`: the request's id (a slash command's trigger_id): a replay changes nothing."""
    result = await plugin.facade.command(
        actor, where, command, progress=lambda text: answer(text, None), once=once
    )
    if isinstance(result, Reported):
        await answer(await _post_report(plugin, where, result), None)
        return
    if isinstance(result, FileReady):
        await answer(await plugin.send_file(actor.user_id, result), None)
        return
    await answer(*rendered(plugin, result, where))


async def _post_report(plugin: SlackHost, where: ChatRef, report: Reported) -> str:
    """Slack shows no file to one member only: the report and its chart go to the
    channel (files_upload_v2); the member is told, or shown the figures if it failed."""
    try:
        await plugin.bridge.post_file(where.channel, report.text, report.filename, report.chart)
    except (RetryLater, Rejected, ThreadGone) as exc:
        log.warning("slack: report not posted: %s", exc)
        return f"{report.text}\n(The chart could not be posted here: {exc}.)"
    return "📊 The report and its chart are posted in this channel."


def rendered(
    plugin: SlackHost, result: Result, where: ChatRef
) -> tuple[str, list[dict[str, Any]] | None]:
    match result:
        case Drafted(conversation_id=int(conversation_id)) if where.thread_id:
            blocks = views.draft_blocks(result, conversation_id, where.channel, where.thread_id)
            return result.text, blocks
        case Listed():
            return views.items_text(result, plugin.team_url), None
    return result.text, None


def _in_thread(message: dict[str, Any]) -> str | None:
    """The thread a message replies in, or None for a top-level message."""
    thread_ts = message.get("thread_ts")
    return thread_ts if thread_ts and thread_ts != message.get("ts") else None


def _by_person(plugin: SlackHost, message: dict[str, Any]) -> str | None:
    """The user id of a human author (never our bot, nor any other bot)."""
    user = message.get("user")
    if message.get("bot_id") or not user or user == plugin.bot_user_id:
        return None
    return str(user)


def held_key(plugin: SlackHost, event: dict[str, Any]) -> str | None:
    """The key a teammate's thread message is kept under until handled (None: not one)."""
    if event.get("type") != "message" or event.get("subtype") not in HUMAN_SUBTYPES:
        return None
    if _by_person(plugin, event) is None or _in_thread(event) is None:
        return None
    return f"{event.get('channel')}:{event.get('ts')}"


async def thread_message(
    plugin: SlackHost, event: dict[str, Any], typed_at: datetime | None = None
) -> None:
    """A person's message in a thread (from the Events API, a kept event after a crash,
    or read back after downtime with the time it was typed)."""
    key = held_key(plugin, event)
    try:
        await _thread_message(plugin, event, typed_at)
    finally:
        if key is not None and typed_at is None:
            await plugin.facade.release_chat_event("slack", key)


async def _thread_message(
    plugin: SlackHost, event: dict[str, Any], typed_at: datetime | None
) -> None:
    user = _by_person(plugin, event)
    thread_ts = _in_thread(event)
    text = event.get("text") or ""
    if user is None or thread_ts is None or plugin.mention in text:
        return  # a mention is a command for the bot (app_mention), never an SMS
    channel, ts = event["channel"], event["ts"]
    where = ChatRef("slack", channel, thread_ts, ts, event.get("team"))
    files: tuple[OutboundFile, ...] = ()
    if event.get("files"):
        # Fetch files only for our threads, and only for someone who may write there.
        allowed = await plugin.facade.may_share_files(Actor("slack", user), where)
        if allowed is None:
            await unmapped(plugin, where, user)
            return
        if not allowed.ok:
            await plugin.ephemeral(channel, user, allowed.text, thread_ts=thread_ts)
            return
        try:
            files = await plugin.files.download(event["files"])
        except FileRefused as exc:
            await plugin.ephemeral(channel, user, str(exc), thread_ts=thread_ts)
            return
    reply = ChatReply(
        Actor("slack", user),
        where,
        await plugin.plain_text(text),
        f"{channel}:{ts}",
        files,
        typed_at=typed_at,
    )
    facade = plugin.facade
    result = await (facade.thread_message(reply) if typed_at is None else facade.caught_up(reply))
    match result:
        case None:
            await unmapped(plugin, where, user)
        case Queued(held=held, text=said, cost=cost):
            await _mark(plugin, channel, ts, render.STAGE_EMOJI["waiting"])
            # What it costs, when more than one plain segment: the author can still
            # edit it inside the undo window.
            if held or cost:
                told = f"{said}\n{cost}" if cost else said
                await plugin.ephemeral(channel, user, told, thread_ts=thread_ts)
        case Noted():
            await _mark(plugin, channel, ts, render.NOTE_EMOJI)
        case Drafted(conversation_id=int(conversation_id)):
            blocks = views.draft_blocks(result, conversation_id, channel, thread_ts)
            await plugin.ephemeral(channel, user, result.text, thread_ts=thread_ts, blocks=blocks)
        case Refused():
            # The why is ephemeral and gone on the next reload; the mark stays on the
            # post, so a glance at the thread says this one never went out.
            await _mark(plugin, channel, ts, render.STAGE_EMOJI["canceled"])
            await plugin.ephemeral(channel, user, result.text, thread_ts=thread_ts)
        case _:
            await plugin.ephemeral(channel, user, result.text, thread_ts=thread_ts)


async def unmapped(plugin: SlackHost, where: ChatRef, user: str) -> None:
    """A message the core did not take: seen before, or in a thread that mirrors no
    conversation. Under a card of ours (an old thread, or one a crash left behind) the
    author is told it was not sent, with a link to where the conversation is now."""
    assert where.thread_id is not None
    conversation_id = await plugin.bridge.card_of(where.channel, where.thread_id)
    if (
        conversation_id is None
        or await plugin.facade.first_time("slack", f"unmapped:{where.post_id}") is False
    ):
        return
    plugin.facade.unmapped_message("slack")
    live = await plugin.facade.live_thread("slack", conversation_id)
    if live is not None and live.thread_id != where.thread_id:
        link = render.permalink(plugin.team_url, live.channel, live.thread_id)
        text = (
            "⚠️ Not sent: this thread is no longer linked. The conversation continues "
            f"in <{link}|its live thread>; write there."
        )
    elif live is None:
        text = (
            "⚠️ Not sent: this conversation's thread is being set up again. "
            "Write here once more in a minute."
        )
    else:
        return
    await plugin.ephemeral(where.channel, user, text, thread_ts=where.thread_id)


async def _mark(plugin: SlackHost, channel: str, ts: str, emoji: str) -> None:
    """The first mark on a teammate's own post; the work is done, so a failure to show
    it is only logged (the worker's later status marks try again)."""
    try:
        await plugin.bridge.mark(channel, ts, emoji, only_first=True)
    except (RetryLater, Rejected, ThreadGone) as exc:
        log.warning("slack: could not mark a reply: %s", exc)


async def _edited(plugin: SlackHost, event: dict[str, Any], body: dict[str, Any]) -> None:
    message = event.get("message") or {}
    before = event.get("previous_message") or {}
    user = _by_person(plugin, message)
    thread_ts = _in_thread(message)
    new_text = message.get("text") or ""
    # Unfurls, reactions and thread summaries change a message but not its text.
    if user is None or thread_ts is None or new_text == (before.get("text") or ""):
        return
    if not await plugin.first_event(body):
        return
    where = ChatRef("slack", event["channel"], thread_ts, message["ts"])
    outcome = await plugin.facade.message_edited(where, await plugin.plain_text(new_text))
    if outcome is not None:
        await plugin.ephemeral(event["channel"], user, outcome.text, thread_ts=thread_ts)


async def _deleted(plugin: SlackHost, event: dict[str, Any], body: dict[str, Any]) -> None:
    message = event.get("previous_message") or {}
    user = _by_person(plugin, message)
    thread_ts = _in_thread(message)
    if user is None or thread_ts is None:
        return
    if not await plugin.first_event(body):
        return
    where = ChatRef("slack", event["channel"], thread_ts, message["ts"])
    outcome = await plugin.facade.message_deleted(where)
    if outcome is not None:
        await plugin.ephemeral(event["channel"], user, outcome.text, thread_ts=thread_ts)
