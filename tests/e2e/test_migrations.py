"""Alembic migrations from the first revision produce exactly the schema the models
describe: a model change without its migration fails here, not in production. Data
written under an older schema is still there after the upgrade."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import upgrade_sync
from storage.models import Base
from storage.search import search_objects
from tests.pg import TEST_URL, throwaway_database


async def test_migrations_match_the_models(tmp_path: Path) -> None:
    path = tmp_path / "migrated.db"
    await asyncio.to_thread(upgrade_sync, f"sqlite+aiosqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"include_name": search_objects}),
                Base.metadata,
            )
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    if not TEST_URL:
        pytest.skip("SMSBRIDGE_TEST_POSTGRES_URL is not set")
    async with throwaway_database(TEST_URL, "smsbridge_migration") as url:
        yield url


async def test_members_chat_accounts_and_routes_of_the_old_columns_survive_the_upgrade(
    empty_url: str,
) -> None:
    await asyncio.to_thread(upgrade_sync, empty_url, "0005")
    engine = create_async_engine(empty_url)
    try:
        async with engine.begin() as conn:
            for statement in (
                "INSERT INTO organizations (id, key, name, timezone, quiet_mode, help_text,"
                " voice, remind_after_minutes) VALUES (1, 'acme', 'Acme', 'UTC', 'hold', '',"
                " '{}', 0)",
                "INSERT INTO members (id, organization_id, key, name, role, slack_user,"
                " discord_user) VALUES (1, 1, 'dana', 'Dana', 'admin', 'U0DANA', '1100'),"
                " (2, 1, 'sam', 'Sam', 'agent', 'U0SAM', NULL),"
                " (3, 1, 'twin', 'Twin', 'agent', 'U0SAM', '1300')",
                "INSERT INTO lines (id, organization_id, phone, label) VALUES"
                " (1, 1, '+15005550006', 'Sales')",
                "INSERT INTO routes (id, line_id, platform, channel, reply_mode) VALUES"
                " (1, 1, 'slack', 'C0SALES', 'direct')",
            ):
                await conn.execute(text(statement))
        await asyncio.to_thread(upgrade_sync, empty_url)
        async with engine.connect() as conn:
            identities = (
                await conn.execute(
                    text(
                        "SELECT member_id, organization_id, platform, user_id"
                        " FROM member_identities ORDER BY member_id, platform"
                    )
                )
            ).all()
            members = (
                await conn.execute(text("SELECT key, from_file, removed_at FROM members"))
            ).all()
            routes = (await conn.execute(text("SELECT channel, from_file FROM routes"))).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in identities] == [
        (1, 1, "discord", "1100"),
        (1, 1, "slack", "U0DANA"),
        (2, 1, "slack", "U0SAM"),
        (3, 1, "discord", "1300"),  # the same Slack account twice: the older member keeps it
    ]
    assert sorted((key, bool(f), r) for key, f, r in members) == [
        ("dana", True, None),
        ("sam", True, None),
        ("twin", True, None),
    ]
    assert [(c, bool(f)) for c, f in routes] == [("C0SALES", True)]
