"""A SQLAlchemy async dialect for SQLite files that runs statements on the event loop's
own thread, over the standard library's sqlite3 (no aiosqlite, no worker thread).

Why: on SQLite a statement takes microseconds, while aiosqlite hands every call
(execute, fetch, close cursor, commit) to a thread and back; SQLAlchemy makes several such
calls per statement, so an inbound SMS (about ten statements) spent ~5 ms in thread
hand-offs and ~0.2 ms in SQLite (bench/RESULTS.md). The dialect is SQLAlchemy's own
pysqlite dialect marked async, so it rests on public interfaces only (the dialect
registry, sqlite3, SQLAlchemy's `await_`): an aiosqlite upgrade cannot break it.

What keeps it safe:
- Write transactions start with BEGIN IMMEDIATE (the write lock is taken at the start,
  never upgraded half-way, so SQLITE_BUSY_SNAPSHOT cannot happen).
- SQLite's own busy handler would sleep inside the event loop, so it is off
  (busy_timeout=0): a statement that finds the database locked (another process, or a
  transaction of ours suspended on something else) is retried after an asyncio sleep,
  which lets the lock holder finish, for up to `busy_seconds` in all; then the
  `database is locked` error surfaces as before (the webhook answers 503).
- A statement and the fetch of its rows run as one step, with no await in between, so
  no other task sees the connection half-way; results are buffered like aiosqlite's.
- Long statements still run on the loop; the inbox queries are index-backed
  (tests/e2e/test_scale_indexes.py) and take milliseconds at 100,000 conversations."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL

try:
    from sqlalchemy.util import await_ as await_
except ImportError:  # SQLAlchemy 2.0 names it await_only
    from sqlalchemy.util import await_only as await_

DRIVER = "smsbridge_inline"
BUSY_DELAYS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05)


def is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(exc)
    return "database is locked" in text or "database table is locked" in text


def _run(sql: str, params: Any, cursor: sqlite3.Cursor) -> list[Any] | None:
    """Execute and fetch in one go: a retry after SQLITE_BUSY starts both afresh."""
    cursor.execute(sql, params)
    return cursor.fetchall() if cursor.description is not None else None


def _run_many(sql: str, params: Sequence[Any], cursor: sqlite3.Cursor) -> None:
    cursor.executemany(sql, params)


class InlineConnection:
    """The DBAPI connection SQLAlchemy's pool holds: sqlite3, called on the loop."""

    def __init__(self, path: str, busy_seconds: float) -> None:
        self.busy_seconds = busy_seconds
        conn = sqlite3.connect(path, isolation_level="IMMEDIATE", check_same_thread=False)
        # WAL lets readers run beside the one writer.
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=0"):
            conn.execute(f"PRAGMA {pragma}").close()
        conn.execute("PRAGMA foreign_keys=ON").close()
        self._conn = conn

    async def _execute(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run `fn(*args)` at once; on a locked database, sleep (letting the holder go on)
        and try again until `busy_seconds` have passed. The one await per statement is
        also what SQLAlchemy's async layer expects of an async driver."""
        deadline = 0.0
        attempt = 0
        while True:
            try:
                return fn(*args)
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
                now = time.monotonic()
                deadline = deadline or now + self.busy_seconds
                if now >= deadline:
                    raise
            await asyncio.sleep(BUSY_DELAYS[min(attempt, len(BUSY_DELAYS) - 1)])
            attempt += 1

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    def commit(self) -> None:
        # BEGIN IMMEDIATE took the write lock already: COMMIT does not wait for one.
        self._conn.commit()

    def rollback(self) -> None:
        self._conn.rollback()

    def close(self) -> None:
        self._conn.close()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._conn.isolation_level = value

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)


class InlineCursor:
    """A DBAPI cursor whose rows are fetched with the statement."""

    arraysize = 1

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection
        self._rows: deque[Any] = deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    def execute(self, sql: str, params: Any = ()) -> None:
        cursor = self._connection._conn.cursor()
        rows = await_(self._connection._execute(_run, sql, params, cursor))
        self._done(cursor, rows)

    def executemany(self, sql: str, params: Sequence[Any]) -> None:
        cursor = self._connection._conn.cursor()
        await_(self._connection._execute(_run_many, sql, params, cursor))
        self._done(cursor, None)

    def _done(self, cursor: sqlite3.Cursor, rows: list[Any] | None) -> None:
        self.description = cursor.description
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid
        self._rows = deque(rows) if rows else deque()
        cursor.close()

    def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        size = size or self.arraysize
        rows = self._rows
        return [rows.popleft() for _ in range(min(size, len(rows)))]

    def fetchall(self) -> list[Any]:
        rows, self._rows = list(self._rows), deque()
        return rows

    def close(self) -> None:
        self._rows.clear()

    async def _async_soft_close(self) -> None:
        """SQLAlchemy's async results (2.1) ask an async driver's cursor to buffer its
        rows before handing them out; these are buffered already."""


class InlineDialect(SQLiteDialect_pysqlite):
    """SQLAlchemy's pysqlite dialect over InlineConnection, usable by the async engine."""

    driver = DRIVER
    is_async = True
    supports_statement_cache = True
    supports_server_side_cursors = False

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        return pool.AsyncAdaptedQueuePool

    def create_connect_args(self, url: URL) -> tuple[list[Any], dict[str, Any]]:
        busy = float(url.query.get("timeout", 30))  # type: ignore[arg-type]
        return [url.database], {"busy_seconds": busy}

    def connect(self, *cargs: Any, **cparams: Any) -> InlineConnection:  # type: ignore[override]
        return InlineConnection(*cargs, **cparams)

    def set_isolation_level(self, dbapi_connection: Any, level: Any) -> None:
        # Back from AUTOCOMMIT (VACUUM, ANALYZE): writes start with BEGIN IMMEDIATE again.
        if level == "AUTOCOMMIT":
            dbapi_connection.isolation_level = None
        else:
            dbapi_connection.isolation_level = "IMMEDIATE"
            uncommitted = int(level == "READ UNCOMMITTED")
            dbapi_connection._conn.execute(f"PRAGMA read_uncommitted = {uncommitted}").close()


registry.register(f"sqlite.{DRIVER}", __name__, "InlineDialect")


def inline_url(url: URL) -> URL:
    """The same SQLite file URL, served by InlineDialect."""
    return url.set(drivername=f"sqlite+{DRIVER}")
