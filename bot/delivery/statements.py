"""The delivery worker's statements, built once and bound per call.

Building a statement (argument coercion, then its cache key) cost more CPU than running
it on SQLite: the e2e benchmark's profile showed about 90 coercions per mirrored SMS,
most of them the worker's and the intake's. A statement built once keeps its cache key,
so each call only binds values (bench/RESULTS.md)."""

from __future__ import annotations

from sqlalchemy import Select, and_, bindparam, exists, select, update
from sqlalchemy.orm import aliased

from storage.models import Delivery, DeliveryAttempt

TABLE, ATTEMPTS = Delivery.__table__, DeliveryAttempt.__table__
UNFINISHED = ("pending", "running")


def heads(lanes: list[str]) -> Select[tuple[Delivery]]:
    """The oldest due delivery of each (conversation, lane) with nothing unfinished
    before it; bound `now` and `limit`."""
    earlier = aliased(Delivery)
    blocked = exists().where(
        and_(
            earlier.conversation_id == Delivery.conversation_id,
            earlier.lane == Delivery.lane,
            earlier.id < Delivery.id,
            earlier.status.in_(UNFINISHED),
        )
    )
    return (
        select(Delivery)
        .where(Delivery.status == "pending", Delivery.run_at <= bindparam("now"), ~blocked)
        # Oldest due first, in ix_deliveries_due order: ordering by id alone let
        # SQLite's planner scan every delivery ever made (test_scale_indexes).
        .order_by(Delivery.run_at, Delivery.id)
        .limit(bindparam("limit"))
        # PostgreSQL: heads another process is claiming right now are skipped, not
        # waited for (the conditional UPDATE of TAKE still guards every claim).
        .with_for_update(skip_locked=True, of=Delivery)
        .where(Delivery.lane.in_(lanes))
    )


# pending -> running with a lease, for those still pending (`ids`, `lease`, `worker`).
TAKE = (
    update(TABLE)
    .where(TABLE.c.id.in_(bindparam("ids", expanding=True)), TABLE.c.status == "pending")
    .values(
        status="running",
        lease_until=bindparam("lease", type_=TABLE.c.lease_until.type),
        worker=bindparam("worker"),
        attempts=TABLE.c.attempts + 1,
    )
    .returning(TABLE.c.id)
)

# Taken but not to be run now (`ids`, `holder`: our name): back to pending, as before.
RELEASE = (
    update(TABLE)
    .where(TABLE.c.id.in_(bindparam("ids", expanding=True)), TABLE.c.worker == bindparam("holder"))
    .values(status="pending", worker=None, lease_until=None, attempts=TABLE.c.attempts - 1)
)

# What waits behind a head in its (conversation, lane), in order (`c`, `l`, `h`, `n`).
FOLLOWING = (
    select(Delivery)
    .where(
        Delivery.conversation_id == bindparam("c"),
        Delivery.lane == bindparam("l"),
        Delivery.id > bindparam("h"),
        Delivery.status.in_(UNFINISHED),
    )
    .order_by(Delivery.id)
    .limit(bindparam("n"))
)

# A batch closed with its outcome (`ids`, `status`, `now`, `detail`).
CLOSE = (
    update(TABLE)
    .where(TABLE.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        status=bindparam("status"),
        finished_at=bindparam("now", type_=TABLE.c.finished_at.type),
        lease_until=None,
        last_error=bindparam("detail"),
    )
)

# Anything still pending in a (conversation, lane) (`c`, `l`).
LANE_PENDING = (
    select(Delivery.id)
    .where(
        Delivery.conversation_id == bindparam("c"),
        Delivery.lane == bindparam("l"),
        Delivery.status == "pending",
    )
    .limit(1)
)

# When the next delivery planned after `now` is due (a retry, the undo window).
NEXT_DUE = (
    select(Delivery.run_at)
    .where(
        Delivery.status == "pending",
        Delivery.run_at > bindparam("now"),
    )
    .order_by(Delivery.run_at)
    .limit(1)
)
