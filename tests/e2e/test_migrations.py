"""Alembic migrations from the first revision produce exactly the schema the models
describe: a model change without its migration fails here, not in production."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from storage.db import upgrade_sync
from storage.models import Base
from storage.search import search_objects


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
