"""A throwaway PostgreSQL database on the server the tests and benchmarks are given
(SMSBRIDGE_TEST_POSTGRES_URL, or SMSBRIDGE_BENCH_POSTGRES_URL for the benchmarks)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

TEST_URL = os.environ.get("SMSBRIDGE_TEST_POSTGRES_URL")
BENCH_URL = os.environ.get("SMSBRIDGE_BENCH_POSTGRES_URL") or TEST_URL


@asynccontextmanager
async def throwaway_database(base_url: str, prefix: str) -> AsyncIterator[str]:
    """A new, empty database next to `base_url`'s; its URL, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    dsn = base_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    try:
        yield base_url.rsplit("/", 1)[0] + "/" + name
    finally:
        conn = await asyncpg.connect(dsn)
        await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await conn.close()
