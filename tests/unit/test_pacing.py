"""Pacing per line: a long SMS costs one token per segment, whatever the burst."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.delivery import pacing
from bot.delivery.pacing import Pacer


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """asyncio.sleep inside the pacer, recorded instead of waited; the clock stands still."""
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(pacing.asyncio, "sleep", sleep)
    monkeypatch.setattr(pacing.time, "monotonic", lambda: 1000.0)
    return waits


async def test_a_ten_segment_sms_counts_as_ten(slept: list[float]) -> None:
    pacer = Pacer(rate=1.0, burst=4)
    await pacer.wait("+15005550006", 10)
    await pacer.wait("+15005550006", 1)
    # Four segments go at once, the other six at one a second, then the next one.
    assert slept == [pytest.approx(6.0), pytest.approx(7.0)]


@given(st.lists(st.integers(min_value=1, max_value=20), min_size=1, max_size=12))
def test_the_wait_for_a_burst_of_sms_is_their_segments_beyond_the_burst(
    segments: list[int],
) -> None:
    pacer = Pacer(rate=2.0, burst=4)
    original = pacing.time.monotonic
    pacing.time.monotonic = lambda: 50.0  # type: ignore[assignment]  # a clock standing still
    try:
        waits = [pacer.delay("line", cost) for cost in segments]
    finally:
        pacing.time.monotonic = original  # type: ignore[assignment]
    assert waits[-1] == pytest.approx(max(0.0, (sum(segments) - 4) / 2.0))
