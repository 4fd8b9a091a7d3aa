"""SIGKILL `smsbridge run` (a real subprocess, SQLite, Twilio and Slack stand-ins) at
random points of a two-way burst, 20 times, restarting it after each kill as a
supervisor would; Twilio retries every webhook it got no 200 for.

After the last restart everything drains, and:
- every inbound SMS is stored exactly once and is in its Slack thread, in arrival order;
- a chat post is repeated only when the process died between Slack taking it and the
  database recording it (its delivery is marked `recovered`), never otherwise. Not
  exactly once: Slack has no idempotency key, and the chat worker records a batch's
  posts only when the whole batch is posted (bench/RESULTS.md, faults);
- every reply reached Twilio at most once; a send cut off by the kill is `unknown` and
  surfaced in its thread with a Retry button, never repeated blindly."""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from standins.slack import SlackStandIn
from standins.twilio import TwilioStandIn
from storage.models import Delivery, Message
from tests.conftest import wait_for
from tests.e2e.cluster import LINES, Cluster, enqueue_replies, inbound_tokens, slack_standin

KILLS = 20
# Each lead texts its own line, routed to its own channel: Slack takes about one post a
# second per channel, and the bridge keeps to that.
LEADS = ("+14155550101", "+14155550102", "+14155550103")
IN_PER_ROUND = 1  # per lead
OUT_PER_ROUND = 1  # per lead


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with slack_standin() as standin:
        yield standin


def sid(body: str) -> str:
    return "SM" + body.encode().hex().ljust(32, "0")[:32]


async def test_sigkill_twenty_times_mid_burst(
    tmp_path: Path, twilio: TwilioStandIn, slack: SlackStandIn
) -> None:
    rng = random.Random(6)
    cluster = Cluster(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'kill.db'}", twilio, slack)
    # Slow enough that sends and posts are in flight when a kill lands.
    twilio.fail_next(201, delay=0.04, times=10**6, path_contains="Messages.json")
    slack.fail_next(200, delay=0.02, times=10**6, path_contains="chat.postMessage")
    acked: dict[str, int] = {}
    replies: dict[str, list[str]] = defaultdict(list)
    lead_of = {f"k{i}": phone for i, phone in enumerate(LEADS)}
    line_of = dict(zip(LEADS, LINES, strict=False))

    async def send_in(body: str) -> None:
        lead = lead_of[body.split("-")[0]]
        acked[body] = await cluster.sms_in(0, lead, body, sid(body), to=line_of[lead], timeout=5)

    async def lead_burst(key: str, r: int) -> None:
        for j in range(IN_PER_ROUND):
            if f"{key}-r{r:02d}-in{j}" not in acked:
                await send_in(f"{key}-r{r:02d}-in{j}")

    try:
        (proc,) = await cluster.start(1)
        for key in lead_of:  # the conversations exist before replies are queued
            await send_in(f"{key}-r00-in0")
        await wait_for(cluster.applied)
        for r in range(KILLS):
            out = {lead_of[k]: [f"{k}-r{r:02d}-out{j}" for j in range(OUT_PER_ROUND)]
                   for k in lead_of}  # fmt: skip
            for phone, bodies in out.items():
                replies[phone] += bodies
            burst = asyncio.gather(
                *(lead_burst(k, r) for k in lead_of),
                enqueue_replies(cluster.db_url, out),
                return_exceptions=True,
            )
            await asyncio.sleep(rng.uniform(0.0, 0.35))
            cluster.kill(proc)
            results = await burst
            assert not [e for e in results if isinstance(e, BaseException)], results
            proc = await cluster.restart(proc)
            # Twilio retries what got no 200; a replay of an acknowledged one is harmless.
            for body, status in list(acked.items()):
                if status != 200 or rng.random() < 0.1:
                    await send_in(body)
        for body, status in list(acked.items()):
            if status != 200:
                await send_in(body)
        assert all(status == 200 for status in acked.values())
        await cluster.wait_drained(timeout=60)

        async with cluster.session() as s:
            messages = list(await s.scalars(select(Message).order_by(Message.id)))
            deliveries = list(await s.scalars(select(Delivery)))
    finally:
        await cluster.close()

    # Inbound: stored exactly once each.
    inbound = [m for m in messages if m.kind == "sms" and m.direction == "in"]
    assert Counter(m.body for m in inbound) == Counter(list(acked)), "stored exactly once"

    # In chat: every one, in arrival order per thread; repeats only where recovered.
    recovered = {
        d.message_id for d in deliveries if d.lane == "slack" and d.payload.get("recovered")
    }
    by_body = {m.body: m for m in inbound}
    threads = inbound_tokens(slack, r"k\d-r\d\d-in\d")
    counts = Counter(t for tokens in threads.values() for t in tokens)
    assert set(counts) == set(acked), f"missing in chat: {set(acked) - set(counts)}"
    repeated = {t for t, n in counts.items() if n > 1}
    assert all(by_body[t].id in recovered for t in repeated), "a repeat without a crash"
    for tokens in threads.values():
        firsts = list(dict.fromkeys(tokens))
        assert firsts == sorted(firsts, key=lambda t: by_body[t].id), "out of arrival order"
    assert len(threads) == len(LEADS) and not [
        p for p in slack.posts() if "continues from" in (p.get("text") or "")
    ], "one thread per conversation, never re-created"

    # Outbound: at most once at Twilio; cut-off sends surfaced, never repeated.
    sent = Counter(m["body"] for m in twilio.messages)
    assert max(sent.values()) == 1, [b for b, n in sent.items() if n > 1]
    outbound = {m.body: m for m in messages if m.kind == "sms" and m.direction == "out"}
    assert set(outbound) == {b for bodies in replies.values() for b in bodies}
    unknown = {m.id for m in outbound.values() if m.status == "unknown"}
    for body, message in outbound.items():
        if body not in sent:
            assert message.status == "unknown", f"{body} neither sent nor surfaced"
    notices = [t for tokens in inbound_tokens(slack, "Not sure the SMS").values() for t in tokens]
    assert len(notices) >= len(unknown), "every unknown send is surfaced in its thread"
    # Sends run one at a time per conversation, so a kill cuts off at most one per lead.
    assert len(unknown) <= KILLS * len(LEADS), "only sends in flight at a kill may be unknown"
    for phone, bodies in replies.items():
        went = [m["body"] for m in twilio.messages if m["to"] == phone]
        assert went == [b for b in bodies if b in went], "sends out of order"
    print(
        f"{KILLS} kills: {len(inbound)} inbound, {len(outbound)} outbound, "
        f"{len(unknown)} unknown, {len(repeated)} chat repeats after recovery"
    )
