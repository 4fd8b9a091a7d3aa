"""Retention: what the database may forget, so it does not grow forever.

Past SMSBRIDGE_RETENTION_DAYS: delivery attempts, finished deliveries (done or canceled;
failed and unknown ones stay, their threads show a Retry) and the idempotency keys of
outside events (platforms retry within minutes, not days). Media bytes go once their
link has expired (/media refuses them already); the row stays, so the message still
says a file was sent. Messages themselves are kept unless the organization sets
`message_retention_days`; then older ones go with their files and chat-post links.

Deletes run in batches, each its own short transaction, so the live traffic beside a
prune waits for no long lock."""

from __future__ import annotations

import asyncio
import logging
import random
import sys
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, select, tuple_, update
from sqlalchemy.sql import Delete, Update

from bot.config import Settings
from storage.db import Database
from storage.models import (
    ChatPost,
    Conversation,
    Delivery,
    DeliveryAttempt,
    Media,
    Message,
    Organization,
    ProcessedEvent,
)

log = logging.getLogger(__name__)

BATCH = 2000
DAY = 24 * 3600.0
FINISHED_KEPT_BY_RETENTION = ("done", "canceled")
UNFINISHED = ("pending", "running")


@dataclass
class Pruned:
    delivery_attempts: int = 0
    deliveries: int = 0
    processed_events: int = 0
    media_bytes: int = 0
    messages: int = 0

    def report(self) -> str:
        return ", ".join(
            f"{f.name.replace('_', ' ')} {getattr(self, f.name)}" for f in fields(self)
        )


async def prune(
    db: Database,
    now: datetime,
    *,
    retention_days: int,
    message_retention: dict[str, int] | None = None,
) -> Pruned:
    """Deletes what is past retention; `message_retention`: organization key -> days."""
    cutoff = now - timedelta(days=retention_days)
    pruned = Pruned()
    pruned.delivery_attempts = await _batched(
        db, DeliveryAttempt, DeliveryAttempt.at < cutoff, delete
    )
    pruned.deliveries = await _prune_deliveries(
        db,
        (Delivery.status.in_(FINISHED_KEPT_BY_RETENTION), Delivery.finished_at < cutoff),
    )
    events = ProcessedEvent.__table__
    while True:
        async with db.session() as session, session.begin():
            keys = (await session.execute(
                select(events.c.source, events.c.key).where(events.c.at < cutoff).limit(BATCH)
            )).all()  # fmt: skip
            if keys:
                pair = tuple_(events.c.source, events.c.key)
                await session.execute(delete(events).where(pair.in_([tuple(k) for k in keys])))
        pruned.processed_events += len(keys)
        if len(keys) < BATCH:
            break
    pruned.media_bytes = await _batched(
        db, Media, (Media.expires_at < now) & Media.data.is_not(None), update, data=None
    )
    for org_key, days in sorted((message_retention or {}).items()):
        pruned.messages += await _prune_messages(db, org_key, now - timedelta(days=days))
    return pruned


async def _batched(db: Database, model: Any, where: Any, verb: Any, **values: Any) -> int:
    total = 0
    while True:
        async with db.session() as session, session.begin():
            ids = list(await session.scalars(select(model.id).where(where).limit(BATCH)))
            if ids:
                statement: Delete | Update = verb(model).where(model.id.in_(ids))
                if values:
                    statement = statement.values(**values)  # type: ignore[union-attr]
                await session.execute(statement)
        total += len(ids)
        if len(ids) < BATCH:
            return total


async def _prune_deliveries(db: Database, where: tuple[Any, ...]) -> int:
    total = 0
    while True:
        async with db.session() as session, session.begin():
            ids = list(await session.scalars(select(Delivery.id).where(*where).limit(BATCH)))
            if ids:
                await session.execute(
                    delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(ids))
                )
                await session.execute(delete(Delivery).where(Delivery.id.in_(ids)))
        total += len(ids)
        if len(ids) < BATCH:
            return total


async def _prune_messages(db: Database, org_key: str, cutoff: datetime) -> int:
    """Messages of one organization older than `cutoff`, except any a delivery still
    has to act on."""
    total = 0
    while True:
        async with db.session() as session, session.begin():
            busy = exists().where(
                Delivery.message_id == Message.id, Delivery.status.in_(UNFINISHED)
            )
            ids = list(await session.scalars(
                select(Message.id)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .join(Organization, Organization.id == Conversation.organization_id)
                .where(Organization.key == org_key, Message.created_at < cutoff, ~busy)
                .limit(BATCH)
            ))  # fmt: skip
            if ids:
                done = select(Delivery.id).where(Delivery.message_id.in_(ids))
                await session.execute(
                    delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(done))
                )
                await session.execute(delete(Delivery).where(Delivery.message_id.in_(ids)))
                await session.execute(delete(ChatPost).where(ChatPost.message_id.in_(ids)))
                await session.execute(delete(Media).where(Media.message_id.in_(ids)))
                await session.execute(delete(Message).where(Message.id.in_(ids)))
        total += len(ids)
        if len(ids) < BATCH:
            return total


def message_retention(settings: Settings) -> dict[str, int]:
    """Organization key -> days its messages are kept, for those that set a limit."""
    return {
        org.key: org.message_retention_days
        for org in settings.directory.organizations
        if org.message_retention_days
    }


class DailyPrune:
    """Runs `prune` a few minutes after start, then once a day. Several processes may
    each run it: a prune only deletes, so doing it twice changes nothing."""

    def __init__(
        self,
        db: Database,
        clock: Any,
        *,
        retention_days: int,
        message_retention: dict[str, int],
        first_delay: float | None = None,
    ) -> None:
        self.db, self.clock = db, clock
        self.retention_days, self.message_retention = retention_days, message_retention
        # Spread processes that start together; not at the very start (migrations, load).
        self.first_delay = random.uniform(60, 600) if first_delay is None else first_delay
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="daily-prune")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        await asyncio.sleep(self.first_delay)
        while True:
            try:
                pruned = await prune(
                    self.db,
                    self.clock(),
                    retention_days=self.retention_days,
                    message_retention=self.message_retention,
                )
                log.info("pruned: %s", pruned.report())
            except Exception:
                log.exception("prune failed; trying again tomorrow")
            await asyncio.sleep(DAY)


async def run_prune(settings: Settings, days: int | None = None) -> int:
    """`smsbridge prune`: one prune now, its counts printed; exit 2 if it cannot run."""
    from bot.ops.startup import startup_error

    if days is not None and days < 1:
        print("configuration error: --days must be ≥ 1", file=sys.stderr)
        return 2
    db = Database(settings.database_url, pooler=settings.database_pooler)
    try:
        await db.upgrade()
        pruned = await prune(
            db,
            datetime.now(UTC),
            retention_days=days or settings.retention_days,
            message_retention=message_retention(settings),
        )
    except Exception as exc:
        print(startup_error(exc), file=sys.stderr)
        return 2
    finally:
        await db.dispose()
    print(f"pruned: {pruned.report()}")
    return 0
