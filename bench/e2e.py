"""Benchmark 2 — end to end: an inbound SMS (signed `POST /twilio/sms`) to its chat post
reaching a loopback Slack stand-in that has no rate limit.

100 SMS a second for 10 s (then 40 a second, a quieter hour, where each SMS is applied
and posted more on its own), spread over 50 conversations of one line, open loop (SMS
i leaves at i / rate whatever happened to the ones before), after a warm-up SMS per
conversation (which opens its thread). Latency runs from the webhook send to the moment
the stand-in stores the post carrying that SMS, both on this process's monotonic clock.
The server is its own process (bench/slackload.py), so it shares no event loop with the
sender and the stand-in.

Baselines, same run, same stand-in: slack_sdk's AsyncWebClient posting into a thread
directly at the same rate — the floor of any Slack post's latency; and
bench/bare_mirror.py taking the same webhooks — the floor of CPU per mirrored SMS.

The stand-in has no limit, so the bridge's own per-channel pacing (Slack's 1 post/s per
channel with a burst of 4, which 2 SMS/s per thread would exceed) is lifted in the
server; benchmark 3 (bench/burst.py) runs against the limit."""

from __future__ import annotations

import asyncio
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bench.common import LINE, free_port, ms, percentile, serve, workdir
from bench.slackload import (
    BOT_TOKEN,
    Audit,
    Sender,
    Sms,
    TimedSlack,
    audit,
    cpu_seconds,
    directory_toml,
    lead_phone,
    marker,
    start_bridge,
    wait_posted,
)

RATE = 100.0
QUIET = 40.0  # a quieter hour: less batching, so more CPU per SMS than at RATE
SECONDS = 10.0
CONVERSATIONS = 50
CHANNEL = "C0BENCH"
BARE_NUMBERS = 500_000  # the bare mirror's SMS numbers start here


@dataclass
class Latency:
    seconds: list[float] = field(default_factory=list)

    def p(self, q: float) -> float:
        return percentile(self.seconds, q)

    def line(self, name: str, base: Latency | None = None) -> str:
        text = (
            f"  {name:<28} p50 {ms(self.p(50)):>9}  p99 {ms(self.p(99)):>9}  "
            f"max {ms(max(self.seconds, default=math.nan)):>9}"
        )
        if base is not None:
            text += (
                f"  ratio p50 {self.p(50) / base.p(50):.1f} x, "
                f"p99 {self.p(99) / base.p(99):.1f} x the floor"
            )
        return text


@dataclass
class E2E:
    floor: Latency
    latency: Latency  # webhook sent -> post stored
    acks: Latency  # webhook sent -> answered
    audit: Audit
    cpu: float  # server CPU seconds over the measured phase
    floor_cpu: float  # bench/bare_mirror.py's CPU seconds for the same SMS at the same rate

    def cpu_ms(self) -> float:
        return self.cpu / max(self.audit.sms, 1) * 1000

    def cpu_line(self) -> str:
        floor = self.floor_cpu / max(self.audit.sms, 1) * 1000
        return (
            f"  {self.audit.posts} posts for {self.audit.sms} SMS; {self.audit.summary()}; "
            f"server CPU {self.cpu_ms():.1f} ms per SMS = {self.cpu_ms() / floor:.1f} x "
            f"the stack's floor ({floor:.2f} ms, bench/bare_mirror.py)"
        )


async def floor(slack: TimedSlack, rate: float, count: int) -> Latency:
    """slack_sdk's AsyncWebClient posting into a thread of the stand-in directly, open loop
    at `rate`: call -> post stored."""
    async with aiohttp.ClientSession() as http:  # kept, as smsbridge keeps its own
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.url + "/api/", session=http)
        return await _floor_posts(slack, client, rate, count)


async def _floor_posts(
    slack: TimedSlack, client: AsyncWebClient, rate: float, count: int
) -> Latency:
    parent = await client.chat_postMessage(channel=CHANNEL, text="floor")
    sent: dict[str, float] = {}
    start = time.monotonic()

    async def one(i: int) -> None:
        await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        started = time.monotonic()
        resp = await client.chat_postMessage(
            channel=CHANNEL, thread_ts=parent["ts"], text=f"floor {i}"
        )
        sent[str(resp["ts"])] = started

    await asyncio.gather(*(one(i) for i in range(count)))
    stored = {m["ts"]: m["_at"] for m in slack.messages[CHANNEL]}
    return Latency([stored[ts] - at for ts, at in sent.items()])


async def measure(
    rate: float = RATE, seconds: float = SECONDS, conversations: int = CONVERSATIONS
) -> E2E:
    """One run at the given scale: the latency floor first, then smsbridge, then the CPU
    floor (bench/bare_mirror.py)."""
    count = max(1, round(rate * seconds))
    with workdir() as tmp:
        async with TimedSlack(bot_token=BOT_TOKEN) as slack:
            slack.add_channel(CHANNEL, "bench")
            base = await floor(slack, rate, count)
            toml = directory_toml([(LINE, CHANNEL)])
            server = await start_bridge(tmp, slack, toml, unpaced=True)
            try:
                async with Sender(server.url) as sender:
                    # Warm-up: the first SMS of each conversation opens its thread.
                    warm = [
                        Sms(n, lead_phone(n), LINE, f"Hello {marker(n)}")
                        for n in range(conversations)
                    ]
                    await sender.open_loop(warm, rate)
                    missing = await wait_posted(slack, {s.number for s in warm}, 60)
                    assert not missing, f"warm-up SMS never reached Slack: {sorted(missing)[:5]}"
                    measured = [
                        Sms(n, lead_phone(n % conversations), LINE, f"Is 9 OK? {marker(n)}")
                        for n in range(conversations, conversations + count)
                    ]
                    cpu = cpu_seconds(server.pid)
                    await sender.open_loop(measured, rate)
                    await wait_posted(slack, {s.number for s in measured}, 60)
                    cpu = cpu_seconds(server.pid) - cpu
            finally:
                server.stop()
            checked = audit(slack, {s.number: s.number % conversations for s in measured})
            floor_cpu = await bare_mirror_cpu(tmp, slack, rate, count, conversations)
    sent = {s.number: sender.sent_at[s.number] for s in measured}
    return E2E(
        floor=base,
        latency=Latency(
            [checked.first_at[n] - at for n, at in sent.items() if n in checked.first_at]
        ),
        acks=Latency([sender.acked[n] - at for n, at in sent.items()]),
        audit=checked,
        cpu=cpu,
        floor_cpu=floor_cpu,
    )


async def bare_mirror_cpu(
    tmp: Path, slack: TimedSlack, rate: float, count: int, conversations: int
) -> float:
    """CPU seconds bench/bare_mirror.py spends on the same webhooks at the same rate, after
    the same warm-up (its SMS numbered apart from smsbridge's)."""
    port = free_port()
    args = [str(port), slack.url + "/api/", str(tmp / "bare.db")]
    server = await serve(["-m", "bench.bare_mirror", *args], tmp, port, dict(os.environ))
    first = BARE_NUMBERS
    try:
        async with Sender(server.url, seed="b") as sender:
            warm = [
                Sms(first + n, lead_phone(n), LINE, f"Hello {marker(first + n)}")
                for n in range(conversations)
            ]
            await sender.open_loop(warm, rate)
            await wait_posted(slack, {s.number for s in warm}, 60)
            measured = [
                Sms(first + n, lead_phone(n % conversations), LINE, f"Is 9 OK? {marker(first + n)}")
                for n in range(conversations, conversations + count)
            ]
            cpu = cpu_seconds(server.pid)
            await sender.open_loop(measured, rate)
            missing = await wait_posted(slack, {s.number for s in measured}, 60)
            assert not missing, f"the bare mirror lost SMS: {sorted(missing)[:5]}"
            return cpu_seconds(server.pid) - cpu
    finally:
        server.stop()


async def run() -> list[str]:
    count = round(RATE * SECONDS)
    out = [
        f"e2e: {count} signed inbound SMS at {RATE:.0f}/s over {CONVERSATIONS} conversations "
        "-> post stored by the Slack stand-in (no rate limit)"
    ]
    print(out[0], flush=True)
    got = await measure()
    lat, a = got.latency, got.audit
    out += [
        got.floor.line("floor: AsyncWebClient post"),
        lat.line("smsbridge: webhook -> post", got.floor),
        got.acks.line("  (webhook answered)"),
        got.cpu_line(),
    ]
    verdict = "met" if lat.p(50) < 0.020 and lat.p(99) < 0.100 and a.ok else "MISSED"
    out.append(f"  target (p50 < 20 ms, p99 < 100 ms, nothing lost): {verdict}")
    verdict = "met" if lat.p(99) < 0.025 and got.cpu_ms() <= 3.0 and a.ok else "MISSED"
    floor_ms = got.floor_cpu / max(a.sms, 1) * 1000
    out.append(
        f"  target of #17 (p99 < 25 ms, <= 3 ms server CPU per SMS): {verdict}; "
        f"3 ms is {3.0 / floor_ms:.1f} x the stack's floor"
    )
    quiet = await measure(rate=QUIET)
    out += [
        quiet.latency.line(f"at {QUIET:.0f}/s: webhook -> post", quiet.floor),
        quiet.cpu_line(),
    ]
    for row in out[1:]:
        print(row, flush=True)
    return out
