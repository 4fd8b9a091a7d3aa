"""Durable delivery against a misbehaving Twilio: 429 with Retry-After, a dropped
connection (unknown outcome, never resent blindly), 21610, and a restart that resumes."""

from __future__ import annotations

import time

from sqlalchemy import select

from bot.app import Options, SmsBridge
from bot.config import Settings
from standins.twilio import TwilioStandIn
from storage.models import Delivery, DeliveryAttempt, Lead, Message
from tests.conftest import LEAD, LINE, applied, wait_for
from tests.e2e.test_sms_flow import reply


async def status_of(bridge: SmsBridge, message_id: int) -> str | None:
    async with bridge.db.session() as s:
        return await s.scalar(select(Message.status).where(Message.id == message_id))


async def inbound(bridge: SmsBridge, twilio: TwilioStandIn, body: str) -> None:
    status, _ = await twilio.send_inbound(
        bridge.settings.public_url + "/twilio/sms", from_=LEAD, to=LINE, body=body
    )
    assert status == 200
    await applied(bridge)


async def test_429_retry_after_is_honoured_then_sent_once(
    bridge: SmsBridge, twilio: TwilioStandIn
) -> None:
    await inbound(bridge, twilio, "hi")
    twilio.fail_next(429, retry_after=1, path_contains="Messages.json")
    started = time.monotonic()
    outcome = await reply(bridge, "hello after a pause")
    await wait_for(lambda: _is(status_of(bridge, outcome.message_id), "queued"), timeout=10)
    assert time.monotonic() - started >= 0.9, "Retry-After was not honoured"
    assert len(twilio.messages) == 1
    async with bridge.db.session() as s:
        attempts = list(await s.scalars(select(DeliveryAttempt.outcome)))
    assert attempts == ["retry", "done"]


async def test_dropped_connection_is_unknown_and_not_repeated(
    bridge: SmsBridge, twilio: TwilioStandIn
) -> None:
    await inbound(bridge, twilio, "hi")
    twilio.fail_next(drop=True, path_contains="Messages.json")
    outcome = await reply(bridge, "did this go?")
    await wait_for(lambda: _is(status_of(bridge, outcome.message_id), "unknown"))
    async with bridge.db.session() as s:
        notice = await s.scalar(select(Delivery).where(Delivery.kind == "sms.send"))
        assert notice.status == "unknown"
    # Nothing is resent by itself: the stand-in saw one attempt and created nothing.
    assert len(twilio.calls("Messages.json", "POST")) == 1
    assert twilio.messages == []
    # Had Twilio taken it after all, its status callback resolves the unknown send.
    from standins.twilio_wire import sign_twilio_request

    url = bridge.settings.public_url + "/twilio/status"
    form = {
        "MessageSid": "SM" + "e" * 32,
        "MessageStatus": "delivered",
        "To": LEAD,
        "From": LINE,
        "AccountSid": twilio.account_sid,
    }
    import aiohttp

    async with aiohttp.ClientSession() as http:
        sig = sign_twilio_request(twilio.auth_token, url, form)
        async with http.post(url, data=form, headers={"X-Twilio-Signature": sig}) as r:
            assert r.status < 300
    assert await status_of(bridge, outcome.message_id) == "delivered"


async def test_retry_button_sends_an_unknown_sms_once_more_only_once(
    bridge: SmsBridge, twilio: TwilioStandIn
) -> None:
    from bot.facade import Facade
    from bot.types import Actor

    await inbound(bridge, twilio, "hi")
    twilio.fail_next(drop=True, path_contains="Messages.json")
    outcome = await reply(bridge, "did this go?")
    await wait_for(lambda: _is(status_of(bridge, outcome.message_id), "unknown"))
    assert bridge.core is not None
    retry = Facade(bridge.core).retry
    first = await retry(Actor("slack", "U0SAM"), outcome.message_id)
    assert first.ok, first.text
    await wait_for(lambda: twilio.messages)
    second = await retry(Actor("slack", "U0SAM"), outcome.message_id)
    assert not second.ok and "retried by Sam" in second.text
    outsider = await retry(Actor("slack", "U0GINA"), outcome.message_id)
    assert not outsider.ok
    assert [m["body"] for m in twilio.messages] == ["did this go?"]


async def test_21610_marks_the_lead_opted_out(bridge: SmsBridge, twilio: TwilioStandIn) -> None:
    await inbound(bridge, twilio, "hi")
    twilio.opted_out.add(LEAD)
    outcome = await reply(bridge, "hello")
    await wait_for(lambda: _is(status_of(bridge, outcome.message_id), "failed"))
    async with bridge.db.session() as s:
        lead = await s.scalar(select(Lead))
        message = await s.get(Message, outcome.message_id)
    assert lead.opted_out
    assert message.error_code == "21610"


async def test_pending_sends_resume_after_restart(
    settings: Settings, twilio: TwilioStandIn
) -> None:
    first = SmsBridge(settings, Options(run_workers=False))
    await first.start()
    await inbound(first, twilio, "hi")
    outcomes = [await reply(first, f"queued {i}") for i in range(3)]
    await first.stop()
    assert twilio.messages == []
    second = SmsBridge(settings, Options(worker_kwargs={"poll": 0.05}))
    await second.start()
    try:
        await wait_for(lambda: len(twilio.messages) == 3)
        assert [m["body"] for m in twilio.messages] == ["queued 0", "queued 1", "queued 2"]
        # Twilio holds a message from its request on; the status commits after the answer.
        for outcome in outcomes:
            await wait_for(lambda o=outcome: _is(status_of(second, o.message_id), "queued"))
    finally:
        await second.stop()


async def _is(coro, value):  # type: ignore[no-untyped-def]
    return (await coro) == value
