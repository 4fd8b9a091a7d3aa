"""The "Edit lead" form in Slack: the card's button opens a modal (views.open) holding the
lead's name, email, company, notes and custom fields; sending it edits the lead through the façade,
which tells the thread what changed. A bad value is shown under its own field and the
form stays open, so nothing typed is lost."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.contacts import profile_problem
from bot.results import Refused
from bot.types import LeadChange, LeadProfile
from bridges.slack import render
from bridges.slack.actions import _card_place, _say
from bridges.slack.host import SlackHost
from bridges.slack.meta import STALE_BUTTON, STALE_FORM, Stale, actor_of, lead_meta, message_id
from bridges.slack.views import text_field

LEAD_MODAL = "sms_lead_modal"
CUSTOM = "field:"  # block id prefix of a custom field's box
MAX_CUSTOM = 10  # custom fields shown in the form (a modal holds 100 blocks)
CUSTOM_LIMIT = 500
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
    # The lead's custom fields (from a contacts import), each its own box; emptied, removed.
    for key, value in sorted(profile.fields.items())[:MAX_CUSTOM]:
        label = render.clip(key, 150)
        blocks.append(text_field(CUSTOM + key, label, value, limit=CUSTOM_LIMIT, multiline=False))
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


def typed(view: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """What the form holds now: the profile's fields and the custom ones, "" for an
    emptied one (it clears it)."""
    values = (view.get("state") or {}).get("values") or {}
    out, custom = {}, {}
    for key, *_ in FIELDS:
        out[key] = _value(values, key)
    for block_id in values:
        if isinstance(block_id, str) and block_id.startswith(CUSTOM):
            custom[block_id.removeprefix(CUSTOM)] = _value(values, block_id)
    return out, custom


def _value(values: dict[str, Any], key: str) -> str:
    block = values.get(key)
    field = block.get(key) if isinstance(block, dict) else None
    value = field.get("value") if isinstance(field, dict) else None
    return value.strip() if isinstance(value, str) else ""


def field_errors(values: dict[str, str]) -> dict[str, str]:
    """Slack's `errors` for the fields whose value the core would refuse."""
    errors = {}
    for key, value in values.items():
        if problem := profile_problem({key: value or None}):
            errors[key] = problem[:1].upper() + problem[1:] + "."
    return errors


def register(app: AsyncApp, plugin: SlackHost) -> None:
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
        values, custom = typed(view)
        if errors := field_errors(values):
            await ack(response_action="errors", errors=errors)
            return
        try:
            conversation, channel, thread_ts = lead_meta(view.get("private_metadata"))
        except Stale:
            await ack(response_action="errors", errors={"name": STALE_FORM})
            return
        await ack()
        actor = actor_of(body)
        change = LeadChange(**values, fields=custom)
        result = await facade.edit_lead(actor, conversation, change)
        # The form has closed: a refusal (no permission) is told in the thread, privately.
        if isinstance(result, Refused):
            await plugin.ephemeral(channel, actor.user_id, result.text, thread_ts=thread_ts)
