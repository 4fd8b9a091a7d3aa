"""Runs the time-driven automations while the process runs: auto-close, escalation
(bot/services/sweeps.py) and the weekly digest (bot/services/digest.py), on the job loop
of bot/jobs.py. Every process may run it: each action is claimed in the database first."""

from __future__ import annotations

import logging

from bot.core import Core
from bot.jobs import JobLoop
from bot.services.digest import send_digests
from bot.services.sweeps import sweep

log = logging.getLogger(__name__)


class AutomationLoop:
    def __init__(self, core: Core, every: float = 60.0) -> None:
        self.core = core
        self.every = every
        self.loop = JobLoop("automations", self._step, poll=every)
        self._started = False

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()

    async def run_once(self) -> None:
        closed, escalated = await sweep(self.core)
        digests = await send_digests(self.core)
        if closed or escalated or digests:
            log.info("automations: %d closed, %d escalated, %d digests", closed, escalated, digests)

    async def _step(self) -> float:
        # The first look waits a round: a process that just started lets the directory
        # settle (and a test set its clock) before it closes, escalates or posts anything.
        if self._started:
            await self.run_once()
        self._started = True
        return self.every
