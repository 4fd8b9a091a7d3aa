"""Benchmark 1 — webhook ingest: signed `POST /twilio/sms`, committed and acknowledged.

10,000 requests (after a warm-up) from 64 concurrent clients in a separate process,
against (a) a bare aiohttp handler that only answers 200 and (b) `smsbridge run` on
SQLite (and on PostgreSQL when SMSBRIDGE_BENCH_POSTGRES_URL or
SMSBRIDGE_TEST_POSTGRES_URL is set). Every request is a distinct MessageSid from one of
2,000 leads, so a fifth of them open a new lead and conversation. Afterwards the
database is checked: every acknowledged SMS is stored exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bench.common import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    LINE,
    free_port,
    ms,
    percentile,
    run_load,
    spawn,
    start_server,
    wait_healthy,
    workdir,
)
from storage.db import Database
from storage.models import Message, ReceivedSms
from tests.pg import BENCH_URL, throwaway_database

REQUESTS = 10_000
WARMUP = 500
CONCURRENCY = 64
LEADS = 2_000
OPEN_REQUESTS = 2_000
OPEN_RATE = 200.0


def signed_requests(
    public_url: str, count: int, seed: str, senders: list[str] | None = None
) -> list[tuple[str, str]]:
    """(form body, X-Twilio-Signature) of `count` inbound SMS with distinct MessageSids,
    from `senders` in turn (default: 2,000 leads)."""
    url = public_url + "/twilio/sms"
    senders = senders or [f"+1415555{i:04d}" for i in range(LEADS)]
    validator = RequestValidator(AUTH_TOKEN)
    out = []
    for i in range(count):
        sid = f"SM{seed}{i:024x}"
        params = {
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": senders[i % len(senders)],
            "To": LINE,
            "Body": f"Hi! Is Tuesday at 9 still OK for the estimate? ({i})",
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }
        out.append((urlencode(params), validator.compute_signature(url, params)))
    return out


def summarize(report: dict[str, Any]) -> dict[str, float]:
    lat = report["latencies"]
    return {
        "rps": report["count"] / report["wall"],
        "p50": percentile(lat, 50),
        "p99": percentile(lat, 99),
        "max": max(lat),
        "ok": report["statuses"].get("200", 0),
        "count": report["count"],
    }


def line(name: str, s: dict[str, float], base: dict[str, float] | None, open_: bool) -> str:
    ratio = ""
    if base and open_:  # the rate is fixed: compare latency
        ratio = f"  p50 {s['p50'] / base['p50']:.1f} x bare"
    elif base:
        ratio = f"  ratio {s['rps'] / base['rps']:.2f} of bare"
    if base and "drain" in s and not open_:
        ratio += (
            f"; all applied {s['drain']:.1f} s after the last answer: applied "
            f"{applied_rate(s):.0f} SMS/s = {applied_rate(s) / s['rps']:.2f} x the ingest rate"
        )
    elif s.get("drain"):
        ratio += f"; all applied {s['drain']:.1f} s after the last answer"
    return (
        f"  {name:<31} {s['rps']:6.0f} req/s  p50 {ms(s['p50']):>9}  p99 {ms(s['p99']):>9}  "
        f"max {ms(s['max']):>9}  200s {int(s['ok'])}/{int(s['count'])}{ratio}"
    )


def applied_rate(s: dict[str, float]) -> float:
    """SMS applied a second, from the first answer to the last SMS applied."""
    wall = s["count"] / s["rps"]
    return s["count"] / (wall + s["drain"])


Phases = dict[str, dict[str, float]]


async def phases(tmp: Path, url: str, seed: str, db_url: str | None = None) -> Phases:
    """Closed loop (CONCURRENCY clients, as fast as answered), then open loop (OPEN_RATE
    requests a second, latency from the planned send time) on the same server. With
    `db_url`, after each phase: the seconds until every answered SMS is applied."""
    closed, opened = tmp / f"{seed}-closed.json", tmp / f"{seed}-open.json"
    closed.write_text(json.dumps(signed_requests(url, REQUESTS + WARMUP, seed + "c")))
    opened.write_text(json.dumps(signed_requests(url, OPEN_REQUESTS, seed + "o")))
    target = url + "/twilio/sms"
    out = {"closed": await asyncio.to_thread(run_load, closed, target, CONCURRENCY, warmup=WARMUP)}
    drains = {"closed": await applied(db_url)}
    out["open"] = await asyncio.to_thread(run_load, opened, target, CONCURRENCY, rate=OPEN_RATE)
    drains["open"] = await applied(db_url)
    for name, report in out.items():
        assert report["statuses"].get("200", 0) == report["count"], (name, report["statuses"])
    return {name: {**summarize(report), "drain": drains[name]} for name, report in out.items()}


async def applied(db_url: str | None) -> float:
    """Seconds until no answered SMS waits to be applied (bot/services/intake.py)."""
    if db_url is None:
        return 0.0
    started = time.monotonic()
    db = Database(db_url)
    try:
        while True:
            async with db.session() as s:
                if await s.scalar(select(func.count()).select_from(ReceivedSms)) == 0:
                    return time.monotonic() - started
            await asyncio.sleep(0.05)
    finally:
        await db.dispose()


async def bare(tmp: Path, seed: str) -> Phases:
    port = free_port()
    proc = spawn(["-m", "bench.bare", str(port)])
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_healthy(url, proc)
        return await phases(tmp, url, seed)
    finally:
        proc.terminate()
        proc.wait(10)


async def smsbridge(tmp: Path, db_url: str, seed: str) -> Phases:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = await start_server(tmp, db_url, port=port)
    try:
        result = await phases(tmp, url, seed, db_url)
    finally:
        server.stop()
    db = Database(db_url)
    try:
        async with db.session() as s:
            stored = await s.scalar(select(func.count()).select_from(Message))
            sids = await s.scalar(select(func.count(func.distinct(Message.provider_sid))))
    finally:
        await db.dispose()
    acked = REQUESTS + WARMUP + OPEN_REQUESTS
    assert stored == sids == acked, f"stored {stored}, distinct {sids}, acknowledged {acked}"
    return result


async def run() -> list[str]:
    out = [
        f"ingest: {REQUESTS:,} signed POST /twilio/sms from {CONCURRENCY} concurrent clients "
        f"(closed loop), then {OPEN_REQUESTS:,} at {OPEN_RATE:.0f}/s (open loop); "
        f"load average {os.getloadavg()[0]:.2f}"
    ]
    print(out[0], flush=True)

    def show(name: str, result: Phases, base: Phases | None) -> None:
        for phase in ("closed", "open"):
            b = base[phase] if base else None
            out.append(line(f"{name}, {phase}", result[phase], b, phase == "open"))
            print(out[-1], flush=True)

    with workdir() as tmp:
        first = await bare(tmp, "b1")
        show("bare aiohttp (baseline)", first, None)
        lite = await smsbridge(tmp, f"sqlite+aiosqlite:///{tmp / 'ingest.db'}", "s")
        # The baseline again after: a busy neighbour shows as a difference between the two.
        second = await bare(tmp, "b2")
        show("bare aiohttp (again)", second, None)
        base = {
            p: {k: (first[p][k] + second[p][k]) / 2 for k in first[p]} for p in ("closed", "open")
        }
        show("smsbridge, SQLite", lite, base)
        if BENCH_URL:
            async with throwaway_database(BENCH_URL, "smsbridge_bench") as url:
                pg = await smsbridge(tmp, url, "p")
            show("smsbridge, PostgreSQL", pg, base)
    closed = lite["closed"]
    ratio = closed["rps"] / base["closed"]["rps"]
    verdict = "met" if ratio >= 0.5 and closed["p99"] < 0.050 else "MISSED"
    out.append(
        f"  target (SQLite closed loop >= 0.5 x bare throughput, p99 < 50 ms): {verdict} "
        f"({ratio:.2f} x, p99 {ms(closed['p99'])}); at {OPEN_RATE:.0f}/s: "
        f"p50 {ms(lite['open']['p50'])}, p99 {ms(lite['open']['p99'])}"
    )
    print(out[-1], flush=True)
    apply_ratio = applied_rate(closed) / closed["rps"]
    verdict = "met" if apply_ratio >= 0.25 else "MISSED"
    text = f"SQLite {apply_ratio:.2f} x"
    if BENCH_URL:
        pg_rate = applied_rate(pg["closed"])
        verdict = verdict if pg_rate >= 1000 else "MISSED"
        text += f", PostgreSQL {pg_rate:.0f} SMS/s"
    out.append(
        f"  target (applied >= 0.25 x the ingest rate on SQLite, >= 1,000 SMS/s on "
        f"PostgreSQL): {verdict} ({text})"
    )
    print(out[-1], flush=True)
    return out
