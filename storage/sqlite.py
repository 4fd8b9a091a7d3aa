"""SQLite connections for SQLAlchemy's aiosqlite dialect that run statements on the event
loop's own thread instead of aiosqlite's worker thread.

Why: on SQLite a statement takes microseconds, while aiosqlite hands every call (execute,
fetch, close cursor, commit) to a thread and back; SQLAlchemy makes several such calls per
statement, so an inbound SMS (about ten statements) spent ~5 ms in thread hand-offs
and ~0.2 ms in SQLite (bench/RESULTS.md, ingest). Running inline removes the hand-offs.

What keeps it safe:
- Write transactions start with BEGIN IMMEDIATE (the write lock is taken at the start,
  never upgraded half-way, so SQLITE_BUSY_SNAPSHOT cannot happen).
- SQLite's own busy handler would sleep inside the event loop, so it is off
  (busy_timeout=0): a statement that finds the database locked (another process, or a
  transaction of ours suspended on something else) is retried after an asyncio sleep,
  which lets the lock holder finish, for up to `busy_seconds` in all; then the
  `database is locked` error surfaces as before (the webhook answers 503).
- Long statements still run on the loop; the inbox queries are index-backed
  (tests/e2e/test_scale_indexes.py) and take milliseconds at 100,000 conversations."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from typing import Any

import aiosqlite

BUSY_DELAYS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05)


def is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(exc)
    return "database is locked" in text or "database table is locked" in text


class _RunAtOnce:
    """Stands in for aiosqlite's queue to its thread: SQLAlchemy's adapter hands some
    calls (setting isolation_level) straight to that queue."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # handed to the awaiting side, as aiosqlite does
            if future is not None:
                future.set_exception(exc)
            return
        if future is not None:
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite.Connection whose calls run at once on the calling thread."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], busy_seconds: float) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self.busy_seconds = busy_seconds
        self._tx = _RunAtOnce()  # type: ignore[assignment]

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        deadline = 0.0
        attempt = 0
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
                now = time.monotonic()
                deadline = deadline or now + self.busy_seconds
                if now >= deadline:
                    raise
            await asyncio.sleep(BUSY_DELAYS[min(attempt, len(BUSY_DELAYS) - 1)])
            attempt += 1

    async def _connect(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self) -> Any:
        return self._connect().__await__()

    def stop(self) -> None:  # type: ignore[override]
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        self.stop()


def inline_creator(path: str, *, busy_seconds: float = 30.0) -> Callable[[], Any]:
    """`async_creator` for create_async_engine("sqlite+aiosqlite://", ...)."""

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(path, isolation_level="IMMEDIATE", check_same_thread=False)
        cur = conn.cursor()
        # WAL lets readers run beside the one writer.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=0")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()
        return conn

    async def create() -> InlineConnection:
        return await InlineConnection(connect, busy_seconds)

    return create
