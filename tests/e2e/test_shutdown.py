"""A stop is bounded (SMSBRIDGE_SHUTDOWN_SECONDS) even with a paced SMS backlog that would
take much longer to drain: Docker and Heroku kill a process that overstays. What was cut
short is taken up after the restart, and no lead gets an SMS twice."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from sqlalchemy import func, select

from bot.app import Options, SmsBridge
from bot.config import Settings
from bot.outbound import send_from_line
from standins.twilio import TwilioStandIn
from storage.models import Message
from tests.conftest import LINE, wait_for

LEADS = [f"+1415555{n:04d}" for n in range(200, 216)]


async def test_a_stop_under_a_paced_backlog_ends_within_its_bound(
    tmp_path: Path, settings: Settings, twilio: TwilioStandIn
) -> None:
    paced = replace(settings, sms_per_second=1.0, shutdown_seconds=2.0)
    bridge = SmsBridge(paced, Options(worker_kwargs={"poll": 0.05}))
    await bridge.start()
    try:
        for n, lead in enumerate(LEADS):
            outcome, _ = await send_from_line(paced, LINE, lead, f"Estimate {n}", wait=False)
            assert outcome.ok, outcome.text
        # The burst goes out at once; the rest wait for the line, 1 a second (16 s).
        await wait_for(lambda: len(twilio.messages) >= 4)
    finally:
        started = time.monotonic()
        await bridge.stop()
        took = time.monotonic() - started
    # The backlog would take 16 s; the margin over the bound is for a loaded CI machine.
    assert took < paced.shutdown_seconds + 1.5, took
    assert len(twilio.messages) < len(LEADS)

    async with SmsBridge(replace(paced, sms_per_second=100.0), Options()) as again:

        async def settled() -> bool:
            async with again.db.session() as s:
                waiting = await s.scalar(
                    select(func.count()).where(
                        Message.direction == "out", Message.status.in_(("pending", "sending"))
                    )
                )
            return waiting == 0

        await wait_for(settled, timeout=30)
    # Those that waited for the line went back to the queue and out after the restart;
    # one cut mid-send would be `unknown` (never sent twice).
    sent_to = Counter(m["to"] for m in twilio.messages)
    assert max(sent_to.values()) == 1, sent_to
    assert len(sent_to) == len(LEADS)
