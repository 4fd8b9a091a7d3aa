"""The same code on PostgreSQL (asyncpg): migrations from the first revision, the inbound
and outbound flow, and two workers sharing one database without double sends.

Runs where SMSBRIDGE_TEST_POSTGRES_URL points at a server (`.ci/run` starts one)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import Options, SmsBridge
from bridges.sms import TwilioSettings
from standins.twilio import TwilioStandIn
from storage.models import Message
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, LEAD, LINE, applied, make_settings, wait_for
from tests.pg import TEST_URL, throwaway_database

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not TEST_URL, reason="SMSBRIDGE_TEST_POSTGRES_URL is not set"),
]


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    assert TEST_URL
    async with throwaway_database(TEST_URL, "smsbridge_test") as url:
        yield url


async def test_flow_on_postgres_with_migrations(
    tmp_path: Path, pg_url: str, twilio: TwilioStandIn
) -> None:
    settings = replace(
        make_settings(tmp_path, twilio=TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, twilio.url)),
        database_url=pg_url,
    )
    first = SmsBridge(settings, Options(worker_kwargs={"poll": 0.05}))
    second_settings = replace(settings, port=0)
    second = SmsBridge(second_settings, Options(worker_kwargs={"poll": 0.05}))
    await first.start()
    await second.start()
    try:
        webhook = settings.public_url + "/twilio/sms"
        for i in range(5):
            status, _ = await twilio.send_inbound(webhook, from_=LEAD, to=LINE, body=f"m{i}")
            assert status == 200
        await applied(first)
        from tests.e2e.test_sms_flow import reply

        for i in range(6):
            assert (await reply(first if i % 2 else second, f"r{i}")).ok
        await wait_for(lambda: len(twilio.messages) >= 6, timeout=20)
        bodies = [m["body"] for m in twilio.messages]
        assert bodies == [f"r{i}" for i in range(6)], "per-conversation order across two workers"
        async with first.db.session() as s:
            inbound = list(await s.scalars(select(Message.body).where(Message.direction == "in")))
        assert inbound == [f"m{i}" for i in range(5)]
    finally:
        await second.stop()
        await first.stop()
