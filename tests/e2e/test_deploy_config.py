"""Configuration as platforms and deployers hand it over: a `.env` in the working folder,
database URLs in the forms Heroku, Render or compose give out, a PgBouncer in front, and
start-up failures as one line with exit 2."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import asyncpg
import pytest

from standins.slack import SlackStandIn
from storage.db import Database
from tests.conftest import free_port
from tests.pg import TEST_URL, throwaway_database

postgres = pytest.mark.skipif(TEST_URL is None, reason="SMSBRIDGE_TEST_POSTGRES_URL is not set")
BASE_ENV = {
    k: v
    for k, v in os.environ.items()
    if not k.startswith(("SMSBRIDGE_", "SLACK_", "TWILIO_", "DISCORD_", "OPENAI_"))
    and k != "DATABASE_URL"
}


async def smsbridge(cwd: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, cwd=cwd, env={**BASE_ENV, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 90)
    return proc.returncode or 0, out.decode()


async def test_a_dotenv_file_in_the_working_folder_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "SMSBRIDGE_PUBLIC_URL=https://sms.from-dotenv.example\nSMSBRIDGE_UNDO_SECONDS=9\n"
    )
    code, out = await smsbridge(tmp_path, {}, "check")
    assert code == 0, out
    assert "public url: https://sms.from-dotenv.example" in out
    assert "undo window: 9s" in out


async def test_the_environment_wins_over_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SMSBRIDGE_UNDO_SECONDS=9\n")
    code, out = await smsbridge(tmp_path, {"SMSBRIDGE_UNDO_SECONDS": "2"}, "check")
    assert code == 0 and "undo window: 2s" in out, out


async def test_an_unsupported_database_url_is_a_configuration_error(tmp_path: Path) -> None:
    env = {"SMSBRIDGE_DATABASE_URL": "mysql://u:secret@db/smsbridge"}
    code, out = await smsbridge(tmp_path, env, "check")
    assert code == 2 and "SMSBRIDGE_DATABASE_URL: unsupported database 'mysql'" in out
    assert "secret" not in out


async def test_a_slack_token_slack_refuses_stops_the_start_in_one_line(tmp_path: Path) -> None:
    async with SlackStandIn(bot_token="xoxb-right") as slack:
        env = {
            "SMSBRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
            "SMSBRIDGE_PORT": str(free_port()),
            "SLACK_BOT_TOKEN": "xoxb-wrong",
            "SLACK_SIGNING_SECRET": "secret",
            "SLACK_API_URL": slack.url + "/api/",
        }
        code, out = await smsbridge(tmp_path, env, "run")
    assert code == 2 and "Traceback" not in out, out
    last = out.strip().splitlines()[-1]
    assert last == "configuration error: SLACK_BOT_TOKEN was refused by Slack: invalid_auth"


async def test_an_unreachable_database_stops_the_start_in_one_line(tmp_path: Path) -> None:
    env = {
        "SMSBRIDGE_DATABASE_URL": f"postgres://u:pw@127.0.0.1:{free_port()}/none",
        "SMSBRIDGE_PORT": str(free_port()),
    }
    code, out = await smsbridge(tmp_path, env, "run")
    assert code == 2 and "Traceback" not in out, out
    assert out.strip().splitlines()[-1].startswith("start-up error: "), out


@postgres
@pytest.mark.postgres
@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+asyncpg"])
async def test_platform_database_urls_migrate_and_run(tmp_path: Path, scheme: str) -> None:
    assert TEST_URL is not None
    async with throwaway_database(TEST_URL, "urls") as url:
        # A password with % and @, percent-encoded as platforms write it.
        role = f"smsbridge_{os.getpid()}_{scheme.replace('+', '_')}"
        admin = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        await admin.execute(f"CREATE ROLE {role} LOGIN SUPERUSER PASSWORD 'p%40ss@100%'")
        await admin.close()
        try:
            host_db = url.split("@", 1)[1]
            given = f"{scheme}://{role}:p%2540ss%40100%25@{host_db}"
            code, out = await smsbridge(tmp_path, {"DATABASE_URL": given}, "db", "upgrade")
            assert code == 0, out
            code, out = await smsbridge(tmp_path, {"SMSBRIDGE_DATABASE_URL": given}, "check")
            assert code == 0 and "p%40ss" not in out and "***" in out, out
        finally:
            admin = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
            await admin.execute(f"DROP OWNED BY {role}")
            await admin.execute(f"DROP ROLE {role}")
            await admin.close()


@postgres
@pytest.mark.postgres
async def test_behind_pgbouncer_no_startup_parameter_and_no_statement_cache() -> None:
    assert TEST_URL is not None
    async with throwaway_database(TEST_URL, "pooler") as url:
        db = Database(url, pooler="pgbouncer")
        try:
            await db.upgrade()
            async with db.engine.connect() as conn:
                raw = await conn.get_raw_connection()
                driver = raw.driver_connection
                assert driver is not None
                # No start-up parameter: the server's default plan cache mode.
                assert await driver.fetchval("SHOW plan_cache_mode") == "auto"
                assert driver._config.statement_cache_size == 0
        finally:
            await db.dispose()


async def test_check_warns_that_sqlite_is_lost_on_heroku(tmp_path: Path) -> None:
    code, out = await smsbridge(tmp_path, {"DYNO": "web.1"}, "check")
    assert code == 0 and "warning: SQLite on Heroku" in out, out
    env = {"DYNO": "web.1", "DATABASE_URL": "postgres://u:pw@db.example/x"}
    code, out = await smsbridge(tmp_path, env, "check")
    assert code == 0 and "warning" not in out, out
