"""Slack under pressure: 429 with Retry-After, a burst of inbound SMS against a rate-limited
channel, and Socket Mode instead of HTTP events."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from standins import slack_payloads as sp
from standins.twilio import TwilioStandIn
from tests.conftest import LEAD, wait_for
from tests.slack_fixtures import SALES, SlackEnv, sx_fixture  # noqa: F401

OTHER = "+14155550177"


async def test_429_retry_after_is_honoured(sx: SlackEnv) -> None:
    sx.slack.fail_next(429, retry_after=1, path_contains="chat.postMessage")
    await sx.sms_in("Hello?")
    header = await sx.header()
    await wait_for(lambda: sx.thread(header))
    posts = sx.slack.calls("chat.postMessage")
    assert len(sx.headers()) == 1 and sx.texts(header) == ["Hello?"]
    assert posts[1].at - posts[0].at >= 0.95  # waited Retry-After before posting again


async def test_burst_against_a_rate_limited_channel_arrives_complete_and_in_order(
    sx: SlackEnv,
) -> None:
    sx.slack.rate_limit_per_channel, sx.slack.burst = 2.0, 2
    for i in range(15):
        await sx.sms_in(f"a{i:02d}")
        await sx.sms_in(f"b{i:02d}", from_=OTHER)
    await wait_for(lambda: len(sx.headers()) == 2)

    def words(index: int) -> list[str]:
        return " ".join(sx.texts(sx.headers()[index])).split()

    def complete() -> bool:
        return all(len(words(i)) == 15 for i in (0, 1))

    await wait_for(complete, timeout=30)
    by_lead = {words(i)[0][0]: words(i) for i in (0, 1)}
    assert by_lead["a"] == [f"a{i:02d}" for i in range(15)]
    assert by_lead["b"] == [f"b{i:02d}" for i in range(15)]
    assert sx.slack.rate_limited_count >= 1
    threaded = [m for m in sx.slack.posts(SALES) if m.get("thread_ts") not in (None, m["ts"])]
    assert len(threaded) < 30  # a backlog is coalesced into fewer posts


async def test_socket_mode_receives_events_and_acks(tmp_path: Path, twilio: TwilioStandIn) -> None:
    async with SlackEnv.start(tmp_path, twilio, socket_mode=True) as sx:
        await sx.slack.wait_socket(1)
        async with aiohttp.ClientSession() as http:
            async with http.post(sx.events_url, data=b"{}") as resp:
                assert resp.status == 404  # no public URL for Slack in Socket Mode
        await sx.sms_in("Hello over a socket?")
        header = await sx.header()
        event = sx.slack.user_message(SALES, "U0DANA", "Yes, I hear you", thread_ts=header["ts"])
        envelope = sp.event_callback(event)
        first = await sx.slack.socket_send("events_api", envelope)
        assert await sx.slack.wait_ack(first) == {"envelope_id": first}
        again = await sx.slack.socket_send("events_api", envelope, retry_attempt=1)
        await sx.slack.wait_ack(again)
        await wait_for(lambda: twilio.messages)
        url = sx.slack.response_url()
        command = sp.slash_command("inbox", user_id="U0DANA", channel_id=SALES, response_url=url)
        acked = await sx.slack.socket_send("slash_commands", command, True)
        await sx.slack.wait_ack(acked)
        assert (await sx.response(url)).startswith("1 open conversation(s).")
        assert [m["body"] for m in twilio.messages] == ["Yes, I hear you"]
        assert twilio.messages[0]["to"] == LEAD
