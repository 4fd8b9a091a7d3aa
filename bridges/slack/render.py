"""Block Kit for what smsbridge posts in a conversation's thread: the header card, the
posts that mirror messages, notices, and Slack text escaping in both directions."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.sms_status import Stage, stage
from bot.types import ConversationView, MediaView, MessageView

PLATFORM = "slack"

# Reactions that mark an outbound SMS's stage on its chat copy (bot/domain/sms_status.py).
STAGE_EMOJI: dict[Stage, str] = {
    "waiting": "hourglass_flowing_sand",
    "sent": "outbox_tray",
    "delivered": "white_check_mark",
    "failed": "x",
    "canceled": "no_entry_sign",
    "unknown": "grey_question",
}


def status_emoji(status: str | None) -> str | None:
    """The reaction for an SMS's status; None where it has none (not an outbound SMS)."""
    found = stage(status)
    return None if found is None else STAGE_EMOJI[found]


NOTE_EMOJI = "lock"

STATE_BADGE = {
    "Open": "🟢 Open",
    "Closed": "⚪ Closed",
    "Outbound only": "🔵 Outbound only",
    "Needs response": "🟠 Needs response",
}
EVENT_EMOJI = {
    "assigned": "👤",
    "unassigned": "👤",
    "closed": "✅",
    "reopened": "🔄",
    "opted_out": "🚫",
    "opted_in": "🔔",
    "tagged": "🏷️",
    "untagged": "🏷️",
}
LEAD_ICON = ":iphone:"
MAX_SECTION = 2900  # Slack refuses section text over 3000 characters

_LINK = re.compile(r"<((?:https?|mailto|tel):[^|>]*)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#[A-Z0-9]+\|([^>]*)>")
USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")


def escape(text: str) -> str:
    """Text from outside (an SMS) shown in Slack: no accidental mentions or links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def from_slack(text: str, names: dict[str, str] | None = None) -> str:
    """What a person typed in Slack, as plain text to send by SMS: links lose their
    angle brackets, user and special mentions their markup (a user becomes @name, from
    `names` by id), entities are decoded."""

    def user(m: re.Match[str]) -> str:
        return "@" + (m.group(2) or (names or {}).get(m.group(1)) or "teammate")

    def link(m: re.Match[str]) -> str:
        target, label = m.group(1), m.group(2)
        if target.startswith(("mailto:", "tel:")):
            return label or target.split(":", 1)[1]
        return target

    text = _LINK.sub(link, text)
    text = USER_MENTION.sub(user, text)
    text = _SPECIAL.sub(r"@\1", text)
    text = _CHANNEL.sub(r"#\1", text)
    return html.unescape(text)


def clip(text: str, limit: int = MAX_SECTION) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def permalink(team_url: str, channel: str, ts: str, thread_ts: str | None = None) -> str:
    """Slack's permalink format, built locally: one API call per link would not scale."""
    link = f"{team_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"
    if thread_ts and thread_ts != ts:
        link += f"?thread_ts={thread_ts}&cid={channel}"
    return link


def member_label(view: ConversationView) -> str:
    assignee = view.assignee
    if assignee is None:
        return "_Unassigned_"
    user = assignee.identity(PLATFORM)
    return f"<@{user}>" if user else escape(assignee.name)


def header_card(
    view: ConversationView, previous_link: str | None = None, now: datetime | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks) of the card that starts a conversation's thread; the
    lead's local time is read at `now` (default: the present)."""
    lead = escape(view.lead_display)
    tags = " ".join(f"`{escape(t)}`" for t in view.tags) or "—"
    texting = "🚫 Opted out (STOP)" if view.opted_out else "✅ Can text"
    who = f"*`{escape(view.initials)}`*  *{lead}*"
    if view.lead_name:
        who += f"  ·  {escape(view.lead_phone)}"
    if their_time := view.lead_time(now):
        who += f"  ·  🕘 {their_time}"
    known = [escape(v) for v in (view.lead_company, view.lead_email) if v]
    if known:
        who += "\n" + "  ·  ".join(known)
    line = f"{escape(view.line_label)} ({view.line_phone})" if view.line_label else view.line_phone
    fields = [
        f"*Status*\n{STATE_BADGE.get(view.state, view.state)}",
        f"*Assignee*\n{member_label(view)}",
        f"*Unread*\n{view.unread_count}",
        f"*Texting*\n{texting}",
        f"*Tags*\n{tags}",
    ]
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "block_id": "lead",
            "text": {"type": "mrkdwn", "text": f"{who}\n📱 SMS with line {escape(line)}"},
        },
        {
            "type": "section",
            "block_id": "state",
            "fields": [{"type": "mrkdwn", "text": f} for f in fields],
        },
        {"type": "actions", "block_id": "card", "elements": _card_actions(view)},
    ]
    hint = "Reply in this thread to text the lead · start with `note:` to keep it internal"
    if previous_link:
        hint = f"Earlier messages are in <{previous_link}|the previous thread> · {hint}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": hint}]})
    text = f"SMS conversation with {view.lead_display} ({view.state})"
    return text, blocks


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _card_actions(view: ConversationView) -> list[dict[str, Any]]:
    value = str(view.id)
    assign: dict[str, Any] = {
        "type": "users_select",
        "action_id": "sms_assign",
        "placeholder": {"type": "plain_text", "text": "Assign…"},
    }
    if view.assignee and view.assignee.identity(PLATFORM):
        assign["initial_user"] = view.assignee.identity(PLATFORM)
    if view.status == "closed":
        status = _button("Reopen", "sms_reopen", value)
    else:
        status = _button("Close", "sms_close", value, "primary")
    if view.opted_out:
        opt = _button("Opt in", "sms_optin", value)
        opt["confirm"] = _confirm(
            "Opt this lead back in?",
            "Only with the lead's consent: they will get SMS from this line again.",
            "Opt in",
        )
    else:
        opt = _button("Opt out", "sms_optout", value, "danger")
        opt["confirm"] = _confirm(
            "Opt this lead out?",
            "No SMS will be sent to this number until they text START.",
            "Opt out",
        )
    return [
        assign,
        status,
        opt,
        _button("✨ AI draft", "sms_draft", value),
        _button("🔒 Add note", "sms_note", value),
        _button("✏️ Edit lead", "sms_edit_lead", value),
    ]


def _confirm(title: str, text: str, confirm: str) -> dict[str, Any]:
    return {
        "title": {"type": "plain_text", "text": title},
        "text": {"type": "mrkdwn", "text": text},
        "confirm": {"type": "plain_text", "text": confirm},
        "deny": {"type": "plain_text", "text": "Cancel"},
    }


@dataclass
class Post:
    """One chat.postMessage mirroring one or more messages."""

    messages: list[MessageView]
    kind: str  # inbound | outbound | note | event
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return clip("\n".join(self.lines), 39000)


def group_posts(messages: list[MessageView], view: ConversationView) -> list[Post]:
    """Coalesce runs of inbound SMS without media (and runs of events) into one post each;
    outbound SMS keep a post of their own, since their status marks that post."""
    posts: list[Post] = []
    for message in messages:
        kind = _kind(message)
        line = _line(message, view)
        last = posts[-1] if posts else None
        joinable = kind in ("inbound", "event") and not message.media
        if last and joinable and last.kind == kind and not last.messages[-1].media:
            last.messages.append(message)
            last.lines.append(line)
        else:
            posts.append(Post([message], kind, [line]))
    return posts


def post_text(message: MessageView, view: ConversationView) -> str:
    """The text of a post carrying one message (to rewrite it after a change)."""
    return Post([message], _kind(message), [_line(message, view)]).text


def _kind(message: MessageView) -> str:
    if message.kind == "sms":
        return "inbound" if message.direction == "in" else "outbound"
    return message.kind


def _line(message: MessageView, view: ConversationView) -> str:
    body = escape(message.body)
    if message.kind == "event":
        emoji = EVENT_EMOJI.get(message.event or "", "ℹ️")
        text = f"{emoji} _{body}_"
        assignee = view.assignee
        if message.event == "assigned" and assignee and assignee.identity(PLATFORM):
            # A mention, so the assignee gets a push notification on their phone.
            text += f" <@{assignee.identity(PLATFORM)}>"
        return text
    author = escape(message.author.name) if message.author else None
    if message.kind == "note":
        return f"🔒 *Note* by {author or 'a teammate'} (never sent)\n{body}"
    if message.direction == "in":
        # Images are uploaded into the thread after this post; other media are links.
        shown = body or ("📷 (picture)" if message.media else "(empty message)")
        return "\n".join([shown, *media_links(m for m in message.media if not is_image(m))])
    links = media_links(message.media)
    via = {"cli": "from the command line", "auto": "automatic reply", "retry": "retried"}
    origin = f" by {author}" if author else ""
    if message.source in via:
        origin += f" ({via[message.source]})"
    if message.ai_assisted:
        origin += " · ✨ AI-assisted"
    segments = f" · {message.segments} segment{'s' if message.segments != 1 else ''}"
    head = f"📤 *Sent as SMS*{origin}{segments if message.segments else ''}"
    return "\n".join([head, body, *links]) if body else "\n".join([head, *links])


def notice_blocks(text: str, retry_message_id: int | None) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": clip(escape(text))}}
    ]
    if retry_message_id is not None:
        button = _button("Retry", "sms_retry", str(retry_message_id), "primary")
        blocks.append({"type": "actions", "block_id": "retry", "elements": [button]})
    return blocks


def is_image(media: MediaView) -> bool:
    return media.content_type.lower().startswith("image/")


def media_links(media: Iterable[MediaView]) -> list[str]:
    return [f"📎 <{m.url}|{escape(m.filename or m.content_type)}>" for m in media]


CARD_EVENT = "smsbridge_conversation"


def card_metadata(conversation: ConversationView) -> dict[str, Any]:
    """Message metadata on a header card: finds the card again from Slack alone (after a
    crash between posting it and recording it, or a reply under an unrecorded card)."""
    return {
        "event_type": CARD_EVENT,
        "event_payload": {
            "conversation_id": conversation.id,
            "organization": conversation.organization,
        },
    }


def card_conversation(message: dict[str, Any]) -> int | None:
    """The conversation a message of ours is the header card of, if it is one."""
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != CARD_EVENT:
        return None
    value = (metadata.get("event_payload") or {}).get("conversation_id")
    return value if isinstance(value, int) else None
