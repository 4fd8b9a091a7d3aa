"""Bolt listeners for interactivity: the header card's buttons and user picker, the Retry
button under a failed SMS, the draft's Send / Edit / Discard, message shortcuts and the
modals they open. Slack gives commands no thread, so these are how members act on a thread."""

from __future__ import annotations

import logging
import re
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.commands import Command
from bot.results import Queued
from bot.types import ChatRef
from bridges.slack import views
from bridges.slack.host import SlackHost
from bridges.slack.listeners import answer_by_url, run_command
from bridges.slack.meta import (
    STALE_BUTTON,
    STALE_FORM,
    Stale,
    actor_of,
    draft_meta,
    message_id,
    place_meta,
)

log = logging.getLogger(__name__)

SHORTCUT_MODALS = {"sms_note": views.note_modal, "sms_assign": views.assign_modal}


def _card_place(body: dict[str, Any]) -> ChatRef:
    """The thread a click belongs to: the header card's own ts is the thread's ts."""
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    thread_ts = (
        container.get("thread_ts") or message.get("thread_ts") or container.get("message_ts")
    )
    return ChatRef("slack", str(channel), thread_ts, None, (body.get("team") or {}).get("id"))


def _message_place(body: dict[str, Any]) -> ChatRef:
    """The thread of the message a shortcut was run on."""
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id")
    thread_ts = message.get("thread_ts") or message.get("ts")
    return ChatRef("slack", str(channel), thread_ts, None, (body.get("team") or {}).get("id"))


async def _say(respond: AsyncRespond, text: str) -> None:
    await answer_by_url(respond, text=text, response_type="ephemeral", replace_original=False)


def register(app: AsyncApp, plugin: SlackHost) -> None:
    tracked = plugin.tracked
    facade = plugin.facade

    async def card_command(body: dict[str, Any], command: Command, respond: AsyncRespond) -> None:
        result = await facade.command(actor_of(body), _card_place(body), command)
        await _say(respond, result.text)

    @app.action("sms_assign")
    @tracked
    async def on_assign(
        ack: Any, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        if action.get("selected_user"):
            await card_command(
                body, Command("assign", {"member": action["selected_user"]}), respond
            )

    @app.action(re.compile(r"^sms_(close|reopen|optout|optin)$"))
    @tracked
    async def on_state(
        ack: Any, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        await card_command(body, Command(action["action_id"].removeprefix("sms_")), respond)

    @app.action("sms_draft")
    @tracked
    async def on_draft(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        actor, where = actor_of(body), _card_place(body)

        async def answer(text: str, blocks: list[dict[str, Any]] | None) -> None:
            await plugin.ephemeral(
                where.channel, actor.user_id, text, thread_ts=where.thread_id, blocks=blocks
            )

        await run_command(plugin, actor, where, Command("draft", {"instructions": ""}), answer)

    @app.action("sms_note")
    @tracked
    async def on_note(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        where = _card_place(body)
        await _open(client, body, views.note_modal(where.channel, where.thread_id or ""))

    @app.action("sms_retry")
    @tracked
    async def on_retry(
        ack: Any, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        actor = actor_of(body)
        try:
            retried = message_id(action.get("value"))
        except Stale:
            await _say(respond, STALE_BUTTON)
            return
        result = await facade.retry(actor, retried)
        if not isinstance(result, Queued):
            await _say(respond, result.text)
            return
        original = (body.get("message") or {}).get("text") or ""
        done = f"{original}\n↻ Retried by <@{actor.user_id}>: {result.text}".strip()
        await answer_by_url(respond, text=done, replace_original=True)

    @app.action("draft_send")
    @tracked
    async def on_draft_send(
        ack: Any, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        try:
            meta = draft_meta(action.get("value"))
        except Stale:
            await _say(respond, STALE_BUTTON)
            return
        text = _value(body, "draft", "text").get("value") or ""
        where = ChatRef("slack", meta.channel, meta.thread_ts)
        result = await facade.send_draft(
            actor_of(body), where, meta.conversation, text, ai=meta.ai, once=meta.once
        )
        if isinstance(result, Queued):
            await answer_by_url(respond, text=f"✅ {result.text}", replace_original=True)
        else:
            await _say(respond, result.text)

    @app.action("draft_edit")
    @tracked
    async def on_draft_edit(
        ack: Any,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        try:
            draft = draft_meta(action.get("value"))
        except Stale:
            await _say(respond, STALE_BUTTON)
            return
        typed = _value(body, "draft", "text").get("value")
        # What is in the box now (the member may have started editing), else the draft.
        text = typed if isinstance(typed, str) and typed.strip() else draft.text
        meta = {
            "conversation": draft.conversation,
            "channel": draft.channel,
            "thread_ts": draft.thread_ts,
            "ai": draft.ai,
            "response_url": body.get("response_url"),
            "draft": draft.draft,
        }
        await _open(client, body, views.draft_modal(text, meta))

    @app.action("draft_discard")
    @tracked
    async def on_draft_discard(ack: Any, respond: AsyncRespond) -> None:
        await ack()
        await answer_by_url(respond, delete_original=True)

    @app.shortcut(re.compile(r"^sms_(note|assign)$"))
    @tracked
    async def on_modal_shortcut(
        ack: Any, body: dict[str, Any], shortcut: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        where = _message_place(body)
        modal = SHORTCUT_MODALS[shortcut["callback_id"]]
        await _open(client, body, modal(where.channel, where.thread_id or ""))

    @app.shortcut("sms_close")
    @tracked
    async def on_close_shortcut(ack: Any, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        result = await facade.command(actor_of(body), _message_place(body), Command("close"))
        await _say(respond, result.text)

    @app.view(views.NOTE_MODAL)
    @tracked
    async def on_note_submit(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        text = (_value(view, "note", "text").get("value") or "").strip()
        if not text:
            await ack(response_action="errors", errors={"note": "Write the note first."})
            return
        await modal_command(ack, body, view, "note", Command("note", {"text": text}))

    @app.view(views.ASSIGN_MODAL)
    @tracked
    async def on_assign_submit(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = _value(view, "assignee", "user").get("selected_user")
        if not user:
            await ack(response_action="errors", errors={"assignee": "Pick a teammate."})
            return
        await modal_command(ack, body, view, "assignee", Command("assign", {"member": user}))

    @app.view(views.DRAFT_MODAL)
    @tracked
    async def on_draft_submit(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        text = _value(view, "draft", "text").get("value") or ""
        if not text.strip():
            await ack(
                response_action="errors",
                errors={"draft": "Write the message first: an empty SMS cannot be sent."},
            )
            return
        try:
            meta = draft_meta(view.get("private_metadata"))
        except Stale:
            await ack(response_action="errors", errors={"draft": STALE_FORM})
            return
        await ack()
        where = ChatRef("slack", meta.channel, meta.thread_ts)
        actor = actor_of(body)
        result = await facade.send_draft(
            actor, where, meta.conversation, text, ai=meta.ai, once=meta.once
        )
        sent = isinstance(result, Queued)
        if sent and await _replace(meta.response_url, f"✅ {result.text}"):
            return
        # A refusal (opted out, quiet hours, no permission) comes after the modal closed,
        # like the note and assign modals' answers; the draft message stays to try again.
        answer = f"✅ {result.text}" if sent else result.text
        await plugin.ephemeral(where.channel, actor.user_id, answer, thread_ts=where.thread_id)

    async def modal_command(
        ack: Any, body: dict[str, Any], view: dict[str, Any], block: str, command: Command
    ) -> None:
        try:
            channel, thread_ts = place_meta(view.get("private_metadata"))
        except Stale:
            await ack(response_action="errors", errors={block: STALE_FORM})
            return
        await ack()
        where = ChatRef("slack", channel, thread_ts)
        actor = actor_of(body)
        result = await facade.command(actor, where, command)
        await plugin.ephemeral(where.channel, actor.user_id, result.text, thread_ts=where.thread_id)


def _value(view: dict[str, Any], block: str, action: str) -> dict[str, Any]:
    """An input's state in a view, or in a block_actions payload (same shape)."""
    values = (view.get("state") or {}).get("values") or {}
    return (values.get(block) or {}).get(action) or {}


async def _open(client: AsyncWebClient, body: dict[str, Any], modal: dict[str, Any]) -> None:
    try:
        await client.views_open(trigger_id=body["trigger_id"], view=modal)
    except SlackApiError as exc:
        log.warning("slack: modal not opened: %s", exc.response.get("error"))


async def _replace(response_url: str | None, text: str) -> bool:
    """The draft message becomes `text`, as after Send. False when that failed (Slack
    keeps a response_url for 30 minutes)."""
    if not response_url:
        return False
    try:
        answer = await AsyncRespond(response_url=response_url)(text=text, replace_original=True)
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("slack: draft not replaced: %s", exc)
        return False
    return answer.status_code == 200
