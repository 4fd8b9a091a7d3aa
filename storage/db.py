"""Engine and sessions. SQLite (WAL) by default, run on the event loop for a file
(storage/sqlite.py), through aiosqlite otherwise; PostgreSQL through asyncpg."""

from __future__ import annotations

import asyncio
import functools
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage import search
from storage.models import Base
from storage.sqlite import inline_url
from storage.urls import normalize_url

POOLERS = ("pgbouncer",)


class Database:
    def __init__(self, url: str, *, echo: bool = False, pooler: str | None = None) -> None:
        self.url = url = normalize_url(url)
        self.pooler = pooler
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo}
        # A file database runs its statements on the event loop (storage/sqlite.py);
        # `?timeout=` (seconds) bounds the wait for a lock, as in sqlite3.
        query = dict(parsed.query)
        inline = (
            self.is_sqlite
            and parsed.database not in (None, "", ":memory:")
            and set(query) <= {"timeout"}
        )
        engine_url: Any = url
        if inline:
            engine_url = inline_url(parsed)
        elif self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
            kwargs.update(postgres_options(pooler))
        self.engine: AsyncEngine = create_async_engine(engine_url, **kwargs)
        if self.is_sqlite and not inline:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(
            self.engine, class_=_InlineSession if inline else AsyncSession, expire_on_commit=False
        )

    def session(self) -> AsyncSession:
        return self.sessions()

    async def create_all(self) -> None:
        """Schema for tests and the demo; production uses `smsbridge db upgrade`."""
        async with self.engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
            await conn.run_sync(lambda sync: search.create(sync, fill=False))

    async def upgrade(self) -> None:
        await asyncio.to_thread(upgrade_sync, self.url, pooler=self.pooler)

    async def dispose(self) -> None:
        await self.engine.dispose()


class _InlineSession(AsyncSession):
    """A session on the inline SQLite dialect. AsyncSession closes on exit in a task under
    `asyncio.shield`, so that a cancellation cannot leave the connection checked out; on
    this dialect close never suspends (sqlite3 is called directly), so no cancellation can
    land in it, and the task and the loop turn it costs (about 15 % of a short
    transaction, bench/RESULTS.md) are saved."""

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        await self.close()


def postgres_options(pooler: str | None) -> dict[str, Any]:
    """Engine options for asyncpg, directly or behind a transaction-mode pooler."""
    if pooler == "pgbouncer":
        # A pooler hands each transaction any server connection: no start-up parameters
        # (PgBouncer refuses them), no statement cache, a fresh name per prepared statement.
        # Statements then run once per preparation, so PostgreSQL plans each for its values.
        return {
            "connect_args": {
                "statement_cache_size": 0,
                "prepared_statement_cache_size": 0,
                "prepared_statement_name_func": lambda: f"__smsbridge_{uuid.uuid4().hex}__",
            }
        }
    # Tenants differ in size by orders of magnitude: a prepared statement's generic plan
    # (used after 5 runs) is costed for an average organization and sorted all 13,000
    # open conversations of a big one to show 10 (bench/RESULTS.md).
    return {"connect_args": {"server_settings": {"plan_cache_mode": "force_custom_plan"}}}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers run beside the one writer; busy_timeout waits instead of failing.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def alembic_config(url: str, pooler: str | None = None) -> Any:
    from alembic.config import Config

    here = Path(__file__).parent
    cfg = Config()
    cfg.set_main_option("script_location", str(here / "migrations"))
    # Alembic's ConfigParser would read a %-escaped password as interpolation.
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    cfg.attributes["pooler"] = pooler
    return cfg


def upgrade_sync(url: str, revision: str = "head", *, pooler: str | None = None) -> None:
    from alembic import command

    command.upgrade(alembic_config(url, pooler), revision)


@functools.cache
def migration_heads() -> frozenset[str]:
    """The newest revision(s) this code ships, read from the migration scripts once."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


async def schema_revisions(db: Database) -> frozenset[str]:
    """The revision(s) the database is at; empty before the first migration."""
    from sqlalchemy import inspect, text

    async with db.engine.connect() as conn:
        has_table = await conn.run_sync(lambda c: inspect(c).has_table("alembic_version"))
        if not has_table:
            return frozenset()
        rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
        return frozenset(str(r[0]) for r in rows)
