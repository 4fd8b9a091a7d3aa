"""Shared fixtures: a running smsbridge (real web server and workers on SQLite in a temp
dir) wired to loopback stand-ins of the outside APIs."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.app import Options, SmsBridge
from bot.config import Directory, Settings, TwilioSettings, parse_directory
from bot.services.intake import Intake
from tests.standins.twilio import TwilioStandIn

LINE = "+15005550006"
LEAD = "+14155550100"
ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "twilio-test-token"

DIRECTORY = {
    "organizations": {
        "acme": {
            "name": "Acme Roofing",
            "timezone": "America/Chicago",
            "help_text": "Acme Roofing. Reply STOP to opt out.",
        },
        "globex": {"name": "Globex", "timezone": "UTC"},
    },
    "lines": {
        LINE: {
            "organization": "acme",
            "label": "Sales",
            "slack_channel": "C0SALES",
            "discord_channel": "1200000000000000001",
        },
        "+15005550001": {"organization": "globex", "label": "Globex", "slack_channel": "C0GLOBEX"},
    },
    "members": {
        "dana": {
            "organization": "acme",
            "name": "Dana",
            "role": "admin",
            "slack_user": "U0DANA",
            "discord_user": "1100000000000000001",
        },
        "sam": {
            "organization": "acme",
            "name": "Sam",
            "role": "agent",
            "slack_user": "U0SAM",
            "discord_user": "1100000000000000002",
        },
        "lee": {
            "organization": "acme",
            "name": "Lee",
            "role": "limited",
            "slack_user": "U0LEE",
            "discord_user": "1100000000000000003",
        },
        "gina": {"organization": "globex", "name": "Gina", "role": "admin", "slack_user": "U0GINA"},
    },
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_settings(tmp_path: Path, directory: Directory | None = None, **kw: Any) -> Settings:
    port = free_port()
    return replace(
        Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'smsbridge.db'}",
            public_url=f"http://127.0.0.1:{port}",
            host="127.0.0.1",
            port=port,
            undo_seconds=0,
            sms_per_second=100,
            directory=directory or parse_directory(DIRECTORY),
        ),
        **kw,
    )


async def wait_for(
    check: Callable[[], Any] | Callable[[], Awaitable[Any]], timeout: float = 10.0
) -> Any:
    """Poll until `check()` is truthy; fail the test with a clear message otherwise."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.02)


async def applied(app: SmsBridge) -> None:
    """Wait until every inbound SMS the server answered is applied (see bot/services/intake)."""
    assert app.intake is not None
    intake = app.intake
    await wait_for(lambda: no_backlog(intake))


async def no_backlog(intake: Intake) -> bool:
    return await intake.backlog() == 0


@pytest.fixture
async def twilio() -> AsyncIterator[TwilioStandIn]:
    standin = TwilioStandIn(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    await standin.start()
    yield standin
    await standin.stop()


@pytest.fixture
def settings(tmp_path: Path, twilio: TwilioStandIn) -> Settings:
    return make_settings(tmp_path, twilio=TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, twilio.url))


@pytest.fixture
async def bridge(settings: Settings) -> AsyncIterator[SmsBridge]:
    app = SmsBridge(settings, Options(worker_kwargs={"poll": 0.05}))
    await app.start()
    yield app
    await app.stop()
