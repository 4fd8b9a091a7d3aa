"""Logging as a deployer sets it: SMSBRIDGE_LOG_LEVEL, SMSBRIDGE_LOG_FORMAT (`text`, or
`json`: one object a line for log collectors) and SMSBRIDGE_ACCESS_LOG (one line per HTTP
request, media tokens masked). Library loggers stay at WARNING: they log request bodies
and SQL parameters (phone numbers, tokens)."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ACCESS = logging.getLogger("smsbridge.access")

NOISY_LOGGERS = (
    "alembic",
    "aiosqlite",
    "asyncio",
    "sqlalchemy",
    "asyncpg",
    "twilio",
    "slack_sdk",
    "slack_bolt",
    "discord",
    "openai",
    "httpx",
    "httpcore",
    "aiohttp",
)


class LogSettingError(ValueError):
    pass


def configure(level: str | None, default: str, env: Mapping[str, str] = os.environ) -> None:
    """`level` (the command line's) wins over SMSBRIDGE_LOG_LEVEL, then `default`."""
    chosen = (level or env.get("SMSBRIDGE_LOG_LEVEL") or default).strip().upper()
    if chosen not in LEVELS:
        raise LogSettingError(f"SMSBRIDGE_LOG_LEVEL must be one of {', '.join(LEVELS)}")
    form = (env.get("SMSBRIDGE_LOG_FORMAT") or "text").strip().lower()
    if form not in FORMATS:
        raise LogSettingError("SMSBRIDGE_LOG_FORMAT must be text or json")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter() if form == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(chosen)
    quiet_noisy_loggers()
    access = (env.get("SMSBRIDGE_ACCESS_LOG") or "").strip().lower() in ("1", "true", "yes", "on")
    ACCESS.setLevel(logging.INFO if access else logging.WARNING)


def quiet_noisy_loggers() -> None:
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )


MEDIA_TOKEN = re.compile(r"^/media/[^/?]+")


class AccessLog(AbstractAccessLogger):
    """One line per request, on when SMSBRIDGE_ACCESS_LOG is set. Media URLs carry the
    token that grants the file, and query strings are not logged."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        path = MEDIA_TOKEN.sub("/media/…", request.path)
        self.logger.info(
            "%s %s %s %.1fms",
            request.method,
            path,
            response.status,
            time * 1000,
            extra={"method": request.method, "path": path, "status": response.status,
                   "duration_ms": round(time * 1000, 1)},
        )  # fmt: skip

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)
