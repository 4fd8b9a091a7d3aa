"""Token buckets keyed by line or channel: pace sends to what the platform allows."""

from __future__ import annotations

import asyncio
import time


class Pacer:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def delay(self, key: str, cost: float = 1.0) -> float:
        """Take `cost` tokens; return how long to wait before acting."""
        now = time.monotonic()
        tokens, at = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate) - cost
        self._buckets[key] = (tokens, now)
        return 0.0 if tokens >= 0 else -tokens / self.rate

    async def wait(self, key: str, cost: float = 1.0) -> None:
        """Wait until `cost` tokens are ours. A cost above the burst is taken whole (a
        10-segment SMS is ten sends to the carrier): the bucket goes below zero."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            wait = self.delay(key, cost)
            if wait > 0:
                await asyncio.sleep(wait)

    def hold(self, key: str, seconds: float) -> None:
        """The platform said Retry-After: empty the bucket for that long."""
        self._buckets[key] = (-seconds * self.rate, time.monotonic())
