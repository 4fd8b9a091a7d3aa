"""Benchmarks 2, 3 and 5 (bench/e2e.py, bench/burst.py, bench/apply.py) at a tiny scale:
they run against the real server and intake, and what they check holds — every SMS
reaches Slack once, in order, in one thread per conversation; every received SMS is
applied. No timing is asserted here; the figures are in bench/RESULTS.md."""

from __future__ import annotations

from pathlib import Path

from bench import apply, burst, e2e


async def test_end_to_end_benchmark_runs_and_loses_nothing() -> None:
    got = await e2e.measure(rate=20, seconds=1, conversations=4)
    assert got.audit.ok, got.audit.summary()
    assert got.audit.sms == 20 and len(got.latency.seconds) == 20
    assert len(got.floor.seconds) == 20 and len(got.acks.seconds) == 20
    assert got.floor_cpu > 0  # the bare mirror posted every SMS too


async def test_burst_benchmark_runs_and_keeps_order_against_the_limit() -> None:
    got = await burst.measure(2, 4, 3, rate=1.0, burst=3)
    assert got.audit.ok, got.audit.summary()
    assert got.audit.sms == 12 and got.not_ok == 0
    assert got.cards == 4  # one thread per conversation
    assert got.posts < got.audit.sms  # coalesced
    assert [c.conversations for c in got.channels] == [2, 2]
    assert "lost 0" in "\n".join(burst.report(got))


async def test_apply_benchmark_applies_every_received_sms(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'apply.db'}"
    wall, cpu = await apply.apply_rate(url, 30)  # asserts that all 30 became messages
    assert wall > 0 and cpu > 0
