"""The worker claims a conversation's head delivery with its follow-ups in one UPDATE. A
follow-up that changed between the look and the take (an undo canceled it) ends the
batch; what was taken beyond it goes back to pending, so it runs next in order instead
of sitting `running` until the lease runs out (and an SMS there being called unknown)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.delivery import queue
from bot.delivery.worker import Result, Worker
from storage.models import Conversation, Delivery, Lead, Line, Organization


class Batches:
    batch = 10

    async def run(self, deliveries: list[Delivery]) -> Result:
        return Result()

    async def lost(self, session: AsyncSession, delivery: Delivery) -> None: ...

    async def gave_up(self, session: AsyncSession, delivery: Delivery, reason: str) -> None: ...


async def queued(core: Core, count: int) -> list[int]:
    """`count` deliveries in one conversation's lane, in order."""

    async def work(session: AsyncSession) -> list[int]:
        org = Organization(key="acme", name="Acme")
        session.add(org)
        await session.flush()
        line = Line(organization_id=org.id, phone="+15005550006")
        lead = Lead(organization_id=org.id, phone="+14155550100")
        session.add_all([line, lead])
        await session.flush()
        conversation = Conversation(organization_id=org.id, line_id=line.id, lead_id=lead.id)
        session.add(conversation)
        await session.flush()
        made = [
            queue.enqueue(session, "test.post", "lane", now=core.now(),
                          conversation_id=conversation.id)
            for _ in range(count)
        ]  # fmt: skip
        await session.flush()
        return [d.id for d in made]

    return await core.run(work)


async def statuses(core: Core) -> list[str]:
    async with core.db.session() as s:
        return list(await s.scalars(select(Delivery.status).order_by(Delivery.id)))


async def test_a_head_and_its_follow_ups_are_claimed_as_one_batch(core: Core) -> None:
    ids = await queued(core, 4)
    worker = Worker(core, {"lane": Batches()})

    (batch,) = await worker._claim(16)

    assert [d.id for d in batch] == ids
    assert await statuses(core) == ["running"] * 4


async def test_a_follow_up_canceled_meanwhile_ends_the_batch_and_the_rest_waits_pending(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await queued(core, 4)
    worker = Worker(core, {"lane": Batches()})
    look = worker._follow_ups

    async def then_undone(
        session: AsyncSession, head: Delivery, now: datetime, extra: int
    ) -> list[Delivery]:
        following = await look(session, head, now, extra)
        # The undo of the second one lands between the look and the take.
        await session.execute(
            update(Delivery).where(Delivery.id == ids[2]).values(status="canceled")
        )
        return following

    monkeypatch.setattr(worker, "_follow_ups", then_undone)
    (batch,) = await worker._claim(16)

    assert [d.id for d in batch] == ids[:2]
    assert await statuses(core) == ["running", "running", "canceled", "pending"]
    async with core.db.session() as s:
        rest = await s.get(Delivery, ids[3])
        assert rest is not None and rest.worker is None and rest.attempts == 0
