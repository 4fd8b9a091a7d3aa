"""Benchmark 4 — memory and size: 100,000 conversations and 1,000,000 messages (plus a
delivery per message and a thread per conversation), bulk-loaded with SQL
(bench/dataset.py). Reported: load time and database size; RSS of `smsbridge run` once
healthy and after 2,000 inbound webhooks to existing conversations; the time of the
`/sms inbox` queries (bot.services.queries.inbox for each filter, inbox_counts, search by
phone, name, digits and message words), of the report figures over the last week and year
(bot.services.reports) and of a delivery-worker claim. Baseline: the same at 1/100 of the
size, in the same run. PostgreSQL too when SMSBRIDGE_BENCH_POSTGRES_URL or
SMSBRIDGE_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.common import LINE, free_port, rss_kib, run_load, start_server, workdir
from bench.dataset import Loaded, lead_phone_of, load
from bench.ingest import applied, signed_requests
from bot.config import Settings
from bot.core import Core
from bot.delivery.worker import Result, Worker
from bot.directory_file import parse_directory
from bot.services.directory import sync_directory
from bot.services.queries import FILTERS, inbox, inbox_counts, search
from bot.services.reports import figures
from storage.db import Database
from storage.models import Conversation, Delivery, Member, Organization
from tests.pg import BENCH_URL, throwaway_database

FULL = (100_000, 10)
BASE = (1_000, 10)
WEBHOOKS = 2_000
REPEAT = 20
DIRECTORY = {
    "organizations": {"acme": {"name": "Acme Roofing"}},
    "lines": {LINE: {"organization": "acme", "label": "Sales"}},
}


class _Idle:
    batch = 10

    async def run(self, deliveries: list[Delivery]) -> Result:
        return Result()

    async def lost(self, session: Any, delivery: Delivery) -> None: ...

    async def gave_up(self, session: Any, delivery: Delivery, reason: str) -> None: ...


async def median_ms(call: Callable[[], Awaitable[Any]], repeat: int = REPEAT) -> float:
    await call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def query_times(db: Database, data: Loaded) -> dict[str, float]:
    out: dict[str, float] = {}
    async with db.session() as s:
        member = await s.get(Member, data.member_id)
        for filter_ in FILTERS:
            out[f"inbox {filter_}"] = await median_ms(
                lambda f=filter_: inbox(s, data.organization_id, f, member)  # type: ignore[misc]
            )
        out["inbox_counts"] = await median_ms(lambda: inbox_counts(s, data.organization_id, member))
        phone = lead_phone_of(10)
        out["search by phone"] = await median_ms(lambda: search(s, data.organization_id, phone))
        org = await s.get(Organization, data.organization_id)
        assert org is not None
        end = await s.scalar(select(func.max(Conversation.created_at)))
        assert end is not None
        for label, days in (("report week", 7), ("report year", 365)):
            since = end - timedelta(days=days)
            out[label] = await median_ms(lambda since=since: figures(s, org, since, end), 5)
        # Full text: a name, a piece of a number, a word every message has (the worst
        # case: the newest 10 of a million hits) and a word no message has.
        for label, query in (
            ("search by name", "Lead 1000"),
            ("search by digits", phone[-7:-2]),
            ("search common word", "tuesday"),
            ("search rare word", "plumbing"),
        ):
            out[label] = await median_ms(
                lambda q=query: search(s, data.organization_id, q)  # type: ignore[misc]
            )
    worker = Worker(Core(db, Settings(database_url=db.url)), {"slack": _Idle(), "sms": _Idle()})
    out["worker claim"] = await median_ms(lambda: worker._claim(16))
    return out


def db_size(url: str, tmp: Path) -> str:
    if url.startswith("sqlite"):
        files = [p for p in tmp.iterdir() if p.name.startswith("size.db")]
        return f"{sum(p.stat().st_size for p in files) / 2**20:.0f} MiB"
    return "?"


async def pg_size(db: Database) -> str:
    async with db.engine.connect() as conn:
        size = await conn.exec_driver_sql("SELECT pg_database_size(current_database())")
        return f"{size.scalar() / 2**20:.0f} MiB"


async def measure(tmp: Path, url: str, conversations: int, messages_per: int) -> dict[str, Any]:
    db = Database(url)
    try:
        await db.upgrade()
        await sync_directory(Core(db, Settings(database_url=url)), parse_directory(DIRECTORY))
        started = time.perf_counter()
        data = await load(db, conversations, messages_per)
        load_s = time.perf_counter() - started
        size = db_size(url, tmp) if db.is_sqlite else await pg_size(db)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        # Leads of open conversations of the bench organization (n % 10 < 3, dataset.py):
        # texting a closed one would reopen it and change what the queries count.
        leads = [lead_phone_of(n) for n in range(conversations) if n % 10 < 3]
        file = tmp / "size-requests.json"
        file.write_text(json.dumps(signed_requests(base, WEBHOOKS, "z", leads)))
        server = await start_server(tmp, url, port=port, log_level="WARNING")
        try:
            await asyncio.sleep(1.0)
            rss_idle = rss_kib(server.pid)
            report = await asyncio.to_thread(run_load, file, base + "/twilio/sms", 32)
            applying = await applied(url)  # the answered SMS, applied: the "after" state
            rss_busy = rss_kib(server.pid)
            times = await query_times(db, data)
        finally:
            server.stop()
        ok = report["statuses"].get("200", 0)
        assert ok == WEBHOOKS, f"webhooks answered {report['statuses']}"
        return {
            "load_s": load_s,
            "size": size,
            "rss_idle": rss_idle / 1024,
            "rss_busy": rss_busy / 1024,
            "times": times,
            "webhook_rps": WEBHOOKS / report["wall"],
            "apply_rps": WEBHOOKS / (report["wall"] + applying),
        }
    finally:
        await db.dispose()


def report(name: str, full: dict[str, Any], base: dict[str, Any]) -> list[str]:
    c, m = FULL
    out = [
        f"  {name}: {c:,} conversations, {c * m:,} messages (+ {c * m:,} deliveries, "
        f"{c:,} threads); baseline {BASE[0]:,} / {BASE[0] * BASE[1]:,}",
        f"    bulk load {full['load_s']:.1f} s, database {full['size']} (baseline {base['size']})",
        f"    RSS of smsbridge run: {full['rss_idle']:.0f} MiB at start, "
        f"{full['rss_busy']:.0f} MiB after {WEBHOOKS:,} webhooks "
        f"(baseline {base['rss_idle']:.0f} / {base['rss_busy']:.0f} MiB, ratio "
        f"{full['rss_busy'] / base['rss_busy']:.2f})",
        f"    webhooks to existing conversations: answered {full['webhook_rps']:.0f}/s "
        f"(baseline {base['webhook_rps']:.0f}), applied {full['apply_rps']:.0f}/s "
        f"(baseline {base['apply_rps']:.0f})",
    ]
    for key, value in full["times"].items():
        b = base["times"][key]
        out.append(
            f"    {key:<22} {value:7.2f} ms   (baseline {b:6.2f} ms, ratio {value / b:5.2f})"
        )
    return out


@asynccontextmanager
async def sqlite(sub: Path) -> AsyncIterator[str]:
    yield f"sqlite+aiosqlite:///{sub / 'size.db'}"


def postgres(sub: Path) -> AbstractAsyncContextManager[str]:
    assert BENCH_URL
    return throwaway_database(BENCH_URL, "smsbridge_size")


async def run() -> list[str]:
    out = []
    with workdir() as tmp:
        targets = [("SQLite", sqlite)] + ([("PostgreSQL", postgres)] if BENCH_URL else [])
        for name, database in targets:
            results = []
            for i, (conversations, per) in enumerate((BASE, FULL)):
                sub = tmp / f"{name}-{i}"
                sub.mkdir()
                async with database(sub) as url:
                    results.append(await measure(sub, url, conversations, per))
            lines = report(name, results[1], results[0])
            for row in lines:
                print(row, flush=True)
            out += lines
    return out
