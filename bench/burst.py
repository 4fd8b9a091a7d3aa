"""Benchmark 3 — burst: 5,000 inbound SMS across 500 conversations into a Slack stand-in
that enforces 1 post per second per channel (token bucket, burst of 3) and answers 429
with Retry-After beyond it, as Slack does.

The 500 conversations are spread over 10 lines, each routed to its own channel (a line's
conversations share its channel, and Slack's limit is per channel). Each lead sends its
10 SMS one after another (the next once the webhook answered), 32 webhooks in flight in
all, so the SMS of all conversations arrive interleaved, as after a campaign.

Checked: every SMS text is in Slack exactly once, in its conversation's order, in one
thread per conversation. Reported: webhook time, drain time (first webhook -> last SMS in
Slack), chat posts, 429s, header edits, per channel and in all.

Baseline: the platform's own limit, from the stand-in's bucket. The floor is the posts a
channel needs at the least — a header card per conversation (the thread's parent) and
its SMS coalesced `ChatMirror.batch` to a post — at 1/s after the burst; naive is one
post per SMS. `python -m bench.run burst --quick` runs a small scale for CI."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.common import workdir
from bench.slackload import (
    BOT_TOKEN,
    Audit,
    Sender,
    Sms,
    TimedSlack,
    audit,
    directory_toml,
    lead_phone,
    marker,
    start_bridge,
    wait_posted,
)
from bot.delivery.chat import ChatMirror

FULL = (10, 500, 10)  # lines (channels), conversations, SMS per conversation
QUICK = (4, 40, 5)
RATE = 1.0  # posts per second per channel
BURST = 3
CONCURRENCY = 32


def line_phone(i: int) -> str:
    return f"+1628555{i:04d}"


def channel_id(i: int) -> str:
    return f"C0LINE{i:04d}"


@dataclass
class Channel:
    id: str
    conversations: int
    sms: int = 0
    posts: int = 0  # posts carrying SMS
    cards: int = 0  # header cards (thread parents)
    limited: int = 0  # 429 answers
    drain: float = math.nan  # first webhook -> last SMS of this channel in Slack
    floor: float = 0.0
    naive: float = 0.0


@dataclass
class Burst:
    sms: int
    conversations: int
    webhooks: float  # seconds to send every webhook (each answered)
    not_ok: int  # webhooks never answered 200 (after retries)
    drain: float
    floor: float
    naive: float
    updates: int  # chat.update calls (header refreshes)
    audit: Audit
    channels: list[Channel] = field(default_factory=list)

    @property
    def posts(self) -> int:
        return sum(c.posts for c in self.channels)

    @property
    def cards(self) -> int:
        return sum(c.cards for c in self.channels)

    @property
    def limited(self) -> int:
        return sum(c.limited for c in self.channels)


def limit_time(posts: int, rate: float, burst: int) -> float:
    """Seconds a channel needs for `posts` at `rate` per second after a `burst`."""
    return max(0, posts - burst) / rate


async def measure(
    lines: int,
    conversations: int,
    per_conversation: int,
    *,
    rate: float = RATE,
    burst: int = BURST,
    concurrency: int = CONCURRENCY,
) -> Burst:
    channels = [channel_id(i) for i in range(lines)]
    sms_of: dict[int, list[Sms]] = {
        c: [
            Sms(
                c * per_conversation + k,
                lead_phone(c),
                line_phone(c % lines),
                f"Reply {k + 1} of lead {c}: yes, Tuesday works {marker(c * per_conversation + k)}",
            )
            for k in range(per_conversation)
        ]
        for c in range(conversations)
    }
    conversation_of = {s.number: c for c, group in sms_of.items() for s in group}
    per_channel = Counter(c % lines for c in range(conversations))
    batch = ChatMirror.batch
    figures = [
        Channel(
            channels[i],
            n,
            sms=n * per_conversation,
            floor=limit_time(n * (1 + math.ceil(per_conversation / batch)), rate, burst),
            naive=limit_time(n * (1 + per_conversation), rate, burst),
        )
        for i, n in sorted(per_channel.items())
    ]
    floor = max(c.floor for c in figures)
    with workdir() as tmp:
        async with TimedSlack(
            bot_token=BOT_TOKEN, rate_limit_per_channel=rate, burst=burst
        ) as slack:
            for i, channel in enumerate(channels):
                slack.add_channel(channel, f"line-{i}")
            toml = directory_toml((line_phone(i), channels[i]) for i in range(lines))
            server = await start_bridge(tmp, slack, toml, unpaced=False)
            try:
                async with Sender(server.url, seed="b") as sender:
                    gate = asyncio.Semaphore(concurrency)

                    async def lead(messages: list[Sms]) -> None:
                        for sms in messages:  # one after another, as a phone sends them
                            async with gate:
                                await sender.send(sms)

                    start = time.monotonic()
                    await asyncio.gather(*(lead(group) for group in sms_of.values()))
                    webhooks = time.monotonic() - start
                    missing = await wait_posted(slack, set(conversation_of), 3 * floor + 120)
            finally:
                server.stop()
            checked = audit(slack, conversation_of)
            assert not missing or checked.lost, "missing SMS not counted as lost"
            for channel in figures:
                mine = [m for ch, m, _ in slack.sms_posts() if ch == channel.id]
                channel.posts = len(mine)
                channel.drain = max((m["_at"] for m in mine), default=math.nan) - start
                channel.cards = sum(
                    1
                    for m in slack.posts(channel.id)
                    if m.get("blocks") and m.get("thread_ts") in (None, m["ts"])
                )
                channel.limited = slack.limited[channel.id]
            updates = len(slack.calls("/api/chat.update"))
    drain = max(checked.first_at.values(), default=math.nan) - start
    return Burst(
        sms=len(conversation_of),
        conversations=conversations,
        webhooks=webhooks,
        not_ok=sum(1 for status in sender.statuses.values() if status != 200),
        drain=drain,
        floor=floor,
        naive=max(c.naive for c in figures),
        updates=updates,
        audit=checked,
        channels=figures,
    )


def report(b: Burst) -> list[str]:
    a = b.audit
    out = [
        f"  webhooks: {b.sms} answered in {b.webhooks:.1f} s ({b.sms / b.webhooks:.0f}/s), "
        f"{b.not_ok} never answered 200",
        f"  drain (first webhook -> last SMS in Slack): {b.drain:.1f} s; "
        f"floor {b.floor:.1f} s -> ratio {b.drain / b.floor:.2f} x; "
        f"naive one post per SMS {b.naive:.1f} s -> {b.drain / b.naive:.2f} x",
        f"  chat posts: {b.posts} carrying {a.sms} SMS, coalescing {a.sms / max(b.posts, 1):.1f} "
        f"SMS per post (naive 1.0); + {b.cards} header cards; {b.limited} answered 429; "
        f"{b.updates} header edits (chat.update)",
        f"  {a.summary()}",
        f"  {'channel':<10} {'conv':>5} {'SMS':>5} {'posts':>6} {'cards':>6} {'429s':>5} "
        f"{'drain':>8} {'floor':>8} {'naive':>8} {'x floor':>8}",
    ]
    for c in b.channels:
        out.append(
            f"  {c.id:<10} {c.conversations:>5} {c.sms:>5} {c.posts:>6} {c.cards:>6} "
            f"{c.limited:>5} {c.drain:>7.1f}s {c.floor:>7.1f}s {c.naive:>7.1f}s "
            f"{c.drain / c.floor if c.floor else math.nan:>7.2f}x"
        )
    verdict = "met" if a.ok and b.posts < a.sms and not b.not_ok else "MISSED"
    out.append(f"  target (nothing lost or repeated, order kept, fewer posts than SMS): {verdict}")
    return out


async def run(quick: bool = False) -> list[str]:
    lines, conversations, per = QUICK if quick else FULL
    out = [
        f"burst{' (quick)' if quick else ''}: {conversations * per} inbound SMS, "
        f"{conversations} conversations on {lines} lines/channels, {per} SMS each; Slack "
        f"stand-in {RATE:.0f} post/s per channel, burst {BURST}, 429 + Retry-After"
    ]
    print(out[0], flush=True)
    result = await measure(lines, conversations, per)
    out += report(result)
    for row in out[1:]:
        print(row, flush=True)
    return out
