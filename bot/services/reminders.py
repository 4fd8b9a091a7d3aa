"""An inbox automation: when a lead has waited `remind_after_minutes` (per organization)
for a reply, the conversation's thread gets a notice that mentions its assignee, once
per wait. A reply clears the wait (needs_response); the lead's next SMS starts a new one."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.jobs import JobLoop
from bot.services.portal import Portal
from storage.models import Conversation, Lead, Organization

log = logging.getLogger(__name__)

# Waits are looked at for this long after they became due: a conversation left waiting
# for weeks (or older than the setting) is not reminded about out of the blue.
WINDOW = timedelta(days=1)
# Not reminded since the conversation's last message: this wait is not reminded yet.
NOT_REMINDED = or_(
    Conversation.reminded_at.is_(None), Conversation.reminded_at < Conversation.last_message_at
)


async def remind_waiting(core: Core, now: datetime | None = None) -> int:
    """Queue a reminder for every conversation whose lead waits past its organization's
    limit and was not reminded since its last message. Returns how many were queued."""
    now = now or core.now()

    async def work(session: AsyncSession) -> int:
        orgs = await session.execute(
            select(Organization.id, Organization.remind_after_minutes).where(
                Organization.remind_after_minutes > 0
            )
        )
        queued = 0
        for org_id, minutes in orgs.all():
            due = now - timedelta(minutes=minutes)
            waiting = await session.scalars(
                select(Conversation).where(
                    Conversation.organization_id == org_id,
                    Conversation.status == "open",
                    Conversation.last_message_at <= due,
                    Conversation.last_message_at > due - WINDOW,
                    Conversation.needs_response.is_(True),
                    NOT_REMINDED,
                    # Nobody may text an opted-out lead: never ask the team to.
                    ~Conversation.lead.has(Lead.opted_out.is_(True)),
                )
            )
            for conversation in waiting:
                queued += await _remind(core, session, conversation, now)
        return queued

    return await core.run(work)


async def _remind(
    core: Core, session: AsyncSession, conversation: Conversation, now: datetime
) -> int:
    # Claimed with a conditional update: two processes never remind the same wait twice.
    claimed = await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id, NOT_REMINDED)
        .values(reminded_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return 0
    portal = Portal(core, session, conversation)
    waited = int((now - conversation.last_message_at).total_seconds() // 60)
    who = conversation.assignee
    portal.notice(
        f"⏰ {portal.label} has waited {_duration(waited)} for a reply"
        + (f" (assigned to {who.name})." if who else ", and nobody is assigned."),
        mention=who,
    )
    return 1


def _duration(minutes: int) -> str:
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


class Reminders:
    """Looks for waits every `every` seconds while the process runs (bot/jobs.py)."""

    def __init__(self, core: Core, every: float = 60.0) -> None:
        self.core = core
        self.loop = JobLoop("reminders", self._step, poll=every)

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()

    async def _step(self) -> None:
        queued = await remind_waiting(self.core)
        if queued:
            log.info("reminded %d waiting conversation(s)", queued)
