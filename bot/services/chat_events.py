"""What teammates do in a mirrored thread, platform-neutral: a message (reply or note),
an edit or delete inside the undo window, a lock reaction that turns a reply into a note.

Bridges call these after acknowledging the platform; every call is idempotent on the
platform's own event/message id."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.domain.notes import classify_thread_text, split_note
from bot.services.access import Denied, check, conversation_for_thread, first_time, member_for
from bot.services.portal import Portal
from bot.services.replies import (
    ReplyOptions,
    add_note,
    cancel_send,
    correct_send,
    message_for_post,
    send_reply,
)
from bot.types import Actor, ChatRef, ChatReply, Outcome
from storage.models import Message, Route


async def thread_message(core: Core, reply: ChatReply) -> Outcome | None:
    """A human message in a thread. None when it is not ours to handle (not a mirrored
    thread, or seen before); otherwise what happened, for the bridge to show."""

    async def work(session: AsyncSession) -> Outcome | None:
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
                return await add_note(
                    core, portal, member, body or "(attachment)", chat=reply.where
                )
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
            return Outcome.refused(str(exc), conversation_id=conversation.id)

    return await core.run(work)


async def may_share_files(core: Core, actor: Actor, where: ChatRef) -> Outcome | None:
    """Asked before a bridge fetches the files of a thread message: None when the thread
    mirrors no conversation (not ours), a refusal when the author may not write in it
    (nothing is fetched for a stranger), ok otherwise."""

    async def work(session: AsyncSession) -> Outcome | None:
        conversation = await conversation_for_thread(session, where)
        if conversation is None:
            return None
        try:
            member = await member_for(session, conversation.organization_id, actor)
            check(member, "note", conversation)
        except Denied as exc:
            return Outcome.refused(f"{exc} Nothing was sent.", conversation_id=conversation.id)
        return Outcome(True, "", conversation_id=conversation.id)

    return await core.run(work)


async def message_edited(core: Core, where: ChatRef, new_text: str) -> Outcome | None:
    """An edit of a teammate's reply: inside the undo window it corrects the SMS; an edit
    that adds a note prefix turns it into a note (cancels the SMS)."""

    async def work(session: AsyncSession) -> Outcome | None:
        message = await message_for_post(session, where)
        if message is None or message.kind != "sms" or message.direction != "out":
            return None
        portal = await Portal.load(core, session, message.conversation_id)
        assert portal is not None
        is_note, body = split_note(new_text)
        if is_note:
            outcome = await cancel_send(core, portal, message, "edited into a note")
            if outcome.ok:
                _to_note(message, body)
                return Outcome(True, "🔒 Turned into a note; the SMS was not sent.")
            return outcome
        return await correct_send(core, portal, message, new_text)

    return await core.run(work)


async def message_deleted(core: Core, where: ChatRef) -> Outcome | None:
    async def work(session: AsyncSession) -> Outcome | None:
        message = await message_for_post(session, where)
        if message is None or message.kind != "sms" or message.direction != "out":
            return None
        if message.status == "canceled":
            return None  # a replayed delete: already done
        if message.status != "pending":
            return Outcome.refused(
                "That reply was deleted in chat, but the SMS had already gone out."
            )
        portal = await Portal.load(core, session, message.conversation_id)
        assert portal is not None
        return await cancel_send(core, portal, message, "deleted in chat")

    return await core.run(work)


async def lock_reaction(core: Core, actor: Actor, where: ChatRef) -> Outcome | None:
    """:lock: on your own reply inside the undo window turns it into a note."""

    async def work(session: AsyncSession) -> Outcome | None:
        message = await message_for_post(session, where)
        if message is None or message.kind != "sms" or message.direction != "out":
            return None
        portal = await Portal.load(core, session, message.conversation_id)
        assert portal is not None
        member = await member_for(session, portal.conversation.organization_id, actor)
        if message.author_id != member.id:
            return Outcome.refused("Only the author can turn a reply into a note.")
        outcome = await cancel_send(core, portal, message, "turned into a note")
        if not outcome.ok:
            return outcome
        _to_note(message, message.body)
        return Outcome(True, "🔒 Turned into a note; the SMS was not sent.")

    try:
        return await core.run(work)
    except Denied as exc:
        return Outcome.refused(str(exc))


def _to_note(message: Message, body: str) -> None:
    message.kind, message.direction, message.status, message.body = "note", None, None, body
