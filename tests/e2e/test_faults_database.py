"""The database cannot take the write: locked by another process's write transaction, or
disk full. While the webhook is being stored, it answers 503 (Twilio retries a 5xx), the
server stays responsive meanwhile, nothing half-written remains, and Twilio's retry of
the same MessageSid is stored exactly once. Once stored and answered, an SMS whose
applying fails half-way is rolled back and applied again later, once."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import Options, SmsBridge
from bot.config import Settings
from standins.twilio import TwilioStandIn
from storage import sqlite as inline_sqlite
from storage.models import Conversation, Delivery, Lead, Media, Message, ReceivedSms
from tests.conftest import LINE, applied, wait_for

NEW_LEAD = "+14155550177"
TABLES = (Lead, Conversation, Message, Media, Delivery)


@pytest.fixture
async def locked_bridge(settings: Settings) -> AsyncIterator[SmsBridge]:
    """A bridge that waits at most 0.3 s for a database lock."""
    url = settings.database_url + "?timeout=0.3"
    app = SmsBridge(replace(settings, database_url=url), Options(worker_kwargs={"poll": 0.05}))
    await app.start()
    yield app
    await app.stop()


async def counts(bridge: SmsBridge) -> dict[str, int]:
    async with bridge.db.session() as s:
        return {
            t.__tablename__: await s.scalar(select(func.count()).select_from(t)) or 0
            for t in TABLES
        }


async def post(bridge: SmsBridge, twilio: TwilioStandIn, sid: str, body: str) -> int:
    status, _ = await twilio.send_inbound(
        bridge.settings.public_url + "/twilio/sms",
        from_=NEW_LEAD,
        to=LINE,
        body=body,
        message_sid=sid,
    )
    return status


async def healthz(bridge: SmsBridge) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.get(bridge.settings.public_url + "/healthz") as r,
    ):
        return r.status


class WriteLock:
    """Another process's write transaction (a second SQLite connection on its own
    thread, as another process would hold it) until `release()`."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.held = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE conversations SET unread_count = unread_count")
        self.held.set()
        self.done.wait(30)
        conn.execute("ROLLBACK")
        conn.close()

    def __enter__(self) -> WriteLock:
        self.thread.start()
        self.held.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join(5)


async def test_locked_database_answers_503_stays_responsive_and_keeps_nothing(
    locked_bridge: SmsBridge, twilio: TwilioStandIn, tmp_path: Path
) -> None:
    bridge = locked_bridge
    assert await post(bridge, twilio, "SM" + "a" * 32, "before the lock") == 200
    await applied(bridge)
    before = await counts(bridge)
    with WriteLock(str(tmp_path / "smsbridge.db")):
        started = time.monotonic()
        webhook = asyncio.create_task(post(bridge, twilio, "SM" + "b" * 32, "during the lock"))
        # While the webhook waits for the lock the event loop keeps serving.
        await asyncio.sleep(0.05)
        assert await healthz(bridge) == 200
        assert not webhook.done(), "the webhook should still be waiting for the lock"
        assert await webhook == 503
        waited = time.monotonic() - started
        assert 0.25 < waited < 5, f"the lock wait is bounded by ?timeout= ({waited:.2f} s)"
        assert await counts(bridge) == before, "nothing half-written"
    # Twilio retries the same MessageSid once the database is free.
    assert await post(bridge, twilio, "SM" + "b" * 32, "during the lock") == 200
    assert await post(bridge, twilio, "SM" + "b" * 32, "during the lock") == 200
    await applied(bridge)
    async with bridge.db.session() as s:
        bodies = list(await s.scalars(select(Message.body).where(Message.kind == "sms")))
    assert bodies == ["before the lock", "during the lock"]


async def test_lock_released_within_the_wait_is_no_error(
    locked_bridge: SmsBridge, twilio: TwilioStandIn, tmp_path: Path
) -> None:
    lock = WriteLock(str(tmp_path / "smsbridge.db"))
    with lock:
        webhook = asyncio.create_task(post(locked_bridge, twilio, "SM" + "c" * 32, "short wait"))
        await asyncio.sleep(0.1)
    assert await webhook == 200


def failing_execute(match: str, error: str) -> Callable[..., Any]:
    """Make the driver fail like SQLite does when the disk fills up, on the statement
    that contains `match` (after the transaction already wrote other rows)."""
    original = inline_sqlite.InlineConnection._execute

    async def execute(self: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if args and isinstance(args[0], str) and match in args[0]:
            raise sqlite3.OperationalError(error)
        return await original(self, fn, *args, **kwargs)

    return execute


async def photo(bridge: SmsBridge, twilio: TwilioStandIn) -> int:
    status, _ = await twilio.send_inbound(
        bridge.settings.public_url + "/twilio/sms",
        from_=NEW_LEAD,
        to=LINE,
        body="a photo",
        media=[(twilio.media_url(), "image/png")],
        message_sid="SM" + "d" * 32,
    )
    return status


async def test_disk_full_while_storing_the_webhook_answers_503_and_keeps_nothing(
    bridge: SmsBridge, twilio: TwilioStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = await counts(bridge)
    failing = failing_execute("INSERT INTO received_sms", "database or disk is full")
    monkeypatch.setattr(inline_sqlite.InlineConnection, "_execute", failing)
    assert await photo(bridge, twilio) == 503
    assert await healthz(bridge) == 200
    monkeypatch.undo()
    assert await bridge.intake.backlog() == 0  # type: ignore[union-attr]
    assert await counts(bridge) == before
    # Twilio's retry is stored and applied, once.
    assert await photo(bridge, twilio) == 200
    assert await photo(bridge, twilio) == 200
    await applied(bridge)
    after = await counts(bridge)
    assert (after["leads"], after["messages"], after["media"]) == (
        before["leads"] + 1,
        before["messages"] + 1,
        before["media"] + 1,
    )


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        ("INSERT INTO messages", "database or disk is full"),
        ("INSERT INTO media", "database or disk is full"),
        ("INSERT INTO conversations", "disk I/O error"),
    ],
)
async def test_disk_full_while_applying_rolls_back_and_applies_once_later(
    bridge: SmsBridge,
    twilio: TwilioStandIn,
    monkeypatch: pytest.MonkeyPatch,
    statement: str,
    error: str,
) -> None:
    before = await counts(bridge)
    monkeypatch.setattr(
        inline_sqlite.InlineConnection, "_execute", failing_execute(statement, error)
    )
    # A new lead: the lead and conversation rows are written before the failing one.
    assert await photo(bridge, twilio) == 200  # stored: Twilio need not retry

    async def failed_once() -> bool:
        async with bridge.db.session() as s:
            row = await s.scalar(select(ReceivedSms))
            return row is not None and row.attempts >= 1

    await wait_for(failed_once)
    assert await counts(bridge) == before, "the lead and conversation were rolled back"
    async with bridge.db.session() as s:
        row = await s.scalar(select(ReceivedSms))
        assert row is not None and error in (row.last_error or "")
    monkeypatch.undo()
    await applied(bridge, timeout=15)
    assert await photo(bridge, twilio) == 200  # a late retry of Twilio's changes nothing
    await applied(bridge)
    after = await counts(bridge)
    assert after["leads"] == before["leads"] + 1
    assert after["messages"] == before["messages"] + 1
    assert after["media"] == before["media"] + 1


async def test_inline_sqlite_supports_autocommit_and_reports_errors(tmp_path: Path) -> None:
    """The event-loop SQLite dialect (storage/sqlite.py) also serves SQLAlchemy's
    isolation-level switch (VACUUM/ANALYZE need autocommit, then writes take the lock at
    BEGIN again) and surfaces SQL errors."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from storage.db import Database

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}")
    try:
        await db.create_all()
        async with db.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text("VACUUM"))
            await auto.execute(text("ANALYZE"))
        async with db.engine.connect() as conn:
            # Back in the pool, the connection takes the write lock at BEGIN again.
            raw = await conn.get_raw_connection()
            assert raw.driver_connection.isolation_level == "IMMEDIATE"  # type: ignore[union-attr]
        async with db.engine.connect() as conn:
            with pytest.raises(OperationalError):
                await conn.execute(text("SELECT * FROM no_such_table"))
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await db.dispose()
