"""Benchmark 5 — applying received SMS (bot/services/intake.py) in one process, without
HTTP: what the intake can do once a burst is stored.

5,000 received SMS from 1,000 leads (each lead new on its first SMS) are stored as the
webhook stores them; then the intake applies them (lead, conversation, message, Slack
deliveries), timed. Floor, same run, same database engine: the same rows (leads,
conversations, messages, deliveries) inserted with plain Core `executemany` in one
transaction. CPU seconds are printed beside wall seconds: on a shared machine a busy
neighbour stretches the wall clock, not the CPU time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select

from bench.common import LINE, workdir
from bot.config import Settings
from bot.core import Core
from bot.directory_file import parse_directory
from bot.services.directory import sync_directory
from bot.services.intake import Intake
from storage.db import Database
from storage.models import Conversation, Delivery, Lead, Line, Message, ReceivedSms
from tests.pg import BENCH_URL, throwaway_database

SMS = 5_000
LEADS = 1_000
DIRECTORY = {
    "organizations": {"acme": {"name": "Acme Roofing", "timezone": "UTC"}},
    "lines": {LINE: {"organization": "acme", "label": "Sales", "slack_channel": "C0BENCH"}},
}


def lead(i: int) -> str:
    return f"+1415555{i % LEADS:04d}"


@asynccontextmanager
async def fresh(url: str) -> AsyncIterator[Core]:
    db = Database(url)
    try:
        await db.create_all()
        core = Core(db, Settings(database_url=url), chat_platforms={"slack"})
        await sync_directory(core, parse_directory(DIRECTORY))
        yield core
    finally:
        await db.dispose()


async def timed(work: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    await work()
    return time.perf_counter() - wall, time.process_time() - cpu


async def apply_rate(url: str, sms: int) -> tuple[float, float]:
    async with fresh(url) as core:
        now = datetime.now(UTC)
        rows = [
            {
                "provider_sid": f"SM{i:032x}",
                "line_phone": LINE,
                "lead_phone": lead(i),
                "payload": {"body": f"Is Tuesday at 9 still OK? ({i})", "media": []},
                "received_at": now,
                "attempts": 0,
            }
            for i in range(sms)
        ]
        async with core.db.engine.begin() as conn:
            await conn.execute(insert(ReceivedSms.__table__), rows)
        intake = Intake(core)

        async def drain() -> None:
            while await intake.apply_next():
                pass

        took = await timed(drain)
        async with core.db.session() as s:
            stored = await s.scalar(select(func.count()).select_from(Message))
        assert stored == sms, f"applied {stored} of {sms}"
        return took


async def floor_rate(url: str, sms: int) -> tuple[float, float]:
    """The same rows as applying writes, with executemany, in one transaction."""
    async with fresh(url) as core:
        async with core.db.session() as s:
            line = await s.scalar(select(Line).where(Line.phone == LINE))
            assert line is not None
            org, line_id = line.organization_id, line.id
        now = datetime.now(UTC)

        async def write() -> None:
            async with core.db.engine.begin() as conn:
                leads = [
                    {"organization_id": org, "phone": lead(i), "fields": {}, "created_at": now}
                    for i in range(LEADS)
                ]
                lead_ids = list(
                    await conn.scalars(
                        insert(Lead.__table__).returning(Lead.id, sort_by_parameter_order=True),
                        leads,
                    )
                )
                conversations = [
                    {
                        "organization_id": org,
                        "line_id": line_id,
                        "lead_id": lead_id,
                        "status": "open",
                        "tags": [],
                        "unread_count": 1,
                        "needs_response": True,
                        "has_inbound": True,
                        "created_at": now,
                        "last_message_at": now,
                    }
                    for lead_id in lead_ids
                ]
                conversation_ids = list(
                    await conn.scalars(
                        insert(Conversation.__table__).returning(
                            Conversation.id, sort_by_parameter_order=True
                        ),
                        conversations,
                    )
                )
                messages = [
                    {
                        "conversation_id": conversation_ids[i % LEADS],
                        "kind": "sms",
                        "direction": "in",
                        "body": f"Is Tuesday at 9 still OK? ({i})",
                        "status": "received",
                        "provider_sid": f"SM{i:032x}",
                        "source": "sms",
                        "created_at": now,
                    }
                    for i in range(sms)
                ]
                message_ids = list(
                    await conn.scalars(
                        insert(Message.__table__).returning(
                            Message.id, sort_by_parameter_order=True
                        ),
                        messages,
                    )
                )
                deliveries = [
                    {
                        "kind": "chat.message",
                        "lane": "slack",
                        "conversation_id": conversation_ids[i % LEADS],
                        "message_id": message_id,
                        "payload": {},
                        "status": "pending",
                        "attempts": 0,
                        "run_at": now,
                        "created_at": now,
                    }
                    for i, message_id in enumerate(message_ids)
                ]
                await conn.execute(insert(Delivery.__table__), deliveries)

        return await timed(write)


def line(name: str, sms: int, took: tuple[float, float], floor: tuple[float, float]) -> str:
    wall, cpu = took
    return (
        f"  {name:<22} {sms / wall:7.0f} SMS/s  ({wall:5.2f} s wall, {cpu * 1000 / sms:.2f} ms CPU "
        f"per SMS)  ratio {floor[0] / wall:.2f} of the floor"
    )


async def run(quick: bool = False) -> list[str]:
    sms = SMS // 5 if quick else SMS
    out = [
        f"apply: {sms:,} received SMS from {LEADS:,} leads applied by the intake in one "
        "process; floor: the same rows by Core executemany"
    ]
    print(out[0], flush=True)

    def show(name: str, took: tuple[float, float], floor: tuple[float, float]) -> None:
        out.append(f"  {name + ' floor (executemany)':<34} {sms / floor[0]:7.0f} SMS/s")
        out.append(line(f"{name} intake", sms, took, floor))
        print("\n".join(out[-2:]), flush=True)

    with workdir() as tmp:
        floor = await floor_rate(f"sqlite+aiosqlite:///{tmp / 'floor.db'}", sms)
        show("SQLite", await apply_rate(f"sqlite+aiosqlite:///{tmp / 'apply.db'}", sms), floor)
    if BENCH_URL:
        async with throwaway_database(BENCH_URL, "smsbridge_bench_floor") as url:
            floor = await floor_rate(url, sms)
        async with throwaway_database(BENCH_URL, "smsbridge_bench_apply") as url:
            show("PostgreSQL", await apply_rate(url, sms), floor)
    return out


if __name__ == "__main__":
    asyncio.run(run())
