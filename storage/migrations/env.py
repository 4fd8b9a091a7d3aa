"""Alembic environment: runs migrations on the async engine of the configured URL."""

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import postgres_options
from storage.models import Base
from storage.search import search_objects

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=search_objects,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several processes start at once on one database: one migrates, the others
            # wait, then find it done. The lock is the transaction's (the migrations run
            # in one), so a transaction-mode pooler cannot leave it held.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(hashtext('smsbridge-migrations'))")
            )
        context.run_migrations()


async def _online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    options = (
        postgres_options(config.attributes.get("pooler")) if url.startswith("postgres") else {}
    )
    engine = create_async_engine(url, **options)
    async with engine.connect() as conn:
        await conn.run_sync(_run)
        await conn.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_online())
