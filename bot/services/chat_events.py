"""What teammates do in a mirrored thread, platform-neutral: a message (reply or note),
an edit or delete inside the undo window, a lock reaction that turns a reply into a note.
A change to a reply reaches its copies on the line's other platforms too.

Bridges call these after acknowledging the platform; every call is idempotent on the
platform's own event/message id."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.domain.notes import classify_thread_text, split_note
from bot.results import Done, Drafted, Noted, Refused, Result
from bot.services.access import Denied, check, conversation_for_thread, first_time, member_for
from bot.services.drafts import drafted
from bot.services.portal import Portal
from bot.services.replies import ReplyOptions, add_note, correct_send, message_for_post, send_reply
from bot.types import Actor, ChatRef, ChatReply
from storage.models import Message, Route


async def thread_message(core: Core, session: AsyncSession, reply: ChatReply) -> Result | None:
    """A human message in a thread. None when it is not ours to handle (not a mirrored
    thread, or seen before); otherwise what happened, for the bridge to show."""
    conversation = await conversation_for_thread(session, reply.where)
    if conversation is None:
        return None
    if not await first_time(session, reply.where.platform, reply.event_key):
        return None
    route = await session.scalar(
        select(Route).where(
            Route.line_id == conversation.line_id, Route.platform == reply.where.platform
        )
    )
    mode = route.reply_mode if route else "direct"
    kind, body = classify_thread_text(reply.text, mode)
    if kind == "empty" and not reply.files:
        return None
    portal = Portal(core, session, conversation)
    try:
        member = await member_for(session, conversation.organization_id, reply.actor)
        if kind == "note" or (kind == "empty" and mode == "explicit"):
            return await add_note(core, portal, member, body or "(attachment)", chat=reply.where)
        if typed_long_ago(core, reply):
            return offered(conversation.id, body)
        return await send_reply(
            core,
            session,
            portal,
            member,
            body,
            files=reply.files,
            options=ReplyOptions(source="chat", chat=reply.where),
        )
    except Denied as exc:
        return Refused(str(exc), conversation_id=conversation.id)


def typed_long_ago(core: Core, reply: ChatReply) -> bool:
    """A reply read back after downtime, typed longer ago than the undo window: the lead
    would get it late and out of context, so it is never sent by itself."""
    if reply.typed_at is None:
        return False
    return core.now() - reply.typed_at > timedelta(seconds=core.settings.undo_seconds)


def offered(conversation_id: int, text: str) -> Drafted:
    """A late reply offered to its author, shaped like a draft (Send now / Discard)."""
    return drafted(text, conversation_id, typed_while_down=True)


async def may_share_files(
    session: AsyncSession, actor: Actor, where: ChatRef
) -> Done | Refused | None:
    """Asked before a bridge fetches the files of a thread message: None when the thread
    mirrors no conversation (not ours), a refusal when the author may not write in it
    (nothing is fetched for a stranger), Done otherwise."""
    conversation = await conversation_for_thread(session, where)
    if conversation is None:
        return None
    try:
        member = await member_for(session, conversation.organization_id, actor)
        check(member, "note", conversation)
    except Denied as exc:
        return Refused(f"{exc} Nothing was sent.", conversation_id=conversation.id)
    return Done("", conversation_id=conversation.id)


async def _own_sms(
    core: Core, session: AsyncSession, where: ChatRef
) -> tuple[Portal, Message] | None:
    """The outbound SMS a teammate's own chat post carries, with its portal."""
    message = await message_for_post(session, where)
    if message is None or message.kind != "sms" or message.direction != "out":
        return None
    return await Portal.of(core, session, message), message


async def message_edited(
    core: Core, session: AsyncSession, where: ChatRef, new_text: str
) -> Result | None:
    """An edit of a teammate's reply: inside the undo window it corrects the SMS; an edit
    that adds a note prefix turns it into a note (cancels the SMS)."""
    found = await _own_sms(core, session, where)
    if found is None:
        return None
    portal, message = found
    is_note, body = split_note(new_text)
    if is_note:
        result = await _to_note(portal, message, body, "edited into a note")
    else:
        result = await correct_send(portal, message, new_text)
    if result.ok:
        await portal.changed(message, where.platform, deleted=message.status == "canceled")
    return result


async def message_deleted(core: Core, session: AsyncSession, where: ChatRef) -> Result | None:
    found = await _own_sms(core, session, where)
    if found is None:
        return None
    portal, message = found
    if message.status == "canceled":
        return None  # a replayed delete: already done
    if message.status != "pending":
        return Refused("That reply was deleted in chat, but the SMS had already gone out.")
    result = await portal.cancel(message, "deleted in chat")
    if result.ok:
        await portal.changed(message, where.platform, deleted=True)
    return result


async def lock_reaction(
    core: Core, session: AsyncSession, actor: Actor, where: ChatRef
) -> Result | None:
    """:lock: on your own reply inside the undo window turns it into a note."""
    found = await _own_sms(core, session, where)
    if found is None:
        return None
    portal, message = found
    try:
        member = await member_for(session, portal.conversation.organization_id, actor)
    except Denied as exc:
        return Refused(str(exc))
    if message.author_id != member.id:
        return Refused("Only the author can turn a reply into a note.")
    result = await _to_note(portal, message, message.body, "turned into a note")
    if result.ok:
        await portal.changed(message, where.platform)
    return result


async def _to_note(portal: Portal, message: Message, body: str, reason: str) -> Result:
    canceled = await portal.cancel(message, reason)
    if not canceled.ok:
        return canceled
    message.kind, message.direction, message.status, message.body = "note", None, None, body
    return Noted(
        "🔒 Turned into a note; the SMS was not sent.",
        conversation_id=portal.conversation.id,
        message_id=message.id,
    )
