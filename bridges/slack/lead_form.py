"""The "Edit lead" form in Slack: the card's button opens a modal (views.open) holding the
lead's name, email, company and notes; sending it edits the lead through the façade,
which tells the thread what changed. A bad value is shown under its own field and the
form stays open, so nothing typed is lost."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.contacts import profile_problem
from bot.results import Refused
from bot.types import LeadChange, LeadProfile
from bridges.slack.actions import _card_place, _say
from bridges.slack.meta import STALE_BUTTON, STALE_FORM, Stale, actor_of, message_id
from bridges.slack.views import text_field

if TYPE_CHECKING:
    from bridges.slack.plugin import SlackPlugin

LEAD_MODAL = "sms_lead_modal"
EDIT_LEAD = "sms_edit_lead"
# (block and action id, label, max length, multiline)
FIELDS = (
    ("name", "Name", 200, False),
    ("email", "Email", 200, False),
    ("company", "Company", 200, False),
    ("notes", "Notes (the team's only; never sent)", 3000, True),
)


def lead_modal(profile: LeadProfile, channel: str, thread_ts: str | None) -> dict[str, Any]:
    """The form; `channel` and `thread_ts`: where a refusal is told after it closed."""
    blocks: list[dict[str, Any]] = []
    for key, label, limit, multiline in FIELDS:
        blocks.append(
            text_field(key, label, getattr(profile, key), limit=limit, multiline=multiline)
        )
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"📱 {profile.phone}"}],
        }
    )
    return {
        "type": "modal",
        "callback_id": LEAD_MODAL,
        "private_metadata": json.dumps(
            {"conversation": profile.conversation_id, "channel": channel, "thread_ts": thread_ts}
        ),
        "title": {"type": "plain_text", "text": "Edit lead"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def typed(view: dict[str, Any]) -> dict[str, str]:
    """What the form holds now: every field, "" for an emptied one (it clears it)."""
    values = (view.get("state") or {}).get("values") or {}
    out = {}
    for key, *_ in FIELDS:
        value = ((values.get(key) or {}).get(key) or {}).get("value")
        out[key] = value.strip() if isinstance(value, str) else ""
    return out


def field_errors(values: dict[str, str]) -> dict[str, str]:
    """Slack's `errors` for the fields whose value the core would refuse."""
    errors = {}
    for key, value in values.items():
        if problem := profile_problem({key: value or None}):
            errors[key] = problem[:1].upper() + problem[1:] + "."
    return errors


def form_meta(raw: str | None) -> tuple[int, str, str | None]:
    """(conversation, channel, thread_ts) of a form we rendered; Stale otherwise."""
    try:
        meta = json.loads(raw or "")
    except ValueError:
        raise Stale from None
    if not isinstance(meta, dict):
        raise Stale
    conversation, channel, thread_ts = (
        meta.get(k) for k in ("conversation", "channel", "thread_ts")
    )
    if type(conversation) is not int or not isinstance(channel, str):
        raise Stale
    return conversation, channel, thread_ts if isinstance(thread_ts, str) else None


def register(app: AsyncApp, plugin: SlackPlugin) -> None:
    facade = plugin.facade

    @app.action(EDIT_LEAD)
    @plugin.tracked
    async def on_edit_lead(
        ack: Any,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        actor = actor_of(body)
        try:
            conversation = message_id(action.get("value"))
        except Stale:
            await _say(respond, STALE_BUTTON)
            return
        form = await facade.lead_form(actor, conversation)
        if isinstance(form, Refused):
            await _say(respond, form.text)
            return
        where = _card_place(body)
        modal = lead_modal(form, where.channel, where.thread_id)
        try:
            await client.views_open(trigger_id=body["trigger_id"], view=modal)
        except SlackApiError as exc:
            await _say(respond, f"Slack did not open the form ({exc.response.get('error')}).")

    @app.view(LEAD_MODAL)
    @plugin.tracked
    async def on_lead_submit(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = typed(view)
        if errors := field_errors(values):
            await ack(response_action="errors", errors=errors)
            return
        try:
            conversation, channel, thread_ts = form_meta(view.get("private_metadata"))
        except Stale:
            await ack(response_action="errors", errors={"name": STALE_FORM})
            return
        await ack()
        actor = actor_of(body)
        result = await facade.edit_lead(actor, conversation, LeadChange(**values))
        # The form has closed: a refusal (no permission) is told in the thread, privately.
        if isinstance(result, Refused):
            await plugin.ephemeral(channel, actor.user_id, result.text, thread_ts=thread_ts)
