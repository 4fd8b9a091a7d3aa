"""Block Kit shown to one member: modals (add note, assign, edit a draft), AI drafts,
conversation lists with links to their threads, and the App Home tab."""

from __future__ import annotations

import json
import uuid
from typing import Any

from bot.results import HOME_FILTERS, Drafted, Home, InboxItem, Listed
from bridges.slack.render import STATE_BADGE, clip, escape, permalink

NOTE_MODAL = "sms_note_modal"
ASSIGN_MODAL = "sms_assign_modal"
DRAFT_MODAL = "sms_draft_modal"
BUTTON_VALUE_MAX = 2000  # Slack's limit for a button's value
SMS_MAX = 1600  # Twilio's limit for one message body, shown as the box's own limit
FILTER_TITLES = {
    "open": "Open",
    "unread": "Unread",
    "mine": "Mine",
    "unassigned": "Unassigned",
    "needs-response": "Needs response",
}


def _text(kind: str, text: str) -> dict[str, Any]:
    return {"type": kind, "text": text}


def place(channel: str, thread_ts: str) -> str:
    """Where a modal's result goes, kept in its private_metadata."""
    return json.dumps({"channel": channel, "thread_ts": thread_ts})


def note_modal(channel: str, thread_ts: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": NOTE_MODAL,
        "private_metadata": place(channel, thread_ts),
        "title": _text("plain_text", "Add a note"),
        "submit": _text("plain_text", "Add note"),
        "close": _text("plain_text", "Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": "note",
                "label": _text("plain_text", "Note (stays in the team, never sent)"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text",
                    "multiline": True,
                    "max_length": 3000,
                },
            }
        ],
    }


def text_field(
    key: str,
    label: str,
    value: str | None,
    *,
    limit: int,
    multiline: bool,
    hint: str | None = None,
) -> dict[str, Any]:
    """An optional text input of a form, its block and action both named `key`."""
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": key,
        "max_length": limit,
        "multiline": multiline,
    }
    if value:
        element["initial_value"] = value[:limit]
    block = {
        "type": "input",
        "block_id": key,
        "optional": True,
        "label": _text("plain_text", label),
        "element": element,
    }
    if hint:
        block["hint"] = _text("plain_text", hint)
    return block


def assign_modal(channel: str, thread_ts: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": ASSIGN_MODAL,
        "private_metadata": place(channel, thread_ts),
        "title": _text("plain_text", "Assign conversation"),
        "submit": _text("plain_text", "Assign"),
        "close": _text("plain_text", "Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": "assignee",
                "label": _text("plain_text", "Teammate"),
                "element": {"type": "users_select", "action_id": "user"},
            }
        ],
    }


def draft_blocks(
    draft: Drafted, conversation_id: int, channel: str, thread_ts: str
) -> list[dict[str, Any]]:
    """A draft only its requester sees, in an editable box: Send, Edit (a modal with more
    room) or Discard."""
    if draft.typed_while_down:
        title = (
            f"⏸️ *Typed while smsbridge was down* · not sent · only you see this · "
            f"{draft.describe}\nSend it now, or discard it."
        )
    elif draft.ai:
        title = f"✨ *AI draft* · only you see this · {draft.describe}"
    else:
        title = f"📋 *Snippet* `{escape(draft.snippet or '')}` · only you see this"
    if draft.unknown_fields:
        title += "\n⚠️ Unknown fields left as typed: " + ", ".join(
            f"`{f}`" for f in draft.unknown_fields
        )
    meta = {
        "conversation": conversation_id,
        "channel": channel,
        "thread_ts": thread_ts,
        "ai": draft.ai,
        # This draft's id: Send, a retry of it, or the Edit box's Send go out once.
        "draft": uuid.uuid4().hex[:16],
    }
    value = json.dumps(meta)
    # The draft rides along for Edit in case Slack's state lacks the box; too long, it
    # does not fit a button value and Edit reads the box only.
    edit_value = json.dumps({**meta, "text": draft.text}, ensure_ascii=False)
    if len(edit_value) > BUTTON_VALUE_MAX:
        edit_value = value
    return [
        {"type": "section", "text": _text("mrkdwn", title)},
        {
            "type": "input",
            "block_id": "draft",
            "label": _text("plain_text", "Edit before sending"),
            "element": {
                "type": "plain_text_input",
                "action_id": "text",
                "multiline": True,
                "initial_value": clip(draft.text, 3000),
            },
        },
        {
            "type": "actions",
            "block_id": "draft_actions",
            "elements": [
                {
                    "type": "button",
                    "text": _text("plain_text", "Send as SMS"),
                    "action_id": "draft_send",
                    "style": "primary",
                    "value": value,
                },
                {
                    "type": "button",
                    "text": _text("plain_text", "Edit"),
                    "action_id": "draft_edit",
                    "value": edit_value,
                },
                {
                    "type": "button",
                    "text": _text("plain_text", "Discard"),
                    "action_id": "draft_discard",
                    "value": "discard",
                },
            ],
        },
    ]


def draft_modal(text: str, meta: dict[str, Any]) -> dict[str, Any]:
    """The draft in a modal to change it, then send it. `meta` is what sending needs
    (conversation, channel, thread_ts, ai) and the response_url of the draft message,
    which becomes the result once sent."""
    ai = bool(meta.get("ai"))
    note = (
        "✨ Sent as AI-assisted, with you as the one who approved it."
        if ai
        else "📋 Sent as your reply."
    )
    return {
        "type": "modal",
        "callback_id": DRAFT_MODAL,
        "private_metadata": json.dumps(meta),
        "title": _text("plain_text", "Edit AI draft" if ai else "Edit snippet"),
        "submit": _text("plain_text", "Send as SMS"),
        "close": _text("plain_text", "Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": "draft",
                "label": _text("plain_text", "SMS to the lead"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text",
                    "multiline": True,
                    "max_length": SMS_MAX,
                    "initial_value": clip(text, SMS_MAX),
                },
            },
            {"type": "context", "elements": [_text("mrkdwn", note)]},
        ],
    }


def item_line(item: InboxItem, team_url: str) -> str:
    view = item.conversation
    name = escape(view.lead_display)
    for platform, channel, thread_id in item.threads:
        if platform == "slack":
            name = f"<{permalink(team_url, channel, thread_id)}|{name}>"
            break
    parts = [name, STATE_BADGE.get(view.state, view.state)]
    if view.unread_count:
        parts.append(f"{view.unread_count} unread")
    parts.append(escape(view.assignee.name) if view.assignee else "unassigned")
    line = "• " + " · ".join(parts)
    if view.preview:
        # Slack shows the time in the reader's own zone.
        when = f"<!date^{int(view.last_message_at.timestamp())}^{{date_short_pretty}} {{time}}|>"
        line += f"\n      _{escape(view.preview)}_ · {when}"
    return line


def items_text(listed: Listed, team_url: str) -> str:
    """`/sms inbox` and `/sms search` answers: the summary and the linked list."""
    lines = [listed.text, *(item_line(i, team_url) for i in listed.items)]
    if listed.total > len(listed.items):
        lines.append(f"_…and {listed.total - len(listed.items)} more._")
    return clip("\n".join(lines), 3000)


def home_view(homes: list[Home], user_id: str, team_url: str) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _text("plain_text", "📱 SMS inbox")},
    ]
    if not homes:
        blocks.append(
            {
                "type": "section",
                "text": _text(
                    "mrkdwn",
                    "You are not a member of any team smsbridge serves yet. Ask an admin to "
                    f"add your Slack member id (`{user_id}`) to smsbridge.toml.",
                ),
            }
        )
    for home in homes:
        summary = " · ".join(
            f"*{FILTER_TITLES[name]}* {home.counts.get(name, 0)}" for name in HOME_FILTERS
        )
        blocks += [
            {"type": "divider"},
            {
                "type": "section",
                "text": _text(
                    "mrkdwn",
                    f"*{escape(home.organization)}* — {escape(home.member_name)}\n{summary}",
                ),
            },
        ]
        for name in HOME_FILTERS:
            items = home.newest.get(name) or []
            lines = [item_line(i, team_url) for i in items] or ["_none_"]
            title = f"*{FILTER_TITLES[name]}* ({home.counts.get(name, 0)})"
            blocks.append(
                {"type": "section", "text": _text("mrkdwn", clip("\n".join([title, *lines])))}
            )
    blocks.append(
        {
            "type": "context",
            "elements": [
                _text(
                    "mrkdwn",
                    "More with `/sms inbox unread` or `/sms search <name>` in a line's channel.",
                ),
            ],
        }
    )
    return {"type": "home", "blocks": blocks[:100]}
