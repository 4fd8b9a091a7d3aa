"""Engine and sessions. SQLite (aiosqlite, WAL) by default; PostgreSQL through asyncpg."""

from __future__ import annotations

import asyncio
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

from storage.models import Base


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
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
        if inline:
            from storage.sqlite import inline_creator

            busy = float(query.get("timeout", 30))  # type: ignore[arg-type]
            kwargs["async_creator"] = inline_creator(str(parsed.database), busy_seconds=busy)
        elif self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
            # Tenants differ in size by orders of magnitude: a prepared statement's generic
            # plan (used after 5 runs) is costed for an average organization and sorted
            # all 13,000 open conversations of a big one to show 10 (bench/RESULTS.md).
            kwargs["connect_args"] = {"server_settings": {"plan_cache_mode": "force_custom_plan"}}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite and not inline:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> AsyncSession:
        return self.sessions()

    async def create_all(self) -> None:
        """Schema for tests and the demo; production uses `smsbridge db upgrade`."""
        async with self.engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)

    async def upgrade(self) -> None:
        await asyncio.to_thread(upgrade_sync, self.url)

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers run beside the one writer; busy_timeout waits instead of failing.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    here = Path(__file__).parent
    cfg = Config()
    cfg.set_main_option("script_location", str(here / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade_sync(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)
