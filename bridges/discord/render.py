"""How conversations look in Discord: the header embed and its buttons, forum tags,
message posts and status reactions. Pure functions of the core's views; no REST here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import discord

from bot.domain.sms_status import Stage, stage
from bot.types import ConversationView, MessageView

PLATFORM = "discord"

# Discord caps: 2000 characters of content, 10 embeds per message, 100-char thread names.
MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_THREAD_NAME = 100

# Forum tags that show a conversation's state; created on the forum when missing.
STATE_TAGS = {
    "Open": "🟢",
    "Needs response": "🟠",
    "Closed": "⚫",
    "Assigned": "👤",
    "Opted out": "🚫",
}

STATE_COLOURS = {
    "Open": discord.Colour.green(),
    "Needs response": discord.Colour.orange(),
    "Outbound only": discord.Colour.blurple(),
    "Closed": discord.Colour.light_grey(),
}

# One reaction per outbound SMS's stage (bot/domain/sms_status.py); the previous one is
# removed when the stage moves.
STAGE_EMOJI: dict[Stage, str] = {
    "waiting": "⏳",
    "sent": "📤",
    "delivered": "✅",
    "failed": "❌",
    "canceled": "🚫",
    "unknown": "❓",
}


def status_emoji(status: str | None) -> str | None:
    """The reaction for an SMS's status; None where it has none (not an outbound SMS)."""
    found = stage(status)
    return None if found is None else STAGE_EMOJI[found]


ALL_STATUS_EMOJI = frozenset(STAGE_EMOJI.values())
NOTE_MARK = "🔒"
LOCK_EMOJI = "🔒"

NO_MENTIONS = discord.AllowedMentions.none()
# Webhook names may not contain these words (Discord answers 400).
_RESERVED_NAME = re.compile(r"(?i)discord|clyde")


def thread_name(conversation: ConversationView) -> str:
    label = conversation.line_label or conversation.line_phone
    return f"{conversation.lead_display} · {label}"[:MAX_THREAD_NAME]


def lead_username(conversation: ConversationView) -> str:
    """The name inbound SMS are posted under (a webhook's per-message username)."""
    name = conversation.lead_name
    text = f"{name} ({conversation.lead_phone})" if name else conversation.lead_phone
    return _RESERVED_NAME.sub(lambda m: m[0][0] + "\u200b" + m[0][1:], text)[:80]


def tag_names(conversation: ConversationView) -> list[str]:
    """The forum tags a post carries (at most 5 may be applied; we use up to 3)."""
    names = ["Closed" if conversation.status == "closed" else "Open"]
    if conversation.status != "closed" and conversation.state == "Needs response":
        names = ["Needs response"]
    if conversation.assignee is not None:
        names.append("Assigned")
    if conversation.opted_out:
        names.append("Opted out")
    return names


def member_label(conversation: ConversationView) -> str:
    assignee = conversation.assignee
    if assignee is None:
        return "Unassigned"
    if assignee.identity(PLATFORM):
        return f"<@{assignee.identity(PLATFORM)}> ({assignee.name})"
    return assignee.name


def header_embed(conversation: ConversationView, now: datetime | None = None) -> discord.Embed:
    """The card of a conversation; the lead's local time is read at `now` (default: the
    present)."""
    lead = conversation.lead_name or "Unknown name"
    embed = discord.Embed(
        title=f"📱 {conversation.lead_display}",
        description=(
            f"SMS conversation with **{lead}** · `{conversation.lead_phone}`\n"
            f"Messages typed in this thread go out as SMS; start with `note:` to keep one "
            f"internal."
        ),
        colour=STATE_COLOURS.get(conversation.state, discord.Colour.default()),
    )
    embed.add_field(
        name="Line", value=f"{conversation.line_label or 'Line'} · `{conversation.line_phone}`"
    )
    embed.add_field(name="Status", value=conversation.state)
    embed.add_field(name="Assignee", value=member_label(conversation))
    embed.add_field(name="Tags", value=", ".join(conversation.tags) or "none")
    embed.add_field(
        name="SMS",
        value="🚫 Opted out (replied STOP)" if conversation.opted_out else "Can receive SMS",
    )
    embed.add_field(name="Unread", value=str(conversation.unread_count))
    if their_time := conversation.lead_time(now):
        embed.add_field(name="Their time", value=f"🕘 {their_time}")
    known = [v for v in (conversation.lead_company, conversation.lead_email) if v]
    if known:
        embed.add_field(name="Lead", value=" · ".join(known)[:1024])
    embed.set_footer(text=f"{conversation.organization} · conversation #{conversation.id}")
    return embed


CARD_FOOTER = re.compile(r" · conversation #(\d+)$")


def card_conversation(message: discord.Message) -> int | None:
    """The conversation a header card (ours) shows, read from its footer: finds the card
    again from Discord alone after a crash between posting it and recording it."""
    for embed in message.embeds:
        found = CARD_FOOTER.search(embed.footer.text or "")
        if found:
            return int(found.group(1))
    return None


def _body_lines(message: MessageView) -> str:
    return message.body or ("(attachment)" if message.media else "(empty message)")


def media_parts(message: MessageView) -> tuple[list[str], list[discord.Embed]]:
    """Images become image embeds; anything else a link."""
    links: list[str] = []
    embeds: list[discord.Embed] = []
    for item in message.media:
        if item.content_type.startswith("image/") and item.url:
            embeds.append(discord.Embed().set_image(url=item.url))
        else:
            links.append(f"📎 [{item.filename or item.content_type}]({item.url})")
    return links, embeds


def message_text(message: MessageView, conversation: ConversationView) -> str:
    """The content of one of our posts; inbound SMS carry only the body (the post's
    author is the lead)."""
    if message.kind == "sms" and message.direction == "in":
        return _body_lines(message)
    author = message.author.name if message.author else "smsbridge"
    if message.kind == "note":
        return f"{NOTE_MARK} **Note** by {author} · not sent\n{message.body}"
    if message.kind == "event":
        text = f"ℹ️ {message.body}"
        assignee = conversation.assignee
        if message.event == "assigned" and assignee is not None and assignee.identity(PLATFORM):
            text += f" · <@{assignee.identity(PLATFORM)}>"
        return text
    ai = " · ✨ AI-assisted" if message.ai_assisted else ""
    if message.source == "auto":
        author += " (automatic reply)"
    return f"{_body_lines(message)}\n-# 📱 sent as SMS to {message.lead_display} by {author}{ai}"


def mentions_for(message: MessageView, conversation: ConversationView) -> list[int]:
    """Users a post may ping: only the assignee of an "assigned" event."""
    assignee = conversation.assignee
    user = assignee.identity(PLATFORM) if assignee is not None else None
    if message.event == "assigned" and user:
        return [int(user)]
    return []


@dataclass
class Post:
    """One Discord message carrying one or more core messages."""

    as_lead: bool
    messages: list[MessageView] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    embeds: list[discord.Embed] = field(default_factory=list)
    mentions: list[int] = field(default_factory=list)

    @property
    def content(self) -> str:
        return "\n".join(self.lines)[:MAX_CONTENT]


def _coalesces(message: MessageView) -> str | None:
    """Which messages may share a post: the lead's SMS, and events. Outbound SMS and notes
    stay alone: each gets its own status reactions and author line."""
    if message.kind == "sms" and message.direction == "in":
        return "lead"
    if message.kind == "event":
        return "event"
    return None


def plan_posts(messages: list[MessageView], conversation: ConversationView) -> list[Post]:
    posts: list[Post] = []
    previous: str | None = None
    for message in messages:
        group = _coalesces(message)
        text = message_text(message, conversation)
        links, embeds = media_parts(message)
        lines = [text, *links]
        last = posts[-1] if posts else None
        fits = (
            last is not None
            and group is not None
            and group == previous
            and len(last.content) + sum(len(x) + 1 for x in lines) < MAX_CONTENT
            and len(last.embeds) + len(embeds) <= MAX_EMBEDS
        )
        if not fits or last is None:
            last = Post(as_lead=group == "lead")
            posts.append(last)
        last.messages.append(message)
        last.lines.extend(lines)
        last.embeds.extend(embeds[: MAX_EMBEDS - len(last.embeds)])
        last.mentions.extend(mentions_for(message, conversation))
        previous = group
    return posts


def pieces(text: str, limit: int = MAX_CONTENT) -> list[str]:
    """`text` in messages Discord accepts, cut between lines (a line longer than a whole
    message is cut where it must be): an answer longer than one message is sent whole,
    in order, not truncated. No piece is empty (Discord refuses an empty message) unless
    `text` is."""
    out: list[str] = []
    current: str | None = None
    for line in text.split("\n"):
        while len(line) > limit:
            if current is not None:
                out.append(current)
                current = None
            out.append(line[:limit])
            line = line[limit:]
        if current is not None and len(current) + 1 + len(line) <= limit:
            current = f"{current}\n{line}"
        else:
            if current is not None:
                out.append(current)
            current = line
    if current or not out:
        out.append(current or "")
    return out
