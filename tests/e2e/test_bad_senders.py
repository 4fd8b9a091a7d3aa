"""A webhook whose From cannot be a sender is refused at the edge with a 4xx that says
why (and a log line), nothing of it is stored; one bad webhook never fails the others
stored in the same batch (group commit), on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import Options, SmsBridge
from bot.types import InboundSms
from bridges.sms import TwilioSettings
from standins.twilio import TwilioStandIn
from storage.models import Lead, Message
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, LEAD, LINE, applied, make_settings
from tests.pg import TEST_URL, throwaway_database


async def send(app: SmsBridge, twilio: TwilioStandIn, sender: str, body: str) -> tuple[int, str]:
    url = app.settings.public_url + "/twilio/sms"
    return await twilio.send_inbound(url, from_=sender, to=LINE, body=body)


async def stored_senders(app: SmsBridge) -> list[str]:
    async with app.db.session() as session:
        return list(await session.scalars(select(Lead.phone).order_by(Lead.phone)))


@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        ("whatsapp:+14155550210", "WhatsApp"),
        ("messenger:1234567890", "not supported"),
        ("+1" + "4" * 300, "too long"),
        ("+14155550210123456789012", "too long"),
        ("x" * 300, "too long"),
        ("<script>", "cannot be a sender"),
        ("+1 415 555", "cannot be a sender"),
    ],
)
async def test_a_sender_that_cannot_be_one_is_refused_with_the_reason(
    bridge: SmsBridge,
    twilio: TwilioStandIn,
    caplog: pytest.LogCaptureFixture,
    sender: str,
    reason: str,
) -> None:
    status, text = await send(bridge, twilio, sender, "hello")
    assert status == 400 and reason in text
    assert await stored_senders(bridge) == []
    assert [r for r in caplog.records if r.levelno == logging.WARNING and "From" in r.getMessage()]
    assert sender not in caplog.text  # senders are not written to the log in full


@pytest.mark.parametrize(
    ("sender", "stored"),
    [
        ("+1 (415) 555-0210", "+14155550210"),
        ("+14155550210", "+14155550210"),
        ("12345", "12345"),
        ("ACME Co", "ACME Co"),
    ],
)
async def test_real_senders_are_taken_and_stored_in_one_form(
    bridge: SmsBridge, twilio: TwilioStandIn, sender: str, stored: str
) -> None:
    status, _ = await send(bridge, twilio, sender, "hello")
    assert status == 200
    await applied(bridge)
    assert await stored_senders(bridge) == [stored]


async def check_one_bad_webhook_does_not_fail_its_batch(
    app: SmsBridge, twilio: TwilioStandIn
) -> None:
    senders = [f"+1415555{i:04d}" for i in range(30)]
    bad = ["+1" + "9" * 70, "whatsapp:+14155550210", "+1415555021012345678901"]
    mixed = senders[:10] + bad[:1] + senders[10:20] + bad[1:2] + senders[20:] + bad[2:]
    answers = await asyncio.gather(*(send(app, twilio, s, "hi") for s in mixed))
    statuses = dict(zip(mixed, (status for status, _ in answers), strict=True))
    assert [statuses[s] for s in senders] == [200] * 30
    assert [statuses[s] for s in bad] == [400] * 3
    await applied(app)
    assert await stored_senders(app) == sorted(senders)

    # Past the edge too: the intake stores each of a batch on its own merits (PostgreSQL
    # refuses the poison; SQLite takes it and the apply drops it).
    intake = app.intake
    assert intake is not None
    good = InboundSms("SM" + "1" * 32, LEAD, LINE, "fine")
    too_long = InboundSms("SM" + "2" * 32, "+1" + "7" * 80, LINE, "poison")
    results = await asyncio.gather(
        intake.accept(good), intake.accept(too_long), return_exceptions=True
    )
    assert results[0] == "stored"
    await applied(app)
    async with app.db.session() as session:
        count = await session.scalar(select(func.count()).where(Message.body == "fine"))
        poison = await session.scalar(select(func.count()).where(Message.body == "poison"))
    assert (count, poison) == (1, 0)
    assert await stored_senders(app) == sorted([*senders, LEAD])


async def test_one_bad_webhook_does_not_fail_its_batch_on_sqlite(
    bridge: SmsBridge, twilio: TwilioStandIn
) -> None:
    await check_one_bad_webhook_does_not_fail_its_batch(bridge, twilio)


@pytest.fixture
async def pg_bridge(tmp_path: Path, twilio: TwilioStandIn) -> AsyncIterator[SmsBridge]:
    if not TEST_URL:
        pytest.skip("SMSBRIDGE_TEST_POSTGRES_URL is not set")
    async with throwaway_database(TEST_URL, "smsbridge_senders") as url:
        settings = make_settings(
            tmp_path, twilio=TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, twilio.url)
        )
        app = SmsBridge(replace(settings, database_url=url), Options(worker_kwargs={"poll": 0.05}))
        await app.start()
        try:
            yield app
        finally:
            await app.stop()


@pytest.mark.postgres
async def test_one_bad_webhook_does_not_fail_its_batch_on_postgres(
    pg_bridge: SmsBridge, twilio: TwilioStandIn
) -> None:
    await check_one_bad_webhook_does_not_fail_its_batch(pg_bridge, twilio)
