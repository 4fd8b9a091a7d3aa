"""Warnings about what outsiders send us (bad signatures, another workspace) said at
most once a minute per source: loud enough to catch a misconfiguration, too quiet for
an attacker to flood the log."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

MAX_SOURCES = 1024  # a flood of distinct sources must not grow memory without bound


class WarnOncePerMinute:
    def __init__(
        self,
        logger: logging.Logger,
        *,
        every: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.every = every
        self.clock = clock
        self._last: dict[str, float] = {}

    def warn(self, source: str, message: str, *args: object) -> bool:
        """Log `message` at WARNING unless `source` was warned about within the last
        minute; True when it was logged."""
        now = self.clock()
        last = self._last.get(source)
        if last is not None and now - last < self.every:
            return False
        if len(self._last) >= MAX_SOURCES:
            self._last = {k: v for k, v in self._last.items() if now - v < self.every}
        self._last[source] = now
        self.logger.warning(message, *args)
        return True
