"""Flow 1 in two steps: an inbound SMS is stored as received before its webhook is
answered, and applied (bot/services/inbound.py) right after, in arrival order per lead
and line.

Why: applying an SMS is ~2 ms of work (lead, conversation, message, header, chat
deliveries); storing it is a row. Webhooks that arrive together are stored in one
transaction (group commit), so a campaign's burst of replies is answered at the rate
rows can be written, and applied as fast as the server can. Nothing is lost in between:
the row is committed before Twilio gets its 200, a crash leaves it to be applied after
restart, and applying it deletes it in the transaction that writes the message, so it
is applied once. The applying loop and its retry backoff are bot/jobs.py's."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    Row,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased

from bot import metrics
from bot.core import Core
from bot.domain.phones import mask_phone
from bot.jobs import Backoff, JobLoop
from bot.results import Done, Refused, Unavailable
from bot.services.inbound_batch import apply_batch
from bot.types import InboundSms, MediaRef
from storage.models import Line, Message, ReceivedSms, ScreenedSms

log = logging.getLogger(__name__)

Accepted = Literal["stored", "duplicate", "unknown_line"]
# A received SMS whose apply failed this many times is parked: kept (attempts stays at
# the bound), counted in /metrics, logged, and no longer in the way of the lead's later
# SMS. Ten tries back off for about eight minutes in all.
MAX_APPLY_ATTEMPTS = 10
BATCH = 100  # received SMS applied per transaction, at most
# On SQLite applying runs inline on the event loop, so a batch holds webhooks up for as
# long as it takes: its size is kept to about this many seconds. Over a network driver
# (PostgreSQL) the loop serves webhooks while statements travel; a batch is only kept
# from holding its rows' locks long.
BATCH_SECONDS = {True: 0.015, False: 0.25}
YIELD_SHARE = 3.0  # while webhooks are being stored, applying takes >= 1/4 of the loop


class Intake:
    """Stores inbound SMS (`accept`) and applies them in the background (`start`)."""

    def __init__(self, core: Core, *, poll: float = 1.0) -> None:
        self.core = core
        self.retry = Backoff(cap=300.0)  # before the next try of a failed apply
        self._waiting: list[tuple[InboundSms, asyncio.Future[Accepted]]] = []
        self._flusher: asyncio.Task[None] | None = None
        # Woken when a batch of webhooks is stored.
        self.loop = JobLoop("intake", self._step, poll=poll)
        self._storing = 0  # webhooks waiting for their row to commit
        self._stored = asyncio.Event()  # set when none is
        self._next = self._next_query()
        self._one = (
            select(ReceivedSms)
            .where(ReceivedSms.id == bindparam("id"))
            .with_for_update(skip_locked=True, of=ReceivedSms)
        )
        self._done = delete(ReceivedSms).where(ReceivedSms.id.in_(bindparam("ids", expanding=True)))
        self._any_waiting = self._waiting_rows().limit(1)
        self._insert_rows = insert(ReceivedSms.__table__)
        self._lines: set[str] = set()
        self._more = True  # received SMS may be waiting (rows of an earlier run, too)
        # Received SMS per transaction: halved when a batch overran its time, doubled
        # when a full one fit. (Estimating a per-SMS time from batches of one, each
        # paying the whole fixed cost of a transaction, kept PostgreSQL at one per batch.)
        self._limit = BATCH
        self._budget = BATCH_SECONDS[core.db.is_sqlite]
        sids = bindparam("sids", expanding=True)
        # Stored and not applied yet, or applied already.
        self._known = union_all(
            select(ReceivedSms.provider_sid).where(ReceivedSms.provider_sid.in_(sids)),
            select(Message.provider_sid).where(Message.provider_sid.in_(sids)),
            select(ScreenedSms.provider_sid).where(ScreenedSms.provider_sid.in_(sids)),
        )

    async def accept(self, sms: InboundSms) -> Accepted:
        """Store `sms`; returns once it is committed. Raises Unavailable when the
        database cannot take it (the webhook then answers 5xx and Twilio retries)."""
        future: asyncio.Future[Accepted] = asyncio.get_running_loop().create_future()
        self._waiting.append((sms, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="intake-flush")
        self._storing += 1
        self._stored.clear()
        try:
            return await future
        except SQLAlchemyError as exc:
            raise Unavailable(f"the database could not store the SMS: {exc}") from exc
        finally:
            self._storing -= 1
            if not self._storing:
                self._stored.set()

    async def _flush(self) -> None:
        # Webhooks that arrive while a batch commits make up the next batch.
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                results = await self._store([sms for sms, _ in batch])
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0][1], exc)
                    continue
                # One webhook the database refuses must not fail its neighbours: each
                # is stored on its own merits.
                for sms, future in batch:
                    try:
                        [result] = await self._store([sms])
                    except Exception as one:
                        _settle(future, one)
                    else:
                        _settle(future, result)
                self.loop.wake()
                continue
            for (_, future), result in zip(batch, results, strict=True):
                _settle(future, result)
            self.loop.wake()

    async def _store(self, batch: list[InboundSms]) -> list[Accepted]:
        await self._learn_lines({sms.to_phone for sms in batch} - self._lines)
        for attempt in range(3):
            try:
                # A Core connection, not an ORM session: this runs for every webhook.
                async with self.core.db.engine.begin() as conn:
                    return await self._insert(conn, batch)
            except IntegrityError:
                # The same webhook stored by another process just now: the next attempt
                # sees its row and answers "duplicate".
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _learn_lines(self, phones: set[str]) -> None:
        """Lines are few and only added: known ones are kept, unknown ones looked up."""
        if phones:
            async with self.core.db.engine.connect() as conn:
                found = await conn.scalars(select(Line.phone).where(Line.phone.in_(phones)))
                self._lines.update(found)

    async def _insert(self, conn: AsyncConnection, batch: list[InboundSms]) -> list[Accepted]:
        sids = [sms.provider_sid for sms in batch]
        known = set(await conn.scalars(self._known, {"sids": sids}))
        now = self.core.now()
        rows = []
        results: list[Accepted] = []
        for sms in batch:
            if sms.to_phone not in self._lines:
                results.append("unknown_line")
            elif sms.provider_sid in known:
                results.append("duplicate")
            else:
                known.add(sms.provider_sid)
                rows.append(_row(sms, now))
                results.append("stored")
        if rows:
            await conn.execute(self._insert_rows, rows)
        return results

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self.loop.stop()

    async def _step(self) -> float | None:
        started = asyncio.get_running_loop().time()
        if not await self.apply_next() or not self._more:
            return None
        # Applying runs on the event loop without a pause (SQLite is inline). Webhooks
        # being stored go first, for up to three times the loop time an apply took:
        # answering a burst fast keeps Twilio from timing out and retrying; the
        # applying catches up when the burst ends.
        took = asyncio.get_running_loop().time() - started
        await asyncio.sleep(0)
        if self._storing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stored.wait(), YIELD_SHARE * took)
        return 0.0

    def _next_query(self) -> Select[Any]:
        """The oldest due rows with no older row of the same lead and line (their order
        is the conversation's order): at most one per lead and line. Built once:
        building it costs more than running it."""
        earlier = aliased(ReceivedSms)
        blocked = exists().where(
            and_(
                earlier.line_phone == ReceivedSms.line_phone,
                earlier.lead_phone == ReceivedSms.lead_phone,
                earlier.id < ReceivedSms.id,
                earlier.attempts < bindparam("bound"),
            )
        )
        due = or_(ReceivedSms.not_before.is_(None), ReceivedSms.not_before <= bindparam("now"))
        # Columns, not ORM objects: what an apply reads of the row.
        return (
            select(
                ReceivedSms.id,
                ReceivedSms.provider_sid,
                ReceivedSms.lead_phone,
                ReceivedSms.line_phone,
                ReceivedSms.payload,
            )
            .where(due, ReceivedSms.attempts < bindparam("bound"), ~blocked)
            .order_by(ReceivedSms.id)
            .limit(bindparam("limit"))
            # PostgreSQL: a row another process is applying is skipped; its later rows
            # stay blocked by it until that process commits.
            .with_for_update(skip_locked=True, of=ReceivedSms)
        )

    async def apply_next(self) -> bool:
        """Apply the next due received SMS, as many as fit in the batch's time (one per
        lead and line) in one transaction; False when none is due."""
        taken: list[tuple[int, InboundSms]] = []

        async def work(session: AsyncSession) -> list[Done | Refused] | None:
            taken.clear()  # a retried transaction takes its rows afresh
            rows = await session.execute(
                self._next,
                {"now": self.core.now(), "limit": self._limit, "bound": MAX_APPLY_ATTEMPTS},
            )
            taken.extend((row.id, _inbound(row)) for row in rows)
            return await self._apply(session, taken)

        started = asyncio.get_running_loop().time()
        try:
            outcomes = await self.core.run(work)
        except Exception as exc:
            if not taken:
                raise
            if len(taken) == 1:
                await self._postpone(*taken[0], exc)
                return True
            # One SMS that cannot be applied must not hold back the rest of its batch:
            # each is applied on its own, and only the failing one waits.
            for row_id, sms in taken:
                await self._apply_alone(row_id, sms)
            return True
        if outcomes is None:
            return False
        took = asyncio.get_running_loop().time() - started
        if took > self._budget and len(taken) > 1:
            self._limit = max(1, len(taken) // 2)
        elif len(taken) >= self._limit and took < self._budget / 2:
            self._limit = min(BATCH, self._limit * 2)
        self._count(outcomes)
        return True

    async def _apply(
        self, session: AsyncSession, taken: list[tuple[int, InboundSms]]
    ) -> list[Done | Refused] | None:
        if not taken:
            return None
        outcomes = await apply_batch(self.core, session, [sms for _, sms in taken])
        await session.execute(self._done, {"ids": [row_id for row_id, _ in taken]})
        # Whether to look again at once, or wait for the next webhook (or the poll).
        self._more = await session.scalar(self._any_waiting) is not None
        return outcomes

    async def _apply_alone(self, row_id: int, sms: InboundSms) -> None:
        async def work(session: AsyncSession) -> list[Done | Refused] | None:
            row = await session.scalar(self._one, {"id": row_id})
            # None: another process applied it meanwhile.
            return None if row is None else await self._apply(session, [(row_id, sms)])

        try:
            outcomes = await self.core.run(work)
        except Exception as exc:
            await self._postpone(row_id, sms, exc)
            return
        self._count(outcomes or [])

    def _count(self, outcomes: list[Done | Refused]) -> None:
        applied = 0
        for outcome in outcomes:
            if outcome.ok:
                applied += 1
            else:
                metrics.WEBHOOKS.labels("twilio_sms", "dropped").inc()
                log.warning("intake: received SMS dropped: %s", outcome.text)
        metrics.INBOUND_APPLIED.inc(applied)

    async def _postpone(self, row_id: int, sms: InboundSms, exc: Exception) -> None:
        """A failed apply is tried again later, the lead's later SMS waiting behind it;
        after MAX_APPLY_ATTEMPTS it is parked."""
        sender = mask_phone(sms.from_phone)
        log.exception("intake: could not apply %s from %s", sms.provider_sid, sender)
        async with self.core.db.session() as session, session.begin():
            attempts = await session.scalar(
                select(ReceivedSms.attempts).where(ReceivedSms.id == row_id)
            )
            if attempts is None:
                return
            delay = self.retry.delay(attempts)
            attempts += 1
            await session.execute(
                update(ReceivedSms)
                .where(ReceivedSms.id == row_id)
                .values(
                    attempts=attempts,
                    not_before=self.core.now() + timedelta(seconds=delay),
                    last_error=repr(exc)[:500],
                )
            )
        if attempts >= MAX_APPLY_ATTEMPTS:
            metrics.WEBHOOKS.labels("twilio_sms", "parked").inc()
            log.error(
                "intake: parked %s from %s after %d failed applies (%r); the lead's later "
                "SMS go on. Fix the cause, then set received_sms.attempts = 0 to apply it",
                sms.provider_sid,
                sender,
                attempts,
                exc,
            )

    def _waiting_rows(self) -> Select[tuple[int]]:
        return select(ReceivedSms.id).where(ReceivedSms.attempts < MAX_APPLY_ATTEMPTS)

    async def backlog(self) -> int:
        """Received SMS not applied yet (parked ones aside)."""
        async with self.core.db.session() as session:
            return await backlog_count(session)

    async def parked(self) -> int:
        async with self.core.db.session() as session:
            return await parked_count(session)


async def backlog_count(session: AsyncSession) -> int:
    """Received SMS not applied yet, parked ones aside."""
    query = select(func.count()).where(ReceivedSms.attempts < MAX_APPLY_ATTEMPTS)
    return int(await session.scalar(query) or 0)


async def parked_count(session: AsyncSession) -> int:
    """Received SMS whose apply failed MAX_APPLY_ATTEMPTS times."""
    query = select(func.count()).where(ReceivedSms.attempts >= MAX_APPLY_ATTEMPTS)
    return int(await session.scalar(query) or 0)


def _settle(future: asyncio.Future[Accepted], result: Accepted | Exception) -> None:
    if future.done():
        return
    if isinstance(result, Exception):
        future.set_exception(result)
    else:
        future.set_result(result)


def _row(sms: InboundSms, now: datetime) -> dict[str, object]:
    return {
        "provider_sid": sms.provider_sid,
        "line_phone": sms.to_phone,
        "lead_phone": sms.from_phone,
        "payload": {
            "body": sms.body,
            "media": [[m.url, m.content_type] for m in sms.media],
            "opt_out_type": sms.opt_out_type,
        },
        "received_at": now,
        "attempts": 0,
    }


def _inbound(row: Row[Any]) -> InboundSms:
    payload = row.payload
    return InboundSms(
        provider_sid=row.provider_sid,
        from_phone=row.lead_phone,
        to_phone=row.line_phone,
        body=payload.get("body", ""),
        media=tuple(MediaRef(url, kind) for url, kind in payload.get("media", [])),
        opt_out_type=payload.get("opt_out_type"),
    )
