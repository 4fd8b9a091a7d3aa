"""Start-up failures as one line a deployer can act on, instead of a traceback: a refused
token, an unreachable database, a platform that will not connect."""

from __future__ import annotations

import logging

from bot.config import ConfigError

log = logging.getLogger(__name__)


def startup_error(exc: BaseException) -> str:
    """The line `smsbridge run` prints before exiting 2; the traceback goes to DEBUG."""
    log.debug("start-up failed", exc_info=exc)
    if isinstance(exc, ConfigError):
        return f"configuration error: {exc}"
    reason = " ".join(str(exc).split()) or "no detail"
    return f"start-up error: {type(exc).__name__}: {reason[:300]}"
