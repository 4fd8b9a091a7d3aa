"""An inbound SMS whose apply keeps failing is parked after a bound: the lead's later SMS
go through, the parked one is counted in /metrics and logged once, never retried forever
in silence."""

from __future__ import annotations

import logging
import re
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import SmsBridge
from bot.jobs import Backoff
from bot.services import intake as intake_module
from standins.twilio import TwilioStandIn
from storage.models import Message, ReceivedSms
from tests.conftest import LEAD, LINE, applied


async def test_an_apply_that_keeps_failing_is_parked_counted_and_logged(
    bridge: SmsBridge,
    twilio: TwilioStandIn,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    intake = bridge.intake
    assert intake is not None
    monkeypatch.setattr(intake_module, "MAX_APPLY_ATTEMPTS", 3)
    intake.retry = Backoff(first=0.01)
    real = intake_module.apply_batch

    async def poisoned(core: Any, session: Any, batch: Any) -> Any:
        if any(sms.body == "poison" for sms in batch):
            raise RuntimeError("cannot apply this one")
        return await real(core, session, batch)

    monkeypatch.setattr(intake_module, "apply_batch", poisoned)
    url = bridge.settings.public_url + "/twilio/sms"
    for body in ("poison", "after"):
        status, _ = await twilio.send_inbound(url, from_=LEAD, to=LINE, body=body)
        assert status == 200
    await applied(bridge)

    async with bridge.db.session() as session:
        bodies = list(await session.scalars(select(Message.body).where(Message.kind == "sms")))
        parked = list(await session.scalars(select(ReceivedSms)))
    assert bodies == ["after"]
    assert [(row.payload["body"], row.attempts) for row in parked] == [("poison", 3)]
    assert "cannot apply this one" in (parked[0].last_error or "")
    assert await intake.parked() == 1

    async with aiohttp.ClientSession() as http:
        async with http.get(bridge.settings.public_url + "/metrics") as resp:
            text = await resp.text()
    assert "smsbridge_received_sms_parked 1.0" in text
    # The parked one is not waiting to be applied; the other one was applied.
    assert "smsbridge_intake_backlog 0.0" in text
    assert re.search(r"^smsbridge_inbound_applied_total [1-9]", text, re.M)
    lines = [r for r in caplog.records if r.levelno >= logging.ERROR and "parked" in r.getMessage()]
    assert len(lines) == 1 and LEAD not in lines[0].getMessage()
