"""The Discord stand-in fails on command while an inbound SMS is being posted to its
thread: 500s, dropped connections, malformed JSON, a slow answer. The post is retried
(by discord.py or by the delivery worker), the server stays responsive, the SMS reaches
the thread, and no second thread is opened. (429 with Retry-After: test_discord_flow.)"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import SmsBridge
from standins.discord import DiscordStandIn
from standins.twilio import TwilioStandIn
from storage.models import Delivery, Thread
from tests.conftest import wait_for
from tests.discord_fixtures import (  # noqa: F401  (fixtures)
    FORUM,
    dbridge_fixture,
    discord_api_fixture,
    posts,
    text_in,
)
from tests.e2e.test_discord_flow import open_thread
from tests.e2e.test_faults_standins import healthz_at_once

DISCORD_FAULTS = [
    pytest.param({"status": 500}, 1, id="500"),
    pytest.param({"status": 502, "times": 2}, 1, id="502-twice"),
    pytest.param({"drop": True}, 1, id="dropped-connection"),
    pytest.param({"status": 200, "body": "{not json"}, 2, id="malformed-json"),
    pytest.param({"status": 200, "delay": 1.2}, 1, id="slow-answer"),
]


async def discord_done(app: SmsBridge) -> bool:
    async with app.db.session() as s:
        left = await s.scalar(
            select(Delivery.id).where(
                Delivery.lane == "discord", Delivery.status.in_(("pending", "running"))
            )
        )
    return left is None


def texts(api: DiscordStandIn, thread: str) -> list[str]:
    return [m["content"] for m in posts(api, thread) if m.get("webhook_id")]


@pytest.mark.parametrize(("fault", "at_most"), DISCORD_FAULTS)
async def test_discord_errors_are_retried_and_the_sms_reaches_the_thread(
    dbridge: SmsBridge,
    discord_api: DiscordStandIn,
    twilio: TwilioStandIn,
    fault: dict[str, Any],
    at_most: int,
) -> None:
    thread = await open_thread(dbridge, discord_api, twilio)
    await wait_for(lambda: discord_done(dbridge))
    before = len(discord_api.calls("/webhooks/", "POST"))
    discord_api.fail_next(path_contains="/webhooks/", **fault)
    await text_in(dbridge, twilio, "Second message")
    await healthz_at_once(dbridge)
    await wait_for(lambda: "Second message" in texts(discord_api, thread), timeout=20)
    await wait_for(lambda: discord_done(dbridge), timeout=20)
    await asyncio.sleep(fault.get("delay", 0.0) + 0.2)  # a late copy would land by now
    # A 200 whose body cannot be read was posted: trying again may show it twice (Discord
    # has no idempotency key for webhook posts); never lost.
    assert 1 <= texts(discord_api, thread).count("Second message") <= at_most
    tries = len(discord_api.calls("/webhooks/", "POST")) - before
    assert tries >= (1 if "delay" in fault else 1 + fault.get("times", 1)), "fault not hit"
    async with dbridge.db.session() as s:
        threads = list(await s.scalars(select(Thread)))
    assert len(threads) == 1, "no second thread"
    assert len(discord_api.threads_of(FORUM)) == 1
