"""Reports end to end: figures of a scripted week equal those computed by hand, through
`smsbridge report` and `smsbridge export messages`; the chart is a valid PNG that reaches
Slack's upload endpoints (files_upload_v2); the weekly digest posts once across two
processes on one PostgreSQL database."""

from __future__ import annotations

import asyncio
import copy
import csv
import io
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import Options, SmsBridge
from bot.cli import main
from bot.directory_file import parse_directory
from bot.services.digest import send_digests
from bot.services.reports import figures
from standins.twilio import TwilioStandIn
from storage.models import Organization
from tests.conftest import DIRECTORY, LEAD, free_port, wait_for
from tests.pg import TEST_URL, throwaway_database
from tests.slack_fixtures import SlackEnv

PNG = b"\x89PNG\r\n\x1a\n"
OTHER = "+14155550123"


def directory() -> Any:
    data = copy.deepcopy(DIRECTORY)
    acme = data["organizations"]["acme"]
    acme["response_target_minutes"] = 20
    acme["reports_channel"] = {"slack": "C0REPORTS"}
    return parse_directory(data)


async def cli(argv: list[str]) -> int:
    """The command line in this process; its logging set-up (a handler on this test's
    captured stderr, which closes with the test) is undone so later tests log normally."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        return await asyncio.to_thread(main, argv)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


async def scripted_week(sx: SlackEnv, start: datetime) -> None:
    """Two leads text; Sam answers the first in 10 min, Dana the second in 30 min; the
    first conversation is closed 2 h after it started."""
    now = [start]
    assert sx.app.core is not None
    sx.app.core.clock = lambda: now[0]
    await sx.sms_in("Do you fix gutters?")
    first = await sx.header()
    await wait_for(lambda: sx.thread(first))  # the thread is known: replies in it count
    now[0] += timedelta(minutes=10)
    await sx.reply("U0SAM", "Yes we do!", first)
    await wait_for(lambda: len(sx.twilio.messages) == 1)  # handled before time moves on
    now[0] += timedelta(minutes=50)
    await sx.sms_in("Need a quote", from_=OTHER)
    second = await sx.header(1)
    await wait_for(lambda: sx.thread(second))
    now[0] += timedelta(minutes=30)
    await sx.reply("U0DANA", "Sure, what's the address?", second)
    await wait_for(lambda: len(sx.twilio.messages) == 2)
    now[0] = start + timedelta(hours=2)
    assert "closed" in (await sx.command(f"close {LEAD}", "U0DANA")).lower()
    await wait_for(lambda: len(sx.twilio.messages) == 2)


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'smsbridge.db'}"
        return
    if not TEST_URL:
        pytest.skip("SMSBRIDGE_TEST_POSTGRES_URL is not set")
    async with throwaway_database(TEST_URL, "smsbridge_report") as url:
        yield url


async def test_report_figures_equal_those_computed_by_hand(
    tmp_path: Path,
    twilio: TwilioStandIn,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: Any,
    database_url: str,
) -> None:
    start = datetime.now(UTC) - timedelta(days=2)
    async with SlackEnv.start(
        tmp_path, twilio, directory=directory(), database_url=database_url
    ) as sx:
        await scripted_week(sx, start)
        async with sx.app.db.session() as s:
            acme = await s.scalar(select(Organization).where(Organization.key == "acme"))
            assert acme is not None
            f = await figures(s, acme, start - timedelta(days=1), start + timedelta(days=1))
        assert (f.new_conversations, f.answered, f.waiting_for_first_reply) == (2, 2, 0)
        assert (f.first_response_median, f.first_response_p90) == (20, 28)
        assert f.within_target == 1 and f.closed == 1 and f.close_median == 120
        assert [(g.name, g.median_minutes) for g in f.per_member] == [("Dana", 30), ("Sam", 10)]

    monkeypatch.setenv("SMSBRIDGE_DATABASE_URL", sx.app.settings.database_url)
    monkeypatch.delenv("SMSBRIDGE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    chart = tmp_path / "chart.png"
    assert await cli(["report", "--since", "7d", "--format", "json", "--chart", str(chart)]) == 0
    data = json.loads(capsys.readouterr().out)["acme"]
    assert data["first_response_median"] == 20 and data["within_target"] == 1
    assert chart.read_bytes().startswith(PNG)
    assert await cli(["report", "--since", "7d"]) == 0
    assert "Answered within 20 min: 1 (50%)" in capsys.readouterr().out
    assert await cli(["report", "--since", "7d", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {"organization_key": "acme", "scope": "organization", "name": "",
            "figure": "new_conversations", "value": "2"} in rows  # fmt: skip
    assert await cli(["export", "messages", "--since", "30d"]) == 0
    exported = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    bodies = [(r["lead_phone"], r["direction"], r["author"], r["body"]) for r in exported]
    assert (LEAD, "in", "", "Do you fix gutters?") in bodies
    assert (LEAD, "out", "Sam", "Yes we do!") in bodies
    assert await cli(["report", "--since", "7x"]) == 1


@pytest.mark.postgres
@pytest.mark.skipif(not TEST_URL, reason="SMSBRIDGE_TEST_POSTGRES_URL is not set")
async def test_the_weekly_digest_posts_once_across_two_processes(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    assert TEST_URL
    monday = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # Monday 09:00 in Chicago
    async with (
        throwaway_database(TEST_URL, "smsbridge_digest") as url,
        SlackEnv.start(tmp_path, twilio, directory=directory(), database_url=url) as sx,
    ):
        sx.slack.add_channel("C0REPORTS", "reports")
        port = free_port()
        settings = replace(sx.app.settings, port=port, public_url=f"http://127.0.0.1:{port}")
        other = SmsBridge(settings, Options(worker_kwargs={"poll": 0.05}))
        await other.start()
        try:
            cores = [sx.app.core, other.core]
            for core in cores:
                assert core is not None
                core.clock = lambda: monday
            sent = await asyncio.gather(*(send_digests(c) for c in cores if c))
            assert sorted(sent) == [0, 1]
            posts = await wait_for(lambda: sx.slack.messages.get("C0REPORTS"))
            await asyncio.sleep(0.5)
            assert len(sx.slack.messages["C0REPORTS"]) == 1
            [post] = posts
            assert post["text"].startswith("*Weekly report · Acme Roofing*")
            [file] = post["files"]
            assert sx.slack.file_data[file["id"]].startswith(PNG)
            later = [send_digests(c, monday + timedelta(days=3)) for c in cores if c]
            assert await asyncio.gather(*later) == [0, 0]  # once per week
            next_week = [send_digests(c, monday + timedelta(days=7)) for c in cores if c]
            assert sorted(await asyncio.gather(*next_week)) == [0, 1]
        finally:
            await other.stop()
