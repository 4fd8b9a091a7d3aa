"""Shared fixtures: a running smsbridge (real web server and workers on SQLite in a temp
dir) wired to loopback stand-ins of the outside APIs."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import plugins
from bot.app import Options, SmsBridge
from bot.config import Settings
from bot.core import Core
from bot.directory_file import Directory, parse_directory
from bot.results import Queued
from bot.services.portal import Portal
from bot.services.replies import ReplyOptions, queue_sms
from bridges.sms import TwilioSettings
from standins.base import free_port, wait_for
from standins.twilio import TwilioStandIn
from storage.db import Database
from storage.models import Conversation, Lead, Thread

with warnings.catch_warnings():  # discord.py imports audioop, deprecated since Python 3.11
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord  # noqa: F401  (its first import, under the filter, before any test's)

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


def with_settings(settings: Settings, **kw: Any) -> Settings:
    """`dataclasses.replace`, where a keyword naming an installed platform (`twilio=`,
    `slack=`, `discord=`, `openai=`) turns that bridge on with the settings given (off
    with None)."""
    names = plugins.platform_names()
    bridges = {**settings.bridges, **{k: v for k, v in kw.items() if k in names}}
    bridges = {k: v for k, v in bridges.items() if v is not None}
    fields = {k: v for k, v in kw.items() if k not in names}
    return replace(settings, bridges=bridges, **fields)


def make_settings(tmp_path: Path, directory: Directory | None = None, **kw: Any) -> Settings:
    port = free_port()
    return with_settings(
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


async def queue_reply(core: Core, text: str, *, phone: str | None = None, **options: Any) -> Queued:
    """An outbound SMS queued through the service every reply goes through, with no
    author (as `smsbridge send` and campaigns do), in the conversation of the lead with
    `phone` (default: the only one)."""

    async def work(session: Any) -> Queued:
        query = select(Conversation)
        if phone is not None:
            query = query.join(Lead).where(Lead.phone == phone)
        conversation = await session.scalar(query)
        assert conversation is not None, phone
        portal = Portal(core, session, conversation)
        return await queue_sms(core, portal, text, author=None, options=ReplyOptions(**options))

    return await core.run(work)


async def applied(app: SmsBridge, timeout: float = 10.0) -> None:
    """Wait until every inbound SMS the server answered is applied (see bot/services/intake)."""
    intake = app.intake
    assert intake is not None

    async def none_left() -> bool:
        return await intake.backlog() == 0

    await wait_for(none_left, timeout=timeout)


async def thread_recorded(app: SmsBridge, thread_id: str, timeout: float = 10.0) -> None:
    """Wait until the database knows a thread the chat stand-in already shows: the card is
    posted before its thread is recorded, and a command typed in between finds nothing."""
    assert app.core is not None
    db = app.core.db

    async def known() -> bool:
        async with db.session() as session:
            found = await session.scalar(select(Thread.id).where(Thread.thread_id == thread_id))
        return found is not None

    await wait_for(known, timeout=timeout)


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    """A core on an empty SQLite database: no organizations, no bridges, no workers."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'core.db'}")
    await db.create_all()
    yield Core(db, Settings(database_url=db.url))
    await db.dispose()


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
