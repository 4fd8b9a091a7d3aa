"""The `/sms inbox` queries (bot.services.queries.inbox / inbox_counts / search), the
inbound SMS path (with STOP and START) and the delivery worker's queries use indexes, on
SQLite (EXPLAIN QUERY PLAN) and on PostgreSQL (EXPLAIN) when SMSBRIDGE_TEST_POSTGRES_URL
is set. The database is built by the migrations (so they carry the indexes) and
bulk-loaded as bench/dataset.py does, then analyzed; every statement those calls run is
captured and explained: no full scan of a large table (conversations, leads, messages,
threads, deliveries, chat posts) may appear."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from bench.dataset import BENCH_LINE, Loaded, lead_phone_of, load
from bot.config import Settings
from bot.core import Core
from bot.delivery import queue
from bot.delivery.chat import ChatMirror
from bot.delivery.worker import Result, Worker
from bot.services.intake import Intake
from bot.services.queries import FILTERS, inbox, inbox_counts, search
from bot.types import InboundSms
from storage.db import Database
from storage.models import (
    Base,
    Conversation,
    Delivery,
    Lead,
    Line,
    Member,
    Message,
    Route,
    Thread,
)
from storage.search import search_objects
from tests.pg import TEST_URL, throwaway_database

BIG = ("conversations", "leads", "messages", "threads", "deliveries", "chat_posts")


@pytest.fixture(params=["sqlite", "postgresql"])
async def loaded(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Database, Loaded]]:
    if request.param == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'plans.db'}")
        await db.upgrade()
        data = await load(db, conversations=4_000, messages_per=3)
        yield db, data
        await db.dispose()
        return
    if not TEST_URL:
        pytest.skip("SMSBRIDGE_TEST_POSTGRES_URL is not set")
    async with throwaway_database(TEST_URL, "smsbridge_plans") as url:
        db = Database(url)
        try:
            await db.upgrade()
            data = await load(db, conversations=20_000, messages_per=3)
            yield db, data
        finally:
            await db.dispose()


async def captured(db: Database, calls: Callable[[], Awaitable[Any]]) -> list[tuple[str, Any]]:
    """The distinct SELECT statements (with parameters) that `calls` runs."""
    seen: dict[str, Any] = {}

    def record(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.setdefault(statement, params)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        await calls()
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    return list(seen.items())


async def plans(db: Database, statements: list[tuple[str, Any]]) -> dict[str, str]:
    out = {}
    async with db.engine.connect() as conn:
        for sql, params in statements:
            prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN "
            rows = (await conn.exec_driver_sql(prefix + sql, params)).all()
            out[sql] = "\n".join(str(row[-1]) for row in rows)
    return out


def full_scans(plan: str, sqlite: bool) -> list[str]:
    tables = "|".join(BIG)
    pattern = rf"^\s*SCAN ({tables})\b" if sqlite else rf"Seq Scan on ({tables})\b"
    return [line for line in plan.splitlines() if re.search(pattern, line)]


def assert_indexed(db: Database, found: dict[str, str]) -> None:
    assert found, "no statement was captured"
    for sql, plan in found.items():
        scans = full_scans(plan, db.is_sqlite)
        assert not scans, f"full scan in\n{sql}\n--- plan ---\n{plan}"


async def test_inbox_queries_use_indexes(loaded: tuple[Database, Loaded]) -> None:
    db, data = loaded
    async with db.engine.connect() as conn:  # the indexes below are the migrations' too
        diff = await conn.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"include_name": search_objects}),
                Base.metadata,
            )
        )
    assert diff == [], f"models and migrations differ: {diff}"

    async def calls() -> None:
        async with db.session() as s:
            member = await s.get(Member, data.member_id)
            for filter_ in FILTERS:
                total, items = await inbox(s, data.organization_id, filter_, member)
                assert items and total >= len(items), filter_
            counts = await inbox_counts(s, data.organization_id, member)
            assert counts["open"] > counts["unread"] > 0
            # A bulk lead of the bench organization (conversation 10: 10 % 10 < 4).
            assert await search(s, data.organization_id, lead_phone_of(10))

    found = await plans(db, await captured(db, calls))
    assert_indexed(db, found)
    counts = [p for sql, p in found.items() if "count(*)" in sql.lower()]
    assert len(counts) >= 6
    for plan in counts:
        if db.is_sqlite:
            assert "COVERING INDEX" in plan, plan
        else:
            assert re.search(r"Index (Only )?Scan|Bitmap Index Scan", plan), plan
    pages = [  # inbox pages (a phone search finds one or two: sorting them is free)
        p
        for sql, p in found.items()
        if "LIMIT" in sql and "conversations.id" in sql and "conversations.lead_id IN" not in sql
    ]
    assert pages
    for plan in pages:
        assert "TEMP B-TREE" not in plan, f"the inbox page is sorted, not read in order:\n{plan}"


async def test_search_reads_the_full_text_indexes(loaded: tuple[Database, Loaded]) -> None:
    """`/sms search` by name, by a piece of a number and by words of messages, with a
    word every message has (the worst case) and one none has."""
    db, data = loaded

    async def calls() -> None:
        async with db.session() as s:
            assert await search(s, data.organization_id, "Lead 1000")
            assert await search(s, data.organization_id, lead_phone_of(10)[-7:-2])
            hits = await search(s, data.organization_id, "tuesday estimate")
            assert len(hits) == 10
            assert await search(s, data.organization_id, "plumbing") == []

    found = await plans(db, await captured(db, calls))
    assert_indexed(db, found)
    fts = [p for sql, p in found.items() if "_fts" in sql or "to_tsvector" in sql]
    assert len(fts) >= 2, found
    for plan in fts:
        if db.is_sqlite:
            assert "VIRTUAL TABLE INDEX" in plan, plan
        else:
            assert re.search(r"Bitmap Index Scan on ix_(leads|messages)_search", plan), plan


async def test_inbound_sms_and_opt_out_use_indexes(loaded: tuple[Database, Loaded]) -> None:
    """The ingest path (stored by the intake, then applied: together for SMS of open,
    unassigned or new conversations, one by one otherwise), and STOP (which reads every
    conversation of the lead)."""
    db, _ = loaded
    core = Core(db, Settings(database_url=db.url), chat_platforms={"slack"})
    intake = Intake(core)
    phone = lead_phone_of(10)  # a lead of the bench organization, on its line
    async with db.session() as s:
        waiting = await s.scalar(
            select(Lead.phone)
            .join(Conversation, Conversation.lead_id == Lead.id)
            .join(Line, Line.id == Conversation.line_id)
            .where(
                Line.phone == BENCH_LINE,
                Conversation.status == "open",
                Conversation.assignee_id.is_(None),
            )
            .limit(1)
        )
    assert waiting is not None
    texts = [(waiting, "Still there?"), ("+14155559999", "Hi, new here")]
    texts += [(phone, body) for body in ("Is Tuesday still OK?", "STOP", "START")]

    async def calls() -> None:
        for i, (sender, body) in enumerate(texts):
            sms = InboundSms(f"SMPLAN{i:026d}", sender, BENCH_LINE, body, ())
            assert await intake.accept(sms) == "stored"
            assert await intake.apply_next()
        assert not await intake.apply_next()

    assert_indexed(db, await plans(db, await captured(db, calls)))


class _Idle:
    batch = 10

    async def run(self, deliveries: list[Delivery]) -> Result:
        return Result()

    async def lost(self, session: AsyncSession, delivery: Delivery) -> None: ...

    async def gave_up(self, session: AsyncSession, delivery: Delivery, reason: str) -> None: ...


async def test_delivery_worker_queries_use_indexes(loaded: tuple[Database, Loaded]) -> None:
    """A million finished deliveries must not slow the claim down: it reads the index."""
    db, _ = loaded
    worker = Worker(Core(db, Settings(database_url=db.url)), {"slack": _Idle(), "sms": _Idle()})

    async def calls() -> None:
        assert await worker._claim(16) == []
        await worker._next_wait(worker.core.now())
        await worker.recover(all_running=False)

    assert_indexed(db, await plans(db, await captured(db, calls)))


class _Mirrored:
    """A chat bridge that takes every post: the run's reads are what is measured."""

    platform = "slack"

    async def post_messages(self, thread: Any, view: Any, messages: list[Any]) -> list[str]:
        return [f"post{m.id}" for m in messages]

    async def update_header(self, thread: Any, view: Any) -> None: ...


async def test_chat_mirror_reads_use_indexes(loaded: tuple[Database, Loaded]) -> None:
    """Mirroring an SMS reads its conversation, route, thread, message and posts by key."""
    db, _ = loaded
    async with db.session() as s, s.begin():
        conversation = await s.scalar(
            select(Conversation).join(Thread, Thread.conversation_id == Conversation.id).limit(1)
        )
        assert conversation is not None
        message_id = await s.scalar(
            select(Message.id).where(Message.conversation_id == conversation.id).limit(1)
        )
        if await s.scalar(select(Route.id).where(Route.line_id == conversation.line_id)) is None:
            s.add(Route(line_id=conversation.line_id, platform="slack", channel="C0SALES"))
    core = Core(db, Settings(database_url=db.url), chat_platforms={"slack"})
    mirror = ChatMirror(core, _Mirrored())  # type: ignore[arg-type]
    batch = [
        Delivery(kind=kind, lane="slack", conversation_id=conversation.id, message_id=mid)
        for kind, mid in ((queue.CHAT_MESSAGE, message_id), (queue.CHAT_HEADER, None))
    ]

    async def calls() -> None:
        result = await mirror.run(batch)
        # The dataset's message has its chat post already: nothing is posted again.
        assert result.status == "done" and result.finish is None

    found = await plans(db, await captured(db, calls))
    assert len(found) == 2, list(found)  # the conversation; the messages with posts and media
    assert_indexed(db, found)
