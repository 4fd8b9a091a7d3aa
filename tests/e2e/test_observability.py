"""What an operator's dashboards and probes see: a fresh process already shows every
metric with its labels (and process_*, python_* and build info), /readyz says whether the
process may take traffic and why not, JSON logs are one object a line, and the access
log masks media tokens."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
from sqlalchemy import text

from bot.app import Options, SmsBridge
from bot.config import Settings
from standins.discord import DiscordStandIn
from standins.twilio import TwilioStandIn
from tests.conftest import free_port, wait_for
from tests.discord_fixtures import discord_api_fixture, discord_settings  # noqa: F401


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as answer:
        return answer.status, await answer.text()


async def test_a_fresh_process_shows_every_metric_and_label(settings: Settings) -> None:
    async with SmsBridge(settings, Options(create_schema=True)) as bridge:
        status, page = await get(f"http://127.0.0.1:{bridge.port}/metrics")
    assert status == 200
    for sample in (
        'smsbridge_deliveries_total{kind="sms.send",outcome="done"} ',
        'smsbridge_deliveries_total{kind="chat.message",outcome="failed"} ',
        'smsbridge_webhooks_total{outcome="stored",source="twilio_sms"} ',
        'smsbridge_deliveries_pending{lane="sms"} ',
        'smsbridge_sms_segments_total{encoding="UCS-2"} ',
        'smsbridge_delivery_seconds_bucket{kind="sms.send",le="3600.0"} ',
        "process_resident_memory_bytes ",
        "python_info{",
        'smsbridge_build_info{python="',
    ):
        assert sample in page, sample


async def test_readyz_is_ok_when_migrated_and_names_migrations_when_behind(
    settings: Settings,
) -> None:
    async with SmsBridge(settings) as bridge:  # migrates with Alembic, as in production
        url = f"http://127.0.0.1:{bridge.port}/readyz"
        assert await get(url) == (200, '{"ok": true}')
        async with bridge.db.engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        status, body = await get(url)
        assert status == 503 and json.loads(body) == {"ok": False, "failing": ["migrations"]}
        assert (await get(f"http://127.0.0.1:{bridge.port}/healthz"))[0] == 200


async def test_the_discord_gateway_is_a_connected_gauge_and_part_of_readiness(
    tmp_path: Path, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    settings = discord_settings(tmp_path, discord_api, twilio)
    async with SmsBridge(settings, Options(create_schema=True)) as bridge:
        base = f"http://127.0.0.1:{bridge.port}"
        assert (await get(base + "/readyz"))[0] == 200
        assert (
            'smsbridge_chat_connected{platform="discord"} 1.0' in (await get(base + "/metrics"))[1]
        )
        ws = bridge.plugins["discord"].client.ws  # type: ignore[attr-defined]
        await ws.socket.close()  # the gateway drops; discord.py reconnects after a moment
        status, body = await get(base + "/readyz")
        if status == 503:
            assert json.loads(body)["failing"] == ["discord"]
        await wait_for(lambda: get(base + "/readyz"), timeout=20)
        await wait_for(
            lambda: bridge.plugins["discord"].client.ws.open,  # type: ignore[attr-defined]
            timeout=20,
        )
        assert (await get(base + "/readyz"))[0] == 200


async def test_json_logs_and_the_access_log_mask_media_tokens(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SMSBRIDGE_")},
        "SMSBRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        "SMSBRIDGE_HOST": "127.0.0.1",
        "SMSBRIDGE_PORT": str(port),
        "SMSBRIDGE_LOG_FORMAT": "json",
        "SMSBRIDGE_ACCESS_LOG": "1",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await wait_for(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), timeout=60)
        assert (await get(f"http://127.0.0.1:{port}/media/secret-media-token"))[0] == 404
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    records = [json.loads(line) for line in err.decode().splitlines()]
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert any(r["message"] == f"listening on 127.0.0.1:{port}" for r in records)
    access = [r for r in records if r["logger"] == "smsbridge.access"]
    assert {(r["method"], r["path"], r["status"]) for r in access} >= {
        ("GET", "/healthz", 200),
        ("GET", "/media/…", 404),
    }
    assert "secret-media-token" not in err.decode()


async def _answers(url: str) -> bool:
    try:
        return (await get(url))[0] == 200
    except aiohttp.ClientError:
        return False


async def test_an_unknown_log_level_is_a_configuration_error(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "check", cwd=tmp_path,
        env={**os.environ, "SMSBRIDGE_LOG_LEVEL": "LOUD"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert out.decode().strip() == (
        "configuration error: SMSBRIDGE_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR"
    )
