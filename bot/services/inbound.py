"""Flow 1 and 4 of DESIGN.md: an inbound SMS, and a delivery status from the carrier."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.delivery import queue
from bot.domain import sms_status
from bot.domain.compliance import Keyword, classify_keyword
from bot.domain.phones import InvalidSender, mask_phone, normalize_sender
from bot.results import Done, Refused
from bot.services.automations import (
    answer_automatically,
    needs_first,
    notify_assignee,
    screen,
    texted_before,
)
from bot.services.portal import Portal, lead_of
from bot.services.views import error_text
from bot.types import InboundSms, StatusUpdate
from storage.models import Conversation, Delivery, Lead, Line, Media, Message

log = logging.getLogger(__name__)


async def apply_inbound(core: Core, session: AsyncSession, sms: InboundSms) -> Done | Refused:
    """Flow 1, once the intake stored the SMS (and so deduped it on the provider's sid):
    upsert the lead, find or open the conversation (a closed one reopens), store the
    message, apply STOP/START/HELP and queue its chat deliveries, all in the caller's
    transaction."""
    line = await session.scalar(select(Line).where(Line.phone == sms.to_phone))
    if line is None:
        return Refused(f"{sms.to_phone} is not a configured line")
    try:
        # Short codes and alphanumeric senders still deserve a record.
        phone = normalize_sender(sms.from_phone)
    except InvalidSender as exc:
        return Refused(str(exc))
    lead = await lead_of(session, line, phone)
    org = line.organization
    keyword = classify_keyword(sms.body, sms.opt_out_type)
    # Only looked up when a setting depends on it: one query less per SMS otherwise.
    first = needs_first(org) and not await texted_before(session, lead)
    if await screen(core, session, line, lead, sms, first=first):
        # A blocked number's STOP still counts (carriers require it), silently.
        if keyword is Keyword.OPT_OUT and not lead.opted_out:
            lead.opted_out, lead.opted_out_at = True, core.now()
        log.info("screened sms %s from a %s number", sms.provider_sid, lead.blocked)
        return Done("screened")
    portal, _ = await Portal.open(core, session, line, lead)
    conversation = portal.conversation
    if conversation.status == "closed":
        conversation.status = "open"
        await portal.event("Reopened: the lead texted again", "reopened")
    media = [Media(url=m.url, content_type=m.content_type) for m in sms.media]
    # A keyword is answered by the system: nobody needs to read or answer it.
    message = await store_inbound(
        portal, sms.body, sms.provider_sid, media, core.now(), waiting=keyword is None
    )
    if keyword is Keyword.OPT_OUT:
        conversation.needs_response = False  # nobody may text this lead now
    if keyword is Keyword.OPT_OUT and not lead.opted_out:
        await opt_out_lead(core, session, lead, "the lead replied " + sms.body.strip()[:20])
    elif keyword is Keyword.OPT_IN and lead.opted_out:
        lead.opted_out = False
        lead.opted_out_at = None
        await portal.event("Opted back in: the lead replied " + sms.body.strip()[:20], "opted_in")
    elif keyword is Keyword.HELP and not lead.opted_out:
        if org.help_text:
            await _auto_reply(core, portal, org.help_text)
    await answer_automatically(core, portal, org, keyword=keyword is not None, first=first)
    await notify_assignee(portal)
    await portal.refresh_header()
    log.info("inbound sms %s from %s to line %s", sms.provider_sid, mask_phone(phone), line.id)
    return Done("stored", conversation_id=conversation.id, message_id=message.id)


async def store_inbound(
    portal: Portal,
    body: str,
    sid: str,
    media: list[Media],
    received_at: datetime,
    *,
    waiting: bool = True,
) -> Message:
    """Store an SMS from the lead in its conversation: unread, waiting for a reply
    (unless not `waiting`: a keyword such as STOP or HELP, which the system answers)."""
    conversation = portal.conversation
    # Set before add(): its flush then writes the conversation in one UPDATE.
    if waiting:
        conversation.unread_count += 1
        conversation.needs_response = True
    conversation.has_inbound = True
    if conversation.first_inbound_at is None:
        conversation.first_inbound_at = received_at
    message = Message(
        kind="sms",
        direction="in",
        body=body,
        status="received",
        provider_sid=sid,
        source="sms",
        media=media,
    )
    return await portal.add(message)


async def _auto_reply(core: Core, portal: Portal, text: str) -> None:
    message = await portal.add(
        Message(kind="sms", direction="out", body=text, status="pending", source="auto")
    )
    await portal.session.flush()
    queue.enqueue(
        portal.session,
        queue.SMS_SEND,
        "sms",
        now=core.now(),
        conversation_id=portal.conversation.id,
        message_id=message.id,
    )


async def opt_out_lead(core: Core, session: AsyncSession, lead: Lead, reason: str) -> None:
    """Mark the lead opted out in every conversation and cancel whatever waits to go."""
    now = core.now()
    lead.opted_out = True
    lead.opted_out_at = now
    conversations = await _conversations_of(core, session, lead)
    for portal in conversations:
        await portal.event(f"Opted out: {reason}. No SMS will be sent to this number.", "opted_out")
        await portal.refresh_header()
        pending = await session.scalars(
            select(Message)
            .join(Delivery, Delivery.message_id == Message.id)
            .where(
                Delivery.conversation_id == portal.conversation.id,
                Delivery.kind == queue.SMS_SEND,
                Delivery.status == "pending",
            )
        )
        for message in list(pending):
            await portal.cancel(
                message, "lead opted out", error_message="not sent: the lead opted out"
            )


async def _conversations_of(core: Core, session: AsyncSession, lead: Lead) -> list[Portal]:
    rows = await session.scalars(select(Conversation).where(Conversation.lead_id == lead.id))
    return [Portal(core, session, c) for c in rows]


async def _unknown_send_for(session: AsyncSession, update_: StatusUpdate) -> Message | None:
    """A callback for a send whose answer we never got (outcome unknown): Twilio did take
    it after all. Match the oldest such message between the same two numbers."""
    if not update_.to_phone or not update_.from_phone:
        return None
    message = await session.scalar(
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .join(Lead, Lead.id == Conversation.lead_id)
        .join(Line, Line.id == Conversation.line_id)
        .where(
            Message.status == "unknown",
            Message.provider_sid.is_(None),
            Lead.phone == update_.to_phone,
            Line.phone == update_.from_phone,
        )
        .order_by(Message.id)
        .limit(1)
    )
    if message is not None:
        message.provider_sid = update_.provider_sid
    return message


async def apply_status(core: Core, session: AsyncSession, update_: StatusUpdate) -> Done | Refused:
    message = await session.scalar(
        select(Message).where(Message.provider_sid == update_.provider_sid)
    )
    if message is None:
        message = await _unknown_send_for(session, update_)
    if message is None:
        return Refused(f"no message with sid {update_.provider_sid}")
    old = sms_status.RANK.get(message.status or "", 0)
    new = sms_status.RANK.get(update_.status)
    if new is None:
        return Refused(f"unknown status {update_.status!r}")
    if new < old or message.status == update_.status:
        return Done("unchanged", message_id=message.id)
    portal = await Portal.of(core, session, message)
    await portal.mark(
        message,
        update_.status,
        error_code=update_.error_code,
        error_message=update_.error_message if update_.error_code else None,
    )
    if update_.status in ("failed", "undelivered"):
        if update_.error_code == "21610":
            await opt_out_lead(core, session, portal.lead, "the carrier reports an opt-out")
        portal.notice(
            f"⚠️ SMS not delivered to {portal.label}: "
            f"{error_text(update_.error_code, update_.error_message)}.",
            message_id=message.id,
            actions=["retry"],
            mention=await portal.author_of(message),
        )
    return Done(update_.status, message_id=message.id)
