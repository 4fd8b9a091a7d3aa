"""The delivery lease (SMSBRIDGE_LEASE_SECONDS): configurable, renewed while a delivery
runs so that a live worker keeps its rows, and taken over once a worker stops renewing.
In one process on SQLite, with two workers standing for two processes."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import ConfigError, load_settings
from bot.core import Core
from bot.delivery import queue
from bot.delivery.worker import Result, Worker
from storage.models import Delivery


def test_lease_seconds_is_read_and_checked() -> None:
    assert load_settings({}, read_dotenv=False).lease_seconds == 120
    assert load_settings({"SMSBRIDGE_LEASE_SECONDS": "15"}, read_dotenv=False).lease_seconds == 15
    for bad in ("0", "-3", "soon"):
        with pytest.raises(ConfigError, match="SMSBRIDGE_LEASE_SECONDS"):
            load_settings({"SMSBRIDGE_LEASE_SECONDS": bad}, read_dotenv=False)


class Slow:
    """A handler that takes longer than the lease."""

    batch = 1

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = asyncio.Event()
        self.runs = 0
        self.lost_ids: list[int] = []

    async def run(self, deliveries: list[Delivery]) -> Result:
        self.runs += 1
        self.started.set()
        await asyncio.sleep(self.seconds)
        return Result()

    async def lost(self, session: AsyncSession, delivery: Delivery) -> None:
        self.lost_ids.append(delivery.id)
        delivery.status = "pending"

    async def gave_up(self, session: AsyncSession, delivery: Delivery, reason: str) -> None: ...


async def add_delivery(core: Core) -> int:
    async def work(session: AsyncSession) -> int:
        delivery = queue.enqueue(session, "test.slow", "slow", now=core.now())
        await session.flush()
        return delivery.id

    return await core.run(work)


async def test_a_running_delivery_keeps_its_lease_past_the_lease_time(core: Core) -> None:
    slow = Slow(seconds=2.5)
    worker = Worker(core, {"slow": slow}, lease=1.0, poll=0.05)
    rival = Worker(core, {"slow": Slow(0)}, lease=1.0, poll=0.05)
    delivery_id = await add_delivery(core)
    worker.start()
    try:
        await asyncio.wait_for(slow.started.wait(), 5)
        for _ in range(10):  # 2 s: twice the lease
            await asyncio.sleep(0.2)
            assert await rival.recover(all_running=False) == 0, "a live worker's row was taken"
    finally:
        await worker.stop()
    async with core.db.session() as s:
        delivery = await s.get(Delivery, delivery_id)
    assert delivery is not None and delivery.status == "done" and slow.runs == 1


async def test_a_worker_that_stops_renewing_loses_its_rows_after_the_lease(core: Core) -> None:
    slow = Slow(seconds=30)
    dead = Worker(core, {"slow": slow}, lease=1.0, poll=0.05)
    delivery_id = await add_delivery(core)
    dead.start()
    await asyncio.wait_for(slow.started.wait(), 5)
    # Its loop stops (no more renewals, as in a process that died or lost the database)
    # while the delivery is still "running" there.
    await asyncio.wait_for(dead.loop.stop(), 5)
    heir_handler = Slow(0)
    heir = Worker(core, {"slow": heir_handler}, lease=1.0, poll=0.05)
    assert await heir.recover(all_running=False) == 0, "taken before the lease ran out"
    await asyncio.sleep(1.2)
    assert await heir.recover(all_running=False) == 1
    assert heir_handler.lost_ids == [delivery_id]
    heir.start()
    try:
        async with core.db.session() as s:
            await _until_done(s, delivery_id)
    finally:
        await heir.stop()
        for task in list(dead._running):
            task.cancel()
    assert heir_handler.runs == 1


async def _until_done(session: AsyncSession, delivery_id: int) -> None:
    for _ in range(100):
        status = await session.scalar(select(Delivery.status).where(Delivery.id == delivery_id))
        if status == "done":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"delivery {delivery_id} is {status}")


def test_chat_platforms_served_elsewhere_are_read_and_checked() -> None:
    env = {"SMSBRIDGE_CHAT_PLATFORMS": "discord, Slack"}
    settings = load_settings(env, read_dotenv=False)
    assert settings.remote_chat == {"discord", "slack"}
    assert settings.chat_platforms() == {"discord", "slack"}
    assert "discord: served by another process" in "\n".join(settings.platforms_report())
    with pytest.raises(ConfigError, match="SMSBRIDGE_CHAT_PLATFORMS"):
        load_settings({"SMSBRIDGE_CHAT_PLATFORMS": "teams"}, read_dotenv=False)
