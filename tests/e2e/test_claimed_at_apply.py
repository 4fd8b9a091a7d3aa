"""A received SMS's chat posts are claimed in the transaction that applies it, when
nothing else waits in their conversation's lane: the worker runs them once it commits,
with no look for heads and no claim of its own (bench/RESULTS.md). An SMS whose lane is
busy waits its turn like any queued delivery."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.delivery.worker import Worker
from standins.twilio import TwilioStandIn
from storage.models import Delivery
from tests.conftest import wait_for
from tests.slack_fixtures import SlackEnv


async def test_a_received_sms_reaches_its_thread_even_when_the_worker_claims_nothing(
    tmp_path: Path, twilio: TwilioStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def claims_nothing(self: Worker, limit: int) -> list[list[Delivery]]:
        return []

    monkeypatch.setattr(Worker, "_claim", claims_nothing)
    async with SlackEnv.start(tmp_path, twilio) as sx:
        assert sx.app.core is not None
        db = sx.app.core.db

        async def all_done() -> bool:
            async with db.session() as s:
                return set(await s.scalars(select(Delivery.status))) == {"done"}

        await sx.sms_in("Is the roof quote ready?")
        header = await sx.header()
        await wait_for(lambda: "Is the roof quote ready?" in sx.texts(header))
        # The first post closed: the lane is free for the next SMS to be claimed at apply.
        await wait_for(all_done)
        await sx.sms_in("Also the gutters")
        await wait_for(lambda: "Also the gutters" in sx.texts(header))
        await wait_for(all_done)


async def test_an_sms_arriving_while_its_lane_is_busy_is_posted_after_the_one_before(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    async with SlackEnv.start(tmp_path, twilio) as sx:
        await sx.sms_in("first")
        header = await sx.header()
        await wait_for(lambda: "first" in sx.texts(header))
        # Slack takes a second over the next post: "third" arrives while it is in flight.
        sx.slack.fail_next(200, delay=1.0, path_contains="chat.postMessage")
        await sx.sms_in("second")
        await wait_for(lambda: _posting(sx, "second"))
        await sx.sms_in("third")
        await wait_for(lambda: "third" in sx.texts(header), timeout=15)
        assert [t for t in sx.texts(header) if t in ("first", "second", "third")] == [
            "first",
            "second",
            "third",
        ]


def _posting(sx: SlackEnv, text: str) -> bool:
    """Whether a chat.postMessage carrying `text` has reached the stand-in."""
    return any(text.encode() in call.raw for call in sx.slack.calls("chat.postMessage"))
