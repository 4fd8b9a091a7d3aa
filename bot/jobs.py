"""How background work runs, written once for the intake (received SMS), the delivery
worker (the outbox) and the reminders: a loop that takes the next job while there is one
and otherwise sleeps until woken or until its next job is due, and the backoff a failed
job waits before it is tried again, with a bound after which it is given up.

What each of them claims, and why the claims differ, is in docs/JOBS.md."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

# What a step returns: seconds to wait before the next step (0: at once, more work
# waits), or None: nothing is known to be due; wait until woken, or `poll` seconds.
Step = Callable[[], Awaitable[float | None]]


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: `first`, twice that, four times ... seconds, at most `cap`,
    spread by `jitter` so that jobs failing together do not come back together."""

    first: float = 1.0
    cap: float = 300.0
    jitter: float = 0.2
    limit: int | None = None  # attempts after which the job is given up

    def delay(self, attempts: int) -> float:
        base = min(self.cap, self.first * 2.0 ** min(attempts, 16))
        return base * random.uniform(1 - self.jitter, 1 + self.jitter)

    def exhausted(self, attempts: int) -> bool:
        return self.limit is not None and attempts >= self.limit


class JobLoop:
    """Runs `step` again and again in one task until stopped. A failing step is logged
    and the loop goes on after `poll` seconds (a database that went away must not end
    the process's background work). `signal` is the event that wakes it; pass a shared
    one when other code sets it directly (Core.wake after a commit that queued work)."""

    def __init__(
        self, name: str, step: Step, *, poll: float, signal: asyncio.Event | None = None
    ) -> None:
        self.name = name
        self.step = step
        self.poll = poll
        self.signal = signal or asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
        self.signal.set()

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Ends the loop after the step that is running."""
        self._stopping = True
        self.wake()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def _run(self) -> None:
        while not self._stopping:
            try:
                wait = await self.step()
            except Exception:
                log.exception("%s: a step failed; going on", self.name)
                wait = None
            if self._stopping:
                break
            if wait == 0:
                self.signal.clear()  # the next step sees whatever the wake was for
                continue
            await self.sleep(self.poll if wait is None else wait)

    async def sleep(self, seconds: float) -> None:
        """Until woken, or `seconds`. A wake that came while the step ran counts."""
        if not self.signal.is_set():
            try:
                await asyncio.wait_for(self.signal.wait(), seconds)
            except TimeoutError:
                pass
        self.signal.clear()
