"""The durable outbox worker.

A delivery runs only when it is the oldest unfinished one of its (conversation, lane):
order per conversation holds in each direction, across restarts and across processes.
Claiming is a conditional UPDATE (pending -> running with a lease) of heads selected
FOR UPDATE SKIP LOCKED, so several processes on one PostgreSQL database share the work
without taking the same row twice or waiting on each other. A process renews the lease
of what it runs; the rows of one that died expire and are taken over by the others.
The loop, its wake-up and the retry backoff are bot/jobs.py's.

A transaction that queues deliveries may also claim them for this worker (Core.runner:
the intake does for a received SMS's chat posts when nothing else waits in their lane):
they run as soon as it commits, without a wake-up, a look for heads and a claim of
their own (bench/RESULTS.md)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot import metrics
from bot.core import Core
from bot.delivery import queue, statements
from bot.delivery.statements import (
    ATTEMPTS,
    CLOSE,
    FOLLOWING,
    LANE_PENDING,
    NEXT_DUE,
    RELEASE,
    TAKE,
)
from bot.jobs import Backoff, JobLoop
from bot.ports import Rejected, RetryLater
from storage.models import Delivery

log = logging.getLogger(__name__)

Finish = Callable[[AsyncSession], Awaitable[None]]


@dataclass
class Result:
    """What a handler did. `finish` runs in the same transaction that closes the
    delivery, so recording the outcome and closing the job commit together."""

    status: str = "done"  # done | failed | unknown | canceled
    finish: Finish | None = None
    detail: str | None = None


class Handler(Protocol):
    batch: int  # how many consecutive deliveries of one kind it takes at once
    # Optional `absorbs: dict[str, frozenset[str]]`: kinds taken along in a batch behind
    # a given kind (see Worker._follow_ups).

    async def run(self, deliveries: list[Delivery]) -> Result: ...

    async def lost(self, session: AsyncSession, delivery: Delivery) -> None:
        """The process died while this delivery ran."""
        ...

    async def gave_up(self, session: AsyncSession, delivery: Delivery, reason: str) -> None: ...


RETRY = Backoff(cap=300.0, limit=10)


class Worker:
    def __init__(
        self,
        core: Core,
        handlers: dict[str, Handler],  # by lane: "sms", "slack", "discord"
        *,
        concurrency: int = 16,
        lease: float = 120.0,
        poll: float = 1.0,
    ) -> None:
        self.core = core
        self.handlers = handlers
        self.concurrency = concurrency
        self.lease = timedelta(seconds=lease)
        self.poll = poll
        # Who holds a running row: host and pid say which process to look at.
        self.name = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.renew_every = lease / 3
        self._running: set[asyncio.Task[None]] = set()
        # Woken by Core.wake(), after any commit that queued a delivery.
        self.loop = JobLoop(f"delivery-worker-{self.name}", self._step, poll=poll, signal=core.work)
        self._last_renewal = self._last_recovery = core.now()
        self._heads = statements.heads(list(handlers))
        self._saturated = False  # the last claim took as many heads as it could

    def start(self) -> None:
        self.loop.start()
        self.core.runner = self

    async def stop(self) -> None:
        if self.core.runner is self:
            self.core.runner = None
        await self.loop.stop()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def recover(self, *, all_running: bool) -> int:
        """Rows left `running` by a dead process. On SQLite (one process) every running row
        at start-up is such a row; elsewhere only those whose lease expired."""
        now = self.core.now()
        async with self.core.db.session() as session, session.begin():
            query = select(Delivery).where(
                Delivery.status == "running",
                # Always true for a running row; gives the planner a range on
                # ix_deliveries_due, so it never scans a long history (test_scale_indexes).
                Delivery.run_at <= now,
                Delivery.lane.in_(list(self.handlers)),
            )
            if not all_running:
                query = query.where(Delivery.lease_until < now)
            rows = list(await session.scalars(query.with_for_update(skip_locked=True)))
            for delivery in rows:
                handler = self.handlers.get(delivery.lane)
                log.warning("recovering delivery %s (%s) left running", delivery.id, delivery.kind)
                delivery.lease_until = None
                delivery.worker = None
                if handler is None:
                    delivery.status = "pending"
                    continue
                await handler.lost(session, delivery)
        if rows:
            self.core.wake()
        return len(rows)

    async def renew(self) -> int:
        """Extend the lease of what this process is running, so that only the rows of a
        process that stopped renewing (it died) expire and are taken over."""
        if not self._running:
            return 0
        now = self.core.now()
        async with self.core.db.session() as session, session.begin():
            result = await session.execute(
                update(Delivery)
                .where(
                    Delivery.status == "running",
                    Delivery.run_at <= now,
                    Delivery.worker == self.name,
                )
                .values(lease_until=now + self.lease)
                .execution_options(synchronize_session=False)
            )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def _step(self) -> float:
        free = self.concurrency - len(self._running)
        started = self.core.now()
        claimed = await self._claim(free) if free > 0 else []
        self.adopt(claimed)
        now = self.core.now()
        if (now - self._last_renewal).total_seconds() > self.renew_every:
            self._last_renewal = now
            await self.renew()
        if now - self._last_recovery > self.lease / 2:
            self._last_recovery = now
            await self.recover(all_running=False)
        # Fewer heads than asked for: nothing else is due but what waits behind a running
        # delivery of its conversation, and the close of that one wakes us. All slots
        # taken: any close wakes us. So only a future run_at needs a timer; polling a due
        # but blocked row would spin (bench/e2e.py: 8 looks per SMS).
        self._saturated = len(claimed) >= free
        if self.loop.signal.is_set():
            return 0.0
        return min(await self._next_wait(started), self.renew_every)

    def room(self, lane: str) -> int:
        if lane not in self.handlers:
            return 0
        return max(0, self.concurrency - len(self._running))

    def claimed_values(self, now: datetime) -> dict[str, object]:
        return {
            "status": "running",
            "attempts": 1,
            "lease_until": now + self.lease,
            "worker": self.name,
        }

    def adopt(self, batches: list[list[Delivery]]) -> None:
        """Run batches claimed for this worker (by _claim, or by the transaction that
        queued them); a close wakes the loop for what waits behind them."""
        for batch in batches:
            task = asyncio.create_task(self._run(batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _next_wait(self, now: datetime) -> float:
        """Until the next delivery planned later than `now` (a retry, the undo window),
        at most `poll`: work another process queued is picked up by then."""
        async with self.core.db.session() as session:
            next_at = await session.scalar(NEXT_DUE, {"now": now})
        if next_at is None:
            return self.poll
        return max(0.01, min(self.poll, (next_at - self.core.now()).total_seconds()))

    async def _claim(self, limit: int) -> list[list[Delivery]]:
        """Heads and their follow-ups, taken with one UPDATE. Heads are locked (FOR
        UPDATE SKIP LOCKED) and follow-ups wait behind them, so all are normally taken;
        one that changed meanwhile (an undo) ends its batch, and what was taken beyond it
        goes back to pending rather than waiting for the lease."""
        now = self.core.now()
        lease_until = now + self.lease
        async with self.core.db.session() as session, session.begin():
            heads = list(await session.scalars(self._heads, {"now": now, "limit": limit}))
            batches: list[tuple[Delivery, list[Delivery]]] = []
            for head in heads:
                extra = self.handlers[head.lane].batch - 1
                batches.append(
                    (head, await self._follow_ups(session, head, now, extra) if extra > 0 else [])
                )
            every = [d for head, following in batches for d in (head, *following)]
            taken = await self._take(session, every, lease_until)
            claimed = []
            for head, following in batches:
                batch = [head] if head.id in taken else []
                for delivery in following:  # consecutive: one not taken ends the batch
                    if not batch or delivery.id not in taken:
                        break
                    batch.append(delivery)
                if batch:
                    claimed.append(batch)
            stray = taken - {d.id for batch in claimed for d in batch}
            if stray:
                await session.execute(RELEASE, {"ids": list(stray), "holder": self.name})
        return claimed

    async def _take(
        self, session: AsyncSession, deliveries: list[Delivery], lease_until: datetime
    ) -> set[int]:
        """pending -> running with our lease, for those still pending; their ids."""
        if not deliveries:
            return set()
        result = await session.execute(
            TAKE, {"ids": [d.id for d in deliveries], "lease": lease_until, "worker": self.name}
        )
        taken = set(result.scalars())
        for delivery in deliveries:
            if delivery.id in taken:
                # What the UPDATE wrote, without marking the object dirty (a second UPDATE).
                set_committed_value(delivery, "status", "running")
                set_committed_value(delivery, "attempts", delivery.attempts + 1)
        return taken

    async def _follow_ups(
        self, session: AsyncSession, head: Delivery, now: datetime, extra: int
    ) -> list[Delivery]:
        """Consecutive due deliveries of the same kind in the same lane: a backlog that
        the handler may coalesce (several SMS of one conversation in one chat post). Kinds
        the handler takes along behind that kind (`absorbs`: the header refresh each
        inbound SMS queues) join the batch without counting toward `extra`."""
        along = getattr(self.handlers[head.lane], "absorbs", {}).get(head.kind, frozenset())
        following = await session.scalars(
            FOLLOWING,
            {"c": head.conversation_id, "l": head.lane, "h": head.id, "n": extra + len(along)},
        )
        chosen: list[Delivery] = []
        alike = 0
        for delivery in following:
            if delivery.kind == head.kind:
                if alike == extra:
                    break
            elif delivery.kind not in along:
                break
            if delivery.run_at > now or delivery.status != "pending":
                break
            chosen.append(delivery)
            alike += delivery.kind == head.kind
        return chosen

    async def _run(self, batch: list[Delivery]) -> None:
        handler = self.handlers[batch[0].lane]
        started = asyncio.get_running_loop().time()
        try:
            result = await handler.run(batch)
        except RetryLater as exc:
            await self._retry(batch, str(exc), exc.after)
            return
        except Rejected as exc:
            await self._close(batch, Result("failed", detail=str(exc)), handler)
            return
        except Exception as exc:
            log.exception("delivery %s (%s) raised", batch[0].id, batch[0].kind)
            await self._retry(batch, f"{type(exc).__name__}: {exc}", None)
            return
        metrics.DELIVERY_SECONDS.labels(batch[0].kind).observe(
            asyncio.get_running_loop().time() - started
        )
        await self._close(batch, result, handler)

    async def _close(self, batch: list[Delivery], result: Result, handler: Handler) -> None:
        now = self.core.now()
        async with self.core.db.session() as session, session.begin():
            if result.finish is not None:
                await result.finish(session)
            # One UPDATE for the whole batch, and one INSERT (Core, executemany) of its
            # attempts unless all went through at the first try: the delivery row says
            # that already, and the history is for what went wrong (bench/e2e.py).
            await session.execute(
                CLOSE,
                {
                    "ids": [d.id for d in batch],
                    "status": result.status,
                    "now": now,
                    "detail": result.detail,
                },
            )
            if result.status != "done" or any(d.attempts > 1 for d in batch):
                await session.execute(
                    insert(ATTEMPTS), _attempts(batch, now, result.status, result.detail)
                )
            if result.status == "failed":
                for delivery in batch:
                    await handler.gave_up(session, delivery, result.detail or "failed")
            # Wake the loop only when there may be work for it: an empty claim and a
            # look at the next due time cost more than this check (bench/e2e.py).
            wake = (
                self._saturated
                or session.info.get(queue.QUEUED, False)
                or await session.scalar(
                    LANE_PENDING, {"c": batch[0].conversation_id, "l": batch[0].lane}
                )
                is not None
            )
        for delivery in batch:
            metrics.DELIVERIES.labels(delivery.kind, result.status).inc()
        if wake:
            self.core.wake()

    async def _retry(self, batch: list[Delivery], reason: str, after: float | None) -> None:
        now = self.core.now()
        handler = self.handlers[batch[0].lane]
        async with self.core.db.session() as session, session.begin():
            await session.execute(insert(ATTEMPTS), _attempts(batch, now, "retry", reason))
            for delivery in batch:
                if RETRY.exhausted(delivery.attempts):
                    await session.execute(
                        update(Delivery)
                        .where(Delivery.id == delivery.id)
                        .values(
                            status="failed",
                            finished_at=now,
                            lease_until=None,
                            last_error=f"gave up after {delivery.attempts} attempts: {reason}",
                        )
                    )
                    await handler.gave_up(session, delivery, reason)
                    metrics.DELIVERIES.labels(delivery.kind, "failed").inc()
                    continue
                delay = max(after, 0.05) if after is not None else RETRY.delay(delivery.attempts)
                await session.execute(
                    update(Delivery)
                    .where(Delivery.id == delivery.id)
                    .values(
                        status="pending",
                        run_at=now + timedelta(seconds=delay),
                        lease_until=None,
                        last_error=reason,
                    )
                )
                metrics.DELIVERIES.labels(delivery.kind, "retry").inc()
        log.info("delivery %s (%s) will retry: %s", batch[0].id, batch[0].kind, reason)
        self.core.wake()


def _attempts(
    batch: list[Delivery], at: datetime, outcome: str, detail: str | None
) -> list[dict[str, object]]:
    return [{"delivery_id": d.id, "at": at, "outcome": outcome, "detail": detail} for d in batch]
