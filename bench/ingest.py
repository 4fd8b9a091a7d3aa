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
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
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
from storage.models import Message

REQUESTS = 10_000
WARMUP = 500
CONCURRENCY = 64
LEADS = 2_000


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


def line(name: str, s: dict[str, float], base: dict[str, float] | None) -> str:
    ratio = f"  ratio {s['rps'] / base['rps']:.2f} of bare" if base else ""
    return (
        f"  {name:<22} {s['rps']:8.0f} req/s  p50 {ms(s['p50']):>9}  p99 {ms(s['p99']):>9}  "
        f"max {ms(s['max']):>9}  200s {int(s['ok'])}/{int(s['count'])}{ratio}"
    )


async def bare(tmp: Path) -> dict[str, float]:
    port = free_port()
    proc = spawn(["-m", "bench.bare", str(port)])
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_healthy(url, proc)
        file = tmp / "bare.json"
        file.write_text(json.dumps(signed_requests(url, REQUESTS + WARMUP, "b")))
        return summarize(
            await asyncio.to_thread(run_load, file, url + "/twilio/sms", CONCURRENCY, warmup=WARMUP)
        )
    finally:
        proc.terminate()
        proc.wait(10)


async def smsbridge(tmp: Path, db_url: str, seed: str) -> dict[str, float]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    file = tmp / f"{seed}.json"
    file.write_text(json.dumps(signed_requests(url, REQUESTS + WARMUP, seed)))
    server = await start_server(tmp, db_url, port=port)
    try:
        report = await asyncio.to_thread(
            run_load, file, url + "/twilio/sms", CONCURRENCY, warmup=WARMUP
        )
    finally:
        server.stop()
    db = Database(db_url)
    try:
        async with db.session() as s:
            stored = await s.scalar(select(func.count()).select_from(Message))
            sids = await s.scalar(select(func.count(func.distinct(Message.provider_sid))))
    finally:
        await db.dispose()
    acked = report["statuses"].get("200", 0) + WARMUP
    assert stored == sids == acked, f"stored {stored}, distinct {sids}, acknowledged {acked}"
    return summarize(report)


async def postgres_database(base: str) -> tuple[str, str, str]:
    name = f"smsbridge_bench_{uuid.uuid4().hex[:10]}"
    dsn = base.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return base.rsplit("/", 1)[0] + "/" + name, dsn, name


async def drop_database(dsn: str, name: str) -> None:
    conn = await asyncpg.connect(dsn)
    await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    await conn.close()


async def run() -> list[str]:
    out = [f"ingest: {REQUESTS} signed POST /twilio/sms, {CONCURRENCY} concurrent clients"]
    with workdir() as tmp:
        base = await bare(tmp)
        out.append(line("bare aiohttp (baseline)", base, None))
        print(out[-1], flush=True)
        lite = await smsbridge(tmp, f"sqlite+aiosqlite:///{tmp / 'ingest.db'}", "s")
        out.append(line("smsbridge, SQLite", lite, base))
        print(out[-1], flush=True)
        pg_base = os.environ.get("SMSBRIDGE_BENCH_POSTGRES_URL") or os.environ.get(
            "SMSBRIDGE_TEST_POSTGRES_URL"
        )
        if pg_base:
            url, dsn, name = await postgres_database(pg_base)
            try:
                pg = await smsbridge(tmp, url, "p")
            finally:
                await drop_database(dsn, name)
            out.append(line("smsbridge, PostgreSQL", pg, base))
            print(out[-1], flush=True)
    verdict = "met" if lite["rps"] >= 0.5 * base["rps"] and lite["p99"] < 0.050 else "MISSED"
    out.append(
        f"  target (SQLite >= 0.5 x bare throughput, p99 < 50 ms): {verdict} "
        f"({lite['rps'] / base['rps']:.2f} x, p99 {ms(lite['p99'])})"
    )
    print(out[-1], flush=True)
    return out
