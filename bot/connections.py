"""The long-lived chat connections this process holds (Discord gateway, Slack Socket
Mode), as their bridges report them: shown in /metrics (`smsbridge_chat_connected`) and
required by /readyz. A bridge registers a probe when its connection is first up and drops
it when it stops; the probe is asked at each scrape, so a silent drop shows."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot import metrics

log = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[bool]]
PROBE_SECONDS = 2.0

_probes: dict[str, Probe] = {}


def watch_connection(platform: str, probe: Probe) -> None:
    """Called by a bridge once its connection is up; `probe` says whether it still is."""
    _probes[platform] = probe
    metrics.CHAT_CONNECTED.labels(platform).set(1)


def unwatch_connection(platform: str) -> None:
    """Called by a bridge when it stops: the connection is gone on purpose."""
    if _probes.pop(platform, None) is not None:
        metrics.CHAT_CONNECTED.labels(platform).set(0)


async def connection_states() -> dict[str, bool]:
    """Each watched platform: is its connection up now? Also sets the gauge."""
    states = {}
    for platform, probe in list(_probes.items()):
        try:
            up = bool(await asyncio.wait_for(probe(), PROBE_SECONDS))
        except Exception:
            log.debug("connection probe of %s failed", platform, exc_info=True)
            up = False
        metrics.CHAT_CONNECTED.labels(platform).set(1 if up else 0)
        states[platform] = up
    return states
