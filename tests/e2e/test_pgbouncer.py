"""Behind PgBouncer in transaction mode (as Supabase, Heroku and most managed poolers run
it): without SMSBRIDGE_DATABASE_POOLER the connection is refused (an unsupported start-up
parameter); with `pgbouncer` the migrations run and an SMS goes in and a reply goes out."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.app import Options, SmsBridge
from bot.config import Settings
from standins.twilio import TwilioStandIn
from storage.db import Database
from tests.conftest import LEAD, LINE, applied, free_port, queue_reply, wait_for
from tests.pg import TEST_URL, throwaway_database

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(TEST_URL is None, reason="SMSBRIDGE_TEST_POSTGRES_URL is not set"),
    pytest.mark.skipif(PGBOUNCER is None, reason="pgbouncer is not installed"),
]


@pytest.fixture
async def pooled_url() -> AsyncIterator[str]:
    """A throwaway database reached through a PgBouncer in transaction mode."""
    assert TEST_URL is not None and PGBOUNCER is not None
    server = make_url(TEST_URL)
    async with throwaway_database(TEST_URL, "pooled") as url:
        port = free_port()
        folder = write_config(server.host, server.port, server.username, port)
        runas = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        proc = await asyncio.create_subprocess_exec(
            *runas, PGBOUNCER, str(folder / "pgbouncer.ini")
        )
        try:
            for _ in range(100):
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.close()
                    break
                except OSError:
                    await asyncio.sleep(0.05)
            yield url.replace(f"{server.host}:{server.port}", f"127.0.0.1:{port}")
        finally:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), 10)
            shutil.rmtree(folder, ignore_errors=True)


def write_config(host: object, server_port: object, user: object, port: int) -> Path:
    # PgBouncer will not run as root: its files must be readable by its user.
    folder = Path(tempfile.mkdtemp(prefix="smsbridge-pgbouncer-"))
    folder.chmod(0o777)
    (folder / "users.txt").write_text(f'"{user}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        f"[databases]\n* = host={host} port={server_port}\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\n"
        f"auth_type = trust\nauth_file = {folder}/users.txt\npool_mode = transaction\n"
        f"unix_socket_dir =\nlogfile = {folder}/pgbouncer.log\n"
    )
    return folder


async def test_without_pooler_mode_pgbouncer_refuses_the_connection(pooled_url: str) -> None:
    db = Database(pooled_url)
    try:
        with pytest.raises(Exception, match="plan_cache_mode"):
            await db.upgrade()
    finally:
        await db.dispose()


async def test_in_pgbouncer_mode_sms_go_in_and_out_through_the_pooler(
    pooled_url: str, settings: Settings, twilio: TwilioStandIn
) -> None:
    pooled = replace(settings, database_url=pooled_url, database_pooler="pgbouncer")
    async with SmsBridge(pooled, Options(worker_kwargs={"poll": 0.05})) as bridge:
        url = pooled.public_url + "/twilio/sms"
        status, _ = await twilio.send_inbound(url, from_=LEAD, to=LINE, body="Hi, Friday?")
        assert status == 200
        await applied(bridge)
        assert bridge.core is not None
        for n in range(3):  # the same statements again and again: no cached plan to clash
            assert (await queue_reply(bridge.core, f"Friday works {n}", phone=LEAD)).ok
        await wait_for(lambda: len(twilio.messages) == 3)
