"""Runs the time-driven automations while the process runs: auto-close, escalation
(bot/services/sweeps.py) and the weekly digest (bot/services/digest.py). Every process
may run it: each action is claimed in the database first."""

from __future__ import annotations

import asyncio
import logging

from bot.core import Core
from bot.services.digest import send_digests
from bot.services.sweeps import sweep

log = logging.getLogger(__name__)


class AutomationLoop:
    def __init__(self, core: Core, every: float = 60.0) -> None:
        self.core = core
        self.every = every
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="automations")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def run_once(self) -> None:
        closed, escalated = await sweep(self.core)
        digests = await send_digests(self.core)
        if closed or escalated or digests:
            log.info("automations: %d closed, %d escalated, %d digests", closed, escalated, digests)

    async def _loop(self) -> None:
        while True:
            # Sleep first: a process that just started lets the directory settle (and a
            # test set its clock) before it closes, escalates or posts anything.
            await asyncio.sleep(self.every)
            try:
                await self.run_once()
            except Exception:
                log.exception("automations: a sweep failed")
