"""The SMS worker: sends one queued outbound SMS through the gateway, paced per line."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics
from bot.core import Core
from bot.delivery import queue
from bot.delivery.pacing import Pacer
from bot.delivery.worker import Result
from bot.domain.phones import mask_phone
from bot.ports import OutcomeUnknown, Rejected, SmsGateway
from bot.services.inbound import opt_out_lead
from bot.services.portal import Portal
from bot.services.views import error_text
from storage.models import Conversation, Delivery, Message

log = logging.getLogger(__name__)

OPTED_OUT_CODE = "21610"


class SmsSender:
    batch = 1

    def __init__(self, core: Core, gateway: SmsGateway, *, segments_per_second: float = 1.0):
        self.core = core
        self.gateway = gateway
        # Long codes send about one segment per second; a burst beyond that gets queued
        # (and eventually failed) by the carrier, so we pace ourselves per line.
        self.pacer = Pacer(rate=segments_per_second, burst=4)

    async def run(self, deliveries: list[Delivery]) -> Result:
        delivery = deliveries[0]
        async with self.core.db.session() as session:
            message = await session.get(Message, delivery.message_id)
            conversation = await session.get(Conversation, delivery.conversation_id)
            if message is None or conversation is None:
                return Result("canceled", detail="message no longer exists")
            if message.status != "pending":
                return Result("canceled", detail=f"message is {message.status}")
            lead, line = conversation.lead, conversation.line
            if lead.opted_out:
                return Result(
                    "canceled", finish=self._refused_opted_out(message.id), detail="lead opted out"
                )
            media_urls = [
                self.core.media_url(m.token) if m.token else (m.url or "") for m in message.media
            ]
            body, segments, encoding = message.body, message.segments or 1, message.encoding
        try:
            await self.pacer.wait(line.phone, segments)
        except asyncio.CancelledError:
            # Stopped while waiting for the line: nothing left, so the SMS goes back to
            # the queue rather than being recovered as `unknown` after the restart.
            await asyncio.shield(self._unclaim(delivery.id))
            raise
        try:
            sent = await self.gateway.send(
                from_phone=line.phone,
                to_phone=lead.phone,
                body=body,
                media_urls=media_urls,
                status_callback=self.core.status_callback_url,
            )
        except Rejected as exc:
            log.warning("sms to %s rejected: %s", mask_phone(lead.phone), exc.code)
            return Result("failed", finish=self._rejected(message.id, exc), detail=str(exc))
        except OutcomeUnknown as exc:
            log.warning("sms to %s outcome unknown: %s", mask_phone(lead.phone), exc)
            return Result("unknown", finish=self._unknown(message.id), detail=str(exc))
        metrics.SMS_SEGMENTS.labels(encoding or "GSM-7").inc(segments)
        return Result(finish=self._accepted(message.id, sent.sid, sent.status, delivery.payload))

    async def _unclaim(self, delivery_id: int) -> None:
        async with self.core.db.session() as session, session.begin():
            await session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id, Delivery.status == "running")
                .values(status="pending", worker=None, lease_until=None)
            )

    def _accepted(self, message_id: int, sid: str, status: str, payload: dict) -> object:
        async def finish(session: AsyncSession) -> None:
            message = await session.get(Message, message_id)
            assert message is not None
            message.provider_sid = sid
            portal = await Portal.of(self.core, session, message)
            status_now = (status or "queued") if message.status == "pending" else message.status
            if payload.get("mirror_after_send"):
                # A conversation started outbound appears in chat once Twilio accepted it.
                message.status = status_now
                await queue.mirror_message(
                    session, portal.platforms, portal.conversation, message, now=self.core.now()
                )
                await portal.refresh_header()
            else:
                await portal.mark(message, status_now)

        return finish

    def _rejected(self, message_id: int, exc: Rejected) -> object:
        async def finish(session: AsyncSession) -> None:
            message = await session.get(Message, message_id)
            assert message is not None
            portal = await Portal.of(self.core, session, message)
            await portal.mark(message, "failed", error_code=exc.code, error_message=str(exc))
            if exc.code == OPTED_OUT_CODE:
                await opt_out_lead(
                    self.core, session, portal.lead, "the carrier reports an opt-out"
                )
            portal.notice(
                f"⚠️ SMS to {portal.label} failed: {error_text(exc.code, str(exc))}.",
                message_id=message.id,
                mention=await portal.author_of(message),
            )

        return finish

    def _unknown(self, message_id: int) -> object:
        async def finish(session: AsyncSession) -> None:
            await self._mark_unknown(session, message_id)

        return finish

    async def _mark_unknown(self, session: AsyncSession, message_id: int | None) -> None:
        message = await session.get(Message, message_id) if message_id else None
        if message is None or message.status != "pending":
            return
        portal = await Portal.of(self.core, session, message)
        await portal.mark(message, "unknown")
        portal.notice(
            f"❓ Not sure the SMS to {portal.label} went out (the connection broke while "
            "sending). It was not repeated automatically: check with the lead, or press Retry.",
            message_id=message.id,
            actions=["retry"],
            mention=await portal.author_of(message),
        )

    def _refused_opted_out(self, message_id: int) -> object:
        async def finish(session: AsyncSession) -> None:
            message = await session.get(Message, message_id)
            assert message is not None
            portal = await Portal.of(self.core, session, message)
            await portal.mark(message, "canceled", error_message="not sent: the lead opted out")

        return finish

    async def lost(self, session: AsyncSession, delivery: Delivery) -> None:
        # The request may have reached Twilio before the crash: never resend blindly.
        delivery.status = "unknown"
        delivery.finished_at = self.core.now()
        delivery.last_error = "process stopped while sending"
        await self._mark_unknown(session, delivery.message_id)

    async def gave_up(self, session: AsyncSession, delivery: Delivery, reason: str) -> None:
        message = await session.get(Message, delivery.message_id) if delivery.message_id else None
        if message is None or message.status not in ("pending",):
            return
        portal = await Portal.of(self.core, session, message)
        await portal.mark(message, "failed", error_message=reason)
        portal.notice(
            f"⚠️ SMS to {portal.label} failed after several tries: {reason}.",
            message_id=message.id,
            actions=["retry"],
            mention=await portal.author_of(message),
        )
