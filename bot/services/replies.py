"""Flows 3 and 5 of DESIGN.md: replies that go out as SMS (with an undo window) and notes
that never leave the chat."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.delivery import queue
from bot.domain.compliance import in_quiet_hours, parse_quiet_hours, quiet_hours_end
from bot.domain.localtime import quiet_hours_zone
from bot.domain.mms import MAX_BODY, MMS_MAX_BYTES, MMS_MAX_FILES, MMS_TYPES
from bot.domain.segments import SegmentInfo, gsm_smart_quotes, segment_info, ucs2_characters
from bot.results import Done, Noted, Queued, Refused
from bot.services.access import Denied, check
from bot.services.portal import Portal
from bot.types import ChatRef, OutboundFile
from storage.models import ChatPost, Media, Member, Message, Organization

MEDIA_TTL = timedelta(days=7)


@dataclass(frozen=True)
class ReplyOptions:
    source: str = "chat"
    chat: ChatRef | None = None  # the teammate's own chat post, when typed in chat
    undo: bool = True
    ai_assisted: bool = False


def _media_rows(files: tuple[OutboundFile, ...], now: datetime) -> list[Media]:
    if len(files) > MMS_MAX_FILES:
        raise Denied(f"An MMS carries at most {MMS_MAX_FILES} files; this one has {len(files)}.")
    total = sum(len(f.data) for f in files)
    if total > MMS_MAX_BYTES:
        raise Denied(
            f"Attachments are {total / 1048576:.1f} MB; an MMS carries at most 5 MB. "
            "Send a smaller image or a link instead."
        )
    for f in files:
        if f.content_type.lower() not in MMS_TYPES:
            raise Denied(
                f"{f.filename} ({f.content_type}) cannot go by MMS reliably; "
                "send JPEG, PNG or GIF images, or share a link."
            )
    return [
        Media(
            content_type=f.content_type,
            filename=f.filename,
            data=f.data,
            token=secrets.token_urlsafe(24),
            expires_at=now + MEDIA_TTL,
        )
        for f in files
    ]


def sms_text(org: Organization, text: str) -> str:
    """What goes out for `text`: in GSM-7 punctuation when the organization asks for it."""
    return gsm_smart_quotes(text) if org.gsm_smart_quotes else text


def cost_note(info: SegmentInfo, text: str) -> str | None:
    """A note for the author when a reply costs more than one plain segment: which
    characters forced UCS-2, or how many segments it takes. None for one GSM-7 segment."""
    culprits = ucs2_characters(text)
    if culprits:
        shown = " ".join(f"`{c}` (U+{ord(c):04X})" for c in culprits[:3])
        more = f" and {len(culprits) - 3} more" if len(culprits) > 3 else ""
        return (
            f"{shown}{more} made this SMS UCS-2: {info.describe()} instead of"
            f" {segment_info(''.join(c for c in text if c not in culprits)).segments}"
            " as plain GSM-7."
        )
    if info.segments > 1:
        return f"This SMS is long: {info.describe()}, billed as {info.segments} SMS."
    return None


async def queue_sms(
    core: Core,
    portal: Portal,
    text: str,
    *,
    author: Member | None,
    options: ReplyOptions,
    files: tuple[OutboundFile, ...] = (),
    mirror: bool = True,
) -> Queued:
    """The one path every outbound SMS takes: checks, message row, delivery row."""
    session = portal.session
    lead = portal.lead
    if lead.opted_out:
        raise Denied(
            f"{portal.label} has opted out (replied STOP): nothing was sent. "
            "They can text START to opt back in."
        )
    text = text.strip()
    if not text and not files:
        raise Denied("There is nothing to send: write some text or attach an image.")
    if len(text) > MAX_BODY:
        raise Denied(f"The message is {len(text)} characters; SMS allows at most {MAX_BODY}.")
    now = core.now()
    media = _media_rows(files, now)
    org = await session.get(Organization, portal.conversation.organization_id)
    assert org is not None
    send_at = now + timedelta(seconds=core.settings.undo_seconds if options.undo else 0)
    held_note = ""
    zone = quiet_hours_zone(org.quiet_hours_zone, lead.phone, org.timezone)
    quiet = parse_quiet_hours(org.quiet_hours, zone)
    if quiet and in_quiet_hours(quiet, send_at):
        whose = f"{portal.label}" if zone != org.timezone else org.name
        if org.quiet_mode == "refuse":
            raise Denied(
                f"It is quiet hours for {whose} ({quiet.start:%H:%M}–{quiet.end:%H:%M} "
                f"{zone}): nothing was sent. Try again after {quiet.end:%H:%M}."
            )
        send_at = quiet_hours_end(quiet, send_at)
        held_note = f" Held for quiet hours until {quiet.end:%H:%M} {zone}."
    typed, text = text, sms_text(org, text)
    info = segment_info(text)
    message = Message(
        kind="sms",
        direction="out",
        body=text,
        status="pending",
        author_id=author.id if author else None,
        source=options.source,
        segments=info.segments,
        encoding=info.encoding,
        ai_assisted=options.ai_assisted,
        send_after=send_at,
        media=media,
    )
    authored_on = options.chat.platform if options.chat else None
    await portal.add(message, authored_on=authored_on, mirror=mirror)
    await session.flush()
    if options.chat and options.chat.post_id:
        await queue.link_post(
            session,
            message.id,
            options.chat.platform,
            options.chat.channel,
            options.chat.post_id,
            authored=True,
        )
    queue.enqueue(
        session,
        queue.SMS_SEND,
        "sms",
        now=now,
        conversation_id=portal.conversation.id,
        message_id=message.id,
        run_at=send_at,
        payload={"mirror_after_send": not mirror},
    )
    conversation = portal.conversation
    if options.source != "auto":  # an automatic text answers nobody: the lead still waits
        conversation.needs_response = False
        portal.mark_read()
    if author is not None and conversation.first_response_at is None:
        if conversation.first_inbound_at is not None:
            conversation.first_response_at, conversation.first_responder_id = now, author.id
    if portal.conversation.status == "closed":
        portal.conversation.status = "open"
    if mirror:
        await portal.refresh_header()
    if held_note:
        portal.notice(held_note.strip(), message_id=message.id)
    wait = (send_at - now).total_seconds()
    when = f"in {wait:.0f}s (undo window)" if 0 < wait <= 600 else "now"
    if held_note:
        when = "after quiet hours"
    return Queued(
        f"Sending to {portal.label} {when} · {info.describe()}.{held_note}",
        conversation_id=portal.conversation.id,
        message_id=message.id,
        send_at=send_at,
        segments=info.segments,
        held=bool(held_note),
        ai_assisted=options.ai_assisted,
        author=author.name if author else None,
        cost=cost_note(info, text)
        or (f"Sent in plain GSM-7 punctuation: “{text}”" if text != typed else None),
    )


async def send_reply(
    core: Core,
    session: AsyncSession,
    portal: Portal,
    member: Member,
    text: str,
    *,
    files: tuple[OutboundFile, ...] = (),
    options: ReplyOptions = ReplyOptions(),
) -> Queued:
    check(member, "reply", portal.conversation)
    return await queue_sms(core, portal, text, author=member, options=options, files=files)


async def add_note(
    core: Core, portal: Portal, member: Member, text: str, *, chat: ChatRef | None = None
) -> Noted:
    check(member, "note", portal.conversation)
    text = text.strip()
    if not text:
        raise Denied("A note needs some text: `/sms note call back on Monday`.")
    message = await portal.add(
        Message(kind="note", body=text, author_id=member.id, source="chat"),
        authored_on=chat.platform if chat else None,
    )
    await portal.session.flush()
    if chat and chat.post_id:
        await queue.link_post(
            portal.session, message.id, chat.platform, chat.channel, chat.post_id, authored=True
        )
    portal.mark_read()
    await portal.refresh_header()
    return Noted(
        "🔒 Note saved; it stays in the team chat and is never sent.",
        conversation_id=portal.conversation.id,
        message_id=message.id,
    )


async def message_for_post(session: AsyncSession, where: ChatRef) -> Message | None:
    """The message a teammate's own chat post carries. Our mirror posts are left out:
    editing, deleting or locking the bot's copy must not touch the SMS (Discord's delete
    events do not say who wrote the message)."""
    post = await session.scalar(
        select(ChatPost).where(
            ChatPost.platform == where.platform,
            ChatPost.channel == where.channel,
            ChatPost.post_id == where.post_id,
            ChatPost.authored.is_(True),
        )
    )
    return None if post is None else await session.get(Message, post.message_id)


async def correct_send(portal: Portal, message: Message, text: str) -> Done | Refused:
    """An edit inside the undo window changes what will be sent."""
    if await portal.pending_send(message) is None:
        return Refused("Too late to edit: the original SMS has already gone out.")
    text = text.strip()
    if not text and not message.media:
        return await portal.cancel(message, "edited to nothing")
    org = await portal.session.get(Organization, portal.conversation.organization_id)
    assert org is not None
    text = sms_text(org, text)
    info = segment_info(text)
    message.body = text
    message.segments, message.encoding = info.segments, info.encoding
    return Done(
        f"Corrected: the SMS will say the new text · {info.describe()}.",
        conversation_id=portal.conversation.id,
        message_id=message.id,
    )


async def retry_unknown(
    core: Core, portal: Portal, member: Member, message: Message
) -> Queued | Refused:
    """A member decided an SMS of unknown or failed outcome should go again."""
    check(member, "reply", portal.conversation)
    if message.kind != "sms" or message.direction != "out":
        return Refused("Only outbound SMS can be retried.")
    if message.status not in ("unknown", "failed", "undelivered"):
        return Refused(f"That SMS is {message.status}; there is nothing to retry.")
    options = ReplyOptions(source="retry", undo=False, ai_assisted=message.ai_assisted)
    return await queue_sms(core, portal, message.body, author=member, options=options)
