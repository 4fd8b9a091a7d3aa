"""Scale-out: three `smsbridge run` processes (subprocesses) on one PostgreSQL database,
behind one public URL as a load balancer would put them, with the Twilio and Slack
stand-ins. Webhooks land on any process; the delivery rows are shared: each is claimed
once (the deliveries record which process ran them), per-conversation order holds in
both directions, and the rows of a process killed mid-delivery are taken over by the
others once its lease (SMSBRIDGE_LEASE_SECONDS, 2 s here) runs out.

Runs where SMSBRIDGE_TEST_POSTGRES_URL points at a server (`.ci/run` starts one)."""

from __future__ import annotations

import asyncio
import re
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from standins.slack import SlackStandIn
from standins.twilio import TwilioStandIn
from storage.models import Delivery, Message
from tests.conftest import wait_for
from tests.e2e.cluster import (
    LINES,
    Cluster,
    enqueue_replies,
    inbound_tokens,
    slack_standin,
)
from tests.pg import TEST_URL, throwaway_database

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not TEST_URL, reason="SMSBRIDGE_TEST_POSTGRES_URL is not set"),
]
CONVERSATIONS = 8


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    assert TEST_URL
    async with throwaway_database(TEST_URL, "smsbridge_scale") as url:
        yield url


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with slack_standin() as standin:
        yield standin


@pytest.fixture
async def cluster(
    tmp_path: Path, pg_url: str, twilio: TwilioStandIn, slack: SlackStandIn
) -> AsyncIterator[Cluster]:
    nodes = Cluster(tmp_path, pg_url, twilio, slack, lease_seconds=2)
    try:
        # All three start at once on an empty database: one migrates, two wait.
        await nodes.start(3)
        yield nodes
    finally:
        await nodes.close()


def lead(k: int) -> str:
    return f"+1415555{k:04d}"


def line(k: int) -> str:
    """Conversation k is lead k texting this line (four lines, four channels)."""
    return list(LINES)[k % len(LINES)]


async def test_three_processes_share_the_work_claim_once_and_keep_order(
    cluster: Cluster, twilio: TwilioStandIn, slack: SlackStandIn
) -> None:
    per = 9

    async def conversation(k: int) -> None:
        # In order per conversation; each webhook lands on the next process.
        for i in range(per):
            assert await cluster.sms_in(k + i, lead(k), f"c{k}-in{i}", to=line(k)) == 200

    await asyncio.gather(*(conversation(k) for k in range(CONVERSATIONS)))
    await wait_for(cluster.applied)
    await enqueue_replies(cluster.db_url, {lead(k): [f"c{k}-out{i}" for i in range(4)]
                                           for k in range(CONVERSATIONS)})  # fmt: skip
    await wait_for(lambda: len(twilio.messages) >= CONVERSATIONS * 4, timeout=30)
    await cluster.wait_drained(timeout=30)

    # Chat: every inbound SMS posted exactly once, in order within its thread.
    seen = inbound_tokens(slack)
    counts = Counter(token for tokens in seen.values() for token in tokens)
    assert set(counts) == {f"c{k}-in{i}" for k in range(CONVERSATIONS) for i in range(per)}
    assert max(counts.values()) == 1, [t for t, n in counts.items() if n > 1]
    for tokens in seen.values():
        numbers = [int(t.split("in")[1]) for t in tokens]
        assert numbers == sorted(numbers), tokens
    assert len(seen) == CONVERSATIONS, "one thread per conversation"

    # SMS: every reply sent exactly once, in order per lead.
    sent: dict[str, list[str]] = defaultdict(list)
    for message in twilio.messages:
        sent[message["to"]].append(message["body"])
    assert sent == {lead(k): [f"c{k}-out{i}" for i in range(4)] for k in range(CONVERSATIONS)}

    async with cluster.session() as s:
        rows = (await s.execute(select(Delivery.worker, Delivery.attempts, Delivery.status))).all()
    assert {status for _, _, status in rows} == {"done"}
    assert all(attempts == 1 for _, attempts, _ in rows), "a delivery was claimed twice"
    pids = Counter(worker.split(":")[1] for worker, _, _ in rows)
    assert set(pids) == {str(p.pid) for p in cluster.procs}, f"work not shared: {pids}"


async def test_a_killed_process_rows_are_taken_over_after_the_lease(
    cluster: Cluster, twilio: TwilioStandIn, slack: SlackStandIn
) -> None:
    for k in range(CONVERSATIONS):
        assert await cluster.sms_in(k, lead(k), f"c{k}-hello", to=line(k)) == 200
    await wait_for(cluster.applied)
    await wait_for(lambda: len(inbound_tokens(slack, r"c\d+-hello")) == CONVERSATIONS, 30)
    # Twilio answers slowly, slower than the lease: sends are in flight when the kill
    # lands, and the live processes must renew their leases to keep theirs.
    twilio.fail_next(201, delay=2.5, times=10_000, path_contains="Messages.json")
    replies = {lead(k): [f"c{k}-out{i}" for i in range(3)] for k in range(CONVERSATIONS)}
    await enqueue_replies(cluster.db_url, replies)

    async def victim_holding_sends() -> int | None:
        async with cluster.session() as s:
            workers = list(
                await s.scalars(
                    select(Delivery.worker).where(
                        Delivery.status == "running", Delivery.lane == "sms"
                    )
                )
            )
        pids = [int(w.split(":")[1]) for w in workers if w]
        return pids[0] if pids else None

    pid = await wait_for(victim_holding_sends, timeout=20)
    victim = next(p for p in cluster.procs if p.pid == pid)
    async with cluster.session() as s:
        held = list(
            await s.scalars(
                select(Delivery.message_id).where(
                    Delivery.status == "running", Delivery.worker.like(f"%:{pid}:%")
                )
            )
        )
    cluster.kill(victim)
    assert held

    await cluster.wait_drained(timeout=40)
    for proc in cluster.procs:
        if proc is not victim:
            assert await cluster.healthy(proc)

    async with cluster.session() as s:
        out = {
            m.body: m for m in await s.scalars(select(Message).where(Message.direction == "out"))
        }
        recovered = set(
            await s.scalars(
                select(Delivery.message_id).where(
                    Delivery.last_error == "process stopped while sending",
                    Delivery.status == "unknown",
                )
            )
        )
    sent = Counter(m["body"] for m in twilio.messages)
    assert max(sent.values()) == 1, "an SMS reached Twilio twice"
    assert set(out) == {b for bodies in replies.values() for b in bodies}
    for body, message in out.items():
        if body in sent:
            assert message.status in ("queued", "sent", "unknown"), (body, message.status)
        else:
            assert message.status == "unknown", f"{body} neither sent nor surfaced"
    # Only the sends the dead process held were taken over (live ones renewed their
    # leases), and those are the ones whose outcome is unknown, surfaced.
    unknown = {m.id for m in out.values() if m.status == "unknown"}
    assert recovered, "the dead process's sends were not taken over"
    assert recovered <= set(held), "a live process's send was taken over"
    assert unknown == recovered
    notices = [t for tokens in inbound_tokens(slack, r"Not sure the SMS").values() for t in tokens]
    assert len(notices) == len(unknown), "each unknown send is surfaced in its thread"
    # Order per lead still holds among the sends that went out.
    for phone, bodies in replies.items():
        went = [m["body"] for m in twilio.messages if m["to"] == phone]
        assert went == [b for b in bodies if b in went]
    assert all(re.match(r"c\d+-out\d", b) for b in sent)
