"""Read models: database rows turned into the views chat renders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.localtime import lead_time_zone
from bot.types import ConversationView, MediaView, MemberView, MessageView, ThreadRef
from storage.models import Conversation, Member, Message, Organization, Thread

ERROR_TEXT = {
    "21610": "the recipient has opted out (replied STOP)",
    "21211": "the number is not a valid phone number",
    "21408": "sending to this region is not enabled",
    "21612": "the carrier cannot route to this number",
    "21614": "the number is not a mobile number",
    "30003": "the handset is unreachable (off or out of coverage)",
    "30004": "the message was blocked by the recipient or carrier",
    "30005": "the number is unknown or no longer in service",
    "30006": "the number is a landline or unreachable carrier",
    "30007": "the carrier filtered the message as spam",
    "30008": "the carrier reported an unknown error",
}


def derived_state(conversation: Any) -> str:
    if conversation.status == "closed":
        return "Closed"
    if not conversation.has_inbound:
        return "Outbound only"
    if conversation.needs_response:
        return "Needs response"
    return "Open"


def member_view(member: Member | None) -> MemberView | None:
    if member is None:
        return None
    return MemberView(
        member.id,
        member.key,
        member.name,
        member.role,
        member.accounts(),
    )


PREVIEW_CHARS = 80


async def conversation_view(
    session: AsyncSession, conversation: Conversation, *, preview: bool = False
) -> ConversationView:
    """`preview`: also read the last message's text (lists show it; cards do not)."""
    org = (
        await session.execute(
            select(Organization.name, Organization.timezone).where(
                Organization.id == conversation.organization_id
            )
        )
    ).one_or_none()
    org_name, org_zone = org if org else ("", "UTC")
    text = await last_text(session, conversation.id) if preview else ""
    assignee = member_view(conversation.assignee)
    return view_of(
        conversation, conversation.lead, conversation.line, assignee, org_name, org_zone,
        preview=text,
    )  # fmt: skip


def view_of(
    conversation: Any,
    lead: Any,
    line: Any,
    assignee: MemberView | None,
    org_name: str | None,
    org_zone: str,
    *,
    preview: str = "",
) -> ConversationView:
    """The view of a conversation from its columns and its lead's and line's (ORM objects
    or parts of a Core row), with what the caller read of its assignee and organization."""
    return ConversationView(
        id=conversation.id,
        organization=org_name or "",
        lead_id=conversation.lead_id,
        lead_phone=lead.phone,
        lead_name=lead.name,
        line_phone=line.phone,
        line_label=line.label,
        status=conversation.status,
        state=derived_state(conversation),
        assignee=assignee,
        tags=tuple(conversation.tags or ()),
        opted_out=lead.opted_out,
        unread_count=conversation.unread_count,
        last_message_at=conversation.last_message_at,
        preview=preview,
        lead_email=lead.email,
        lead_company=lead.company,
        lead_zone=lead_time_zone(lead.phone, org_zone),
    )


async def last_text(session: AsyncSession, conversation_id: int) -> str:
    """The last SMS or note of a conversation on one line, shortened for a list."""
    message = await session.scalar(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.kind != "event")
        .order_by(Message.id.desc())
        .limit(1)
    )
    return "" if message is None else preview_text(message)


def preview_text(message: Message) -> str:
    """One message on one short line: "Is Tuesday ok?", "Us: Yes, 9 AM", "🔒 call back"."""
    text = " ".join(message.body.split()) or "(media)"
    if len(text) > PREVIEW_CHARS:
        text = text[: PREVIEW_CHARS - 1] + "…"
    prefix = "🔒 " if message.kind == "note" else ("Us: " if message.direction == "out" else "")
    return prefix + text


def error_text(code: str | None, fallback: str | None = None) -> str | None:
    if code is None and fallback is None:
        return None
    reason = ERROR_TEXT.get(code or "") or fallback or "the carrier gave no reason"
    return f"{reason} (error {code})" if code else reason


def media_view(url: str | None, token: str | None, content_type: str, filename: str | None,
               media_url: Callable[[str], str] | None = None) -> MediaView:  # fmt: skip
    """`media_url(token)` turns a re-hosted file's token into its public URL."""
    if url is None and token and media_url is not None:
        url = media_url(token)
    return MediaView(url or "", content_type, filename)


def message_view(
    message: Any,
    lead_display: str,
    *,
    media: tuple[MediaView, ...] = (),
    author: Member | None = None,
) -> MessageView:
    """`message`: a messages row, as an ORM object or a Core row (its columns are read)."""
    return MessageView(
        id=message.id,
        conversation_id=message.conversation_id,
        kind=message.kind,
        direction=message.direction,
        body=message.body,
        status=message.status,
        error=error_text(message.error_code, message.error_message)
        if message.status in ("failed", "undelivered")
        else message.error_message,
        author=member_view(author),
        lead_display=lead_display,
        media=media,
        segments=message.segments,
        encoding=message.encoding,
        ai_assisted=message.ai_assisted,
        event=message.event,
        source=message.source,
        created_at=message.created_at,
    )


def thread_ref(row: Thread) -> ThreadRef:
    return ThreadRef(row.platform, row.channel, row.thread_id, row.header_message_id, row.workspace)


async def active_thread(
    session: AsyncSession, platform: str, conversation_id: int
) -> ThreadRef | None:
    """The thread a conversation is mirrored to now on a platform, if any."""
    row = await session.scalar(
        select(Thread)
        .where(
            Thread.conversation_id == conversation_id,
            Thread.platform == platform,
            Thread.active.is_(True),
        )
        .order_by(Thread.id.desc())
        .limit(1)
    )
    return None if row is None else thread_ref(row)
