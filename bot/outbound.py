"""`smsbridge send`: outbound from scripts and campaigns through the same durable path and
checks as a reply typed in chat. It queues the SMS, then (unless told not to) works the
SMS lane until that message has an outcome. Claiming is atomic, so a server running on the
same database at the same time never sends it twice."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import sms_plugin
from bot.config import Settings
from bot.core import Core
from bot.delivery.sms import SmsSender
from bot.delivery.worker import Worker
from bot.domain.phones import InvalidPhone, normalize_phone
from bot.facade import Facade
from bot.plugins import Context
from bot.results import Done, Queued, Refused
from bot.services.access import Denied
from bot.services.conversations import start_conversation
from bot.services.directory import sync_directory
from storage.db import Database
from storage.models import Line, Message


async def send_from_line(
    settings: Settings,
    line_phone: str,
    phone: str,
    text: str,
    *,
    wait: bool = True,
    timeout: float = 60.0,
) -> tuple[Queued | Done | Refused, str | None]:
    """Returns the outcome and, when waited for, the message's status."""
    db = Database(settings.database_url, pooler=settings.database_pooler)
    try:
        await db.upgrade()
        core = Core(db, settings, chat_platforms=settings.chat_platforms())
        await sync_directory(core, settings.directory)
        try:
            line_e164 = normalize_phone(line_phone)
        except InvalidPhone as exc:
            return Refused(f"--from: {exc}"), None

        async def work(session: AsyncSession) -> Queued | Done | Refused:
            line = await session.scalar(select(Line).where(Line.phone == line_e164))
            if line is None:
                return Refused(f"{line_e164} is not a configured line (see smsbridge check)")
            try:
                return await start_conversation(
                    core, session, line, phone, text, author=None, source="cli"
                )
            except Denied as exc:
                return Refused(str(exc))

        outcome = await core.run(work)
        if not isinstance(outcome, Queued) or not wait or outcome.held:
            return outcome, None
        # Only the gateway is used: nothing is served, no webhook is taken here.
        sms = sms_plugin(settings, Context(Facade(core), settings, _no_media))
        if sms is None:
            return Refused(
                "no SMS bridge is on here (see smsbridge check): "
                "the SMS is queued for a running server"
            ), "pending"
        gateway = sms.gateway
        worker = Worker(
            core,
            {"sms": SmsSender(core, gateway, segments_per_second=settings.sms_per_second)},
            poll=0.2,
        )
        worker.start()
        status = "pending"
        try:
            async with asyncio.timeout(timeout):
                # Past "pending" the send has an outcome: Twilio took it, or it went no further.
                while status == "pending":
                    await asyncio.sleep(0.1)
                    async with db.session() as session:
                        status = (
                            await session.scalar(
                                select(Message.status).where(Message.id == outcome.message_id)
                            )
                            or "pending"
                        )
        except TimeoutError:
            pass
        finally:
            await worker.stop()
            await sms.stop()
        return outcome, status
    finally:
        await db.dispose()


async def _no_media(url: str) -> bytes | None:
    return None
