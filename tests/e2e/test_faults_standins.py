"""The outside APIs fail on command — Twilio, Slack and OpenAI stand-ins answering with
500s, 429 + Retry-After, dropped connections, timeouts and malformed JSON — while the
real server, workers and client libraries run. Each time: the system retries what is
safe to retry, never repeats a send whose outcome it cannot know (it surfaces it), stays
responsive (/healthz answers at once, during the fault) and reports (delivery attempts
with the reason, Prometheus metrics, a short refusal for a draft)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import SmsBridge
from bot.facade import Facade
from bot.types import Actor, ChatRef
from bridges.ai import AiSettings
from standins.openai import DEFAULT_API_KEY, OpenAIStandIn
from standins.twilio import TwilioStandIn
from storage.models import Delivery, DeliveryAttempt, Message, Thread
from tests.conftest import wait_for
from tests.slack_fixtures import SALES, SlackEnv

DANA = Actor("slack", "U0DANA", "Dana")


@pytest.fixture
async def openai_standin() -> AsyncIterator[OpenAIStandIn]:
    server = OpenAIStandIn(reply="Hi! Tuesday at 9 works. - Acme")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def env(
    tmp_path: Path, twilio: TwilioStandIn, openai_standin: OpenAIStandIn
) -> AsyncIterator[SlackEnv]:
    ai = AiSettings(DEFAULT_API_KEY, openai_standin.url + "/v1", "acme-1", timeout=0.5)
    async with SlackEnv.start(tmp_path, twilio, openai=ai) as sx:
        # Short client timeouts, so a timeout takes half a second here.
        assert sx.app.gateway is not None
        sx.app.gateway.http.timeout = 0.5  # type: ignore[attr-defined]
        sx.app.plugins["slack"].client.timeout = 0.5  # type: ignore[attr-defined]
        yield sx


async def healthz_at_once(app: SmsBridge) -> None:
    started = time.monotonic()
    async with (
        aiohttp.ClientSession() as http,
        http.get(app.settings.public_url + "/healthz") as r,
    ):
        assert r.status == 200
    # A loop blocked by the fault would hold /healthz for the whole fault (a 1 s
    # Retry-After, a 1.2 s late answer); under that, a busy CI machine's jitter.
    assert time.monotonic() - started < 0.9, "healthz was slow during the fault"


async def metric(app: SmsBridge, name: str, **labels: str) -> float:
    async with (
        aiohttp.ClientSession() as http,
        http.get(app.settings.public_url + "/metrics") as r,
    ):
        text = await r.text()
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for row in text.splitlines():
        found = re.match(rf"^{name}\{{(.*)\}} (\S+)$", row)
        if found and ",".join(sorted(found.group(1).split(","))) == want:
            return float(found.group(2))
    return 0.0


async def attempts(app: SmsBridge, kind: str) -> list[tuple[str, str | None]]:
    async with app.db.session() as s:
        rows = await s.execute(
            select(DeliveryAttempt.outcome, DeliveryAttempt.detail)
            .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
            .where(Delivery.kind == kind)
            .order_by(DeliveryAttempt.id)
        )
        return [(o, d) for o, d in rows]


async def conversation_with_thread(sx: SlackEnv) -> dict[str, Any]:
    await sx.sms_in("Hi, is Tuesday OK?")
    header = await sx.header()
    await wait_for(lambda: sx.thread(header))
    return header


async def out_status(sx: SlackEnv, body: str) -> str | None:
    async with sx.app.db.session() as s:
        return await s.scalar(select(Message.status).where(Message.body == body))


SMS_RETRIED = [
    pytest.param({"status": 500}, "Twilio answered 500", id="500"),
    pytest.param({"status": 503, "body": "<html>upstream</html>"}, "503", id="503-not-json"),
    pytest.param({"status": 429, "retry_after": 1}, "Twilio answered 429", id="429-retry-after"),
]


@pytest.mark.parametrize(("fault", "reason"), SMS_RETRIED)
async def test_twilio_errors_are_retried_and_the_sms_goes_once(
    env: SlackEnv, fault: dict[str, Any], reason: str
) -> None:
    header = await conversation_with_thread(env)
    env.twilio.fail_next(path_contains="Messages.json", **fault)
    retries_before = await metric(env.app, "smsbridge_deliveries_total", kind="sms.send",
                                  outcome="retry")  # fmt: skip
    await env.reply("U0DANA", "Tuesday at 9 it is", header)
    await wait_for(lambda: env.twilio.calls("Messages.json", "POST"), timeout=5)
    await healthz_at_once(env.app)
    await wait_for(lambda: env.twilio.messages, timeout=10)
    assert [m["body"] for m in env.twilio.messages] == ["Tuesday at 9 it is"]

    async def closed() -> list[tuple[str, str | None]]:  # Twilio has it; the run closes next
        tried = await attempts(env.app, "sms.send")
        return tried if tried and tried[-1][0] == "done" else []

    tried = await wait_for(closed, timeout=5)
    assert [o for o, _ in tried] == ["retry", "done"] and reason in (tried[0][1] or "")
    assert await metric(env.app, "smsbridge_deliveries_total", kind="sms.send",
                        outcome="retry") == retries_before + 1  # fmt: skip


SMS_UNKNOWN = [
    pytest.param({"drop": True}, False, id="dropped-connection"),
    pytest.param({"status": 201, "delay": 1.5}, True, id="timeout"),
    pytest.param({"status": 201, "body": "{not json"}, False, id="malformed-json"),
]


@pytest.mark.parametrize(("fault", "created"), SMS_UNKNOWN)
async def test_twilio_answer_lost_is_unknown_surfaced_and_never_repeated(
    env: SlackEnv, fault: dict[str, Any], created: bool
) -> None:
    """The request reached Twilio; whether it sent the SMS cannot be known."""
    header = await conversation_with_thread(env)
    env.twilio.fail_next(path_contains="Messages.json", **fault)
    await env.reply("U0DANA", "Did this go?", header)
    await wait_for(lambda: env.twilio.calls("Messages.json", "POST"), timeout=5)
    await healthz_at_once(env.app)
    await wait_for(lambda: _is(out_status(env, "Did this go?"), "unknown"), timeout=10)
    if created:  # the slow answer's SMS exists at Twilio, though we never heard back
        await wait_for(lambda: env.twilio.messages, timeout=5)
    await asyncio.sleep(0.5)
    assert len(env.twilio.calls("Messages.json", "POST")) == 1, "repeated blindly"
    assert len(env.twilio.messages) == (1 if created else 0)
    await wait_for(lambda: any("Not sure the SMS" in t for t in env.texts(header)), timeout=5)
    notice = next(m for m in env.thread(header) if "Not sure the SMS" in m.get("text", ""))
    assert "sms_retry" in str(notice.get("blocks")), "surfaced with a Retry button"
    assert await metric(env.app, "smsbridge_deliveries_total", kind="sms.send",
                        outcome="unknown") >= 1  # fmt: skip


SLACK_FAULTS = [
    pytest.param({"status": 500}, 1, True, id="500"),
    pytest.param({"status": 429, "retry_after": 1}, 1, True, id="429-retry-after"),
    # slack_sdk retries a dropped connection once by itself; if that fails too, we do.
    pytest.param({"drop": True}, 1, None, id="dropped-connection"),
    pytest.param({"status": 200, "body": "{not json"}, 1, True, id="malformed-json"),
    # Slack took the post but the answer came too late: trying again (slack_sdk's own
    # retry handler, or the worker) may repeat the post, as Slack has no idempotency
    # key. Never lost.
    pytest.param({"status": 200, "delay": 1.2}, 2, None, id="timeout"),
]


async def chat_done(app: SmsBridge) -> bool:
    async with app.db.session() as s:
        left = await s.scalar(
            select(Delivery.id).where(
                Delivery.lane == "slack", Delivery.status.in_(("pending", "running"))
            )
        )
    return left is None


@pytest.mark.parametrize(("fault", "at_most", "worker_retry"), SLACK_FAULTS)
async def test_slack_errors_are_retried_and_the_sms_reaches_the_thread(
    env: SlackEnv, fault: dict[str, Any], at_most: int, worker_retry: bool | None
) -> None:
    header = await conversation_with_thread(env)
    await wait_for(lambda: chat_done(env.app))
    env.slack.fail_next(path_contains="chat.postMessage", **fault)
    await env.sms_in("Second message")
    await wait_for(lambda: env.slack.calls("chat.postMessage")[-1:], timeout=5)
    await healthz_at_once(env.app)
    await wait_for(lambda: "Second message" in env.texts(header), timeout=15)
    await wait_for(lambda: chat_done(env.app), timeout=10)
    await asyncio.sleep(fault.get("delay", 0.0) + 0.2)  # a late copy would land by now
    assert 1 <= env.texts(header).count("Second message") <= at_most
    tried = [o for o, _ in await attempts(env.app, "chat.message")]
    # A first-try success leaves no attempt row; a history with retries ends in "done".
    assert tried == [] or tried[-1] == "done", tried
    if worker_retry is not None:
        assert tried.count("retry") == int(worker_retry), tried
    async with env.app.db.session() as s:
        threads = list(await s.scalars(select(Thread)))
    assert len(threads) == 1 and len(env.headers(SALES)) == 1, "no second thread"


OPENAI_FAULTS = [
    pytest.param({"status": 500}, "had an error", id="500"),
    pytest.param({"status": 429, "retry_after": 1}, "busy", id="429"),
    pytest.param({"drop": True}, "", id="dropped-connection"),
    pytest.param({"status": 200, "body": "{not json"}, "", id="malformed-json"),
    pytest.param({"status": 200, "delay": 2.0}, "took too long", id="timeout"),
]


@pytest.mark.parametrize(("fault", "says"), OPENAI_FAULTS)
async def test_openai_errors_are_a_short_refusal_and_nothing_is_sent(
    env: SlackEnv, openai_standin: OpenAIStandIn, fault: dict[str, Any], says: str
) -> None:
    header = await conversation_with_thread(env)
    openai_standin.fail_next(path_contains="/chat/completions", **fault)
    where = ChatRef("slack", SALES, header["ts"])
    started = time.monotonic()
    task = asyncio.create_task(Facade(env.app.core).request_draft(DANA, where, ""))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    await healthz_at_once(env.app)
    outcome = await task
    assert time.monotonic() - started < 5, "the draft request was not bounded"
    assert not outcome.ok and outcome.text.startswith("No draft:"), outcome.text
    assert says in outcome.text and outcome.text.endswith("Nothing was sent.")
    assert env.twilio.messages == []
    assert await metric(env.app, "smsbridge_ai_drafts_total", outcome="error") >= 1 or (
        await metric(env.app, "smsbridge_ai_drafts_total", outcome="refused") >= 1
    )
    # The model answers again: drafts work again.
    outcome = await Facade(env.app.core).request_draft(DANA, where, "")  # type: ignore[arg-type]
    assert outcome.ok, outcome.text


async def _is(coro: Any, value: Any) -> bool:
    return bool((await coro) == value)
