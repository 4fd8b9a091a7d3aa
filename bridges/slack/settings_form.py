"""`/sms settings` in Slack: for an admin a modal (views.open) with the organization's time
zone, quiet hours, help text, reminder delay and AI voice; what the TOML declares is shown
and not editable. A value the core refuses is shown under its field and the form stays
open; saving tells the admin, in the channel, what changed."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.results import Invalid, Refused, SettingsForm
from bot.types import Actor, ChatRef
from bridges.slack.host import SlackHost
from bridges.slack.meta import STALE_FORM, Stale, actor_of, team_meta
from bridges.slack.views import text_field

SETTINGS_MODAL = "sms_settings_modal"
# (key, label, hint, multiline, max length)
FIELDS = (
    ("timezone", "Time zone", "An IANA name, like America/Chicago or Europe/Madrid.", False, 64),
    (
        "quiet_hours",
        "Quiet hours",
        "Start and end, like 21:00 08:00: replies wait until the end. Empty: none.",
        False,
        32,
    ),
    ("help_text", "Answer to HELP", "What a lead who texts HELP gets back.", True, 320),
    (
        "remind_after_minutes",
        "Remind after (minutes)",
        "A lead waiting this long gets the assignee a reminder. 0: never.",
        False,
        5,
    ),
    ("voice", "AI voice", "How AI drafts sound, like: warm, brief, no emoji.", True, 300),
    ("business_hours", "Business hours", "One span a line, like Mon-Fri 08:00-18:00. Empty: "
     "always open.", True, 500),
    ("away_message", "Away message", "Texted outside business hours, at most once a lead per "
     "12 hours. Empty: none.", True, 320),
    ("ack_message", "First-text acknowledgement", "Texted once to a new lead's first SMS. "
     "Empty: none.", True, 320),
    ("auto_close_after_days", "Close quiet conversations after (days)", "0: never.", False, 3),
    ("escalate_after_minutes", "Escalate after (minutes)", "Unassigned or unanswered that long: "
     "the members below are mentioned. 0: never.", False, 5),
    ("escalate_to", "Escalate to", "Member keys, like dana, sam (/sms member list).", False, 300),
    ("block_keywords", "Spam words", "A text with one of these is kept aside, like: crypto, "
     "loan approved.", True, 1000),
)  # fmt: skip

Answer = Callable[[str, list[dict[str, Any]] | None], Awaitable[None]]


def settings_modal(form: SettingsForm, where: ChatRef) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    for key, label, hint, multiline, limit in FIELDS:
        value = form.values.get(key, "")
        if key in form.declared:
            text = (
                f"*{label}*: {value or '(none)'} · managed by the file (`{key}` in smsbridge.toml)"
            )
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
            continue
        blocks.append(text_field(key, label, value, limit=limit, multiline=multiline, hint=hint))
    return {
        "type": "modal",
        "callback_id": SETTINGS_MODAL,
        "private_metadata": json.dumps({"channel": where.channel, "team": where.workspace}),
        "title": {"type": "plain_text", "text": "Settings"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"*{form.organization}*"},
            },
            *blocks,
        ],
    }


async def open_settings(
    plugin: SlackHost, actor: Actor, where: ChatRef, trigger_id: str | None, answer: Answer
) -> None:
    """`/sms settings`: the form for an admin, the settings as text for anyone else."""
    form = await plugin.facade.settings_form(actor, where)
    if not isinstance(form, SettingsForm):
        await answer(form.text, None)
        return
    try:
        await plugin.client.views_open(
            trigger_id=trigger_id or "", view=settings_modal(form, where)
        )
    except SlackApiError as exc:
        await answer(f"Slack did not open the form ({exc.response.get('error')}).", None)


def _typed(view: dict[str, Any]) -> dict[str, str]:
    """The editable fields as sent ("" for one emptied)."""
    values = (view.get("state") or {}).get("values") or {}
    out = {}
    for key, *_ in FIELDS:
        block = values.get(key)
        if isinstance(block, dict):  # a field shown as an input (not the file's)
            field = block.get(key)
            value = field.get("value") if isinstance(field, dict) else None
            out[key] = value if isinstance(value, str) else ""
    return out


def _place(raw: str | None) -> ChatRef | None:
    try:
        channel, team = team_meta(raw)
    except Stale:
        return None
    return ChatRef("slack", channel, None, None, team)


def register(app: AsyncApp, plugin: SlackHost) -> None:
    @app.view(SETTINGS_MODAL)
    @plugin.tracked
    async def on_settings_submit(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = _typed(view)
        where = _place(view.get("private_metadata"))
        if where is None and values:
            await ack(response_action="errors", errors={k: STALE_FORM for k in values})
            return
        if where is None or not values:  # every setting is the file's: nothing to save
            await ack()
            return
        actor = actor_of(body)
        result = await plugin.facade.save_settings(actor, where, values)
        if isinstance(result, Invalid):
            await ack(response_action="errors", errors=result.errors)
            return
        await ack()
        text = result.text if isinstance(result, Refused) else f"⚙️ {result.text}"
        await plugin.ephemeral(where.channel, actor.user_id, text)
