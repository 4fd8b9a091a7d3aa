"""Where chat and the database meet: a process killed between Slack taking a header card
and the database recording it must not leave a second card (whose thread would swallow
replies), and a teammate's reply Slack was told we got must not be lost by a kill.

The server is a real `smsbridge run` subprocess on SQLite, killed with SIGKILL; the
Slack stand-in carries the card out and holds its answer, as real Slack latency does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from standins import slack_payloads as sp
from standins.slack import SlackStandIn
from standins.twilio import TwilioStandIn
from tests.conftest import LEAD, LINE, wait_for
from tests.e2e.cluster import SALES, SECRET, Cluster, slack_standin


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with slack_standin() as standin:
        yield standin


def cards(slack: SlackStandIn) -> list[dict]:
    return [p for p in slack.posts(SALES) if p.get("thread_ts") in (None, p["ts"])]


def in_thread(slack: SlackStandIn, ts: str) -> list[str]:
    return [p["text"] for p in slack.posts(SALES) if p.get("thread_ts") == ts and p["ts"] != ts]


async def reply(cluster: Cluster, slack: SlackStandIn, thread_ts: str, text: str) -> int:
    event = slack.user_message(SALES, "U0DANA", text, thread_ts=thread_ts)
    body = sp.json_body(sp.event_callback(event))
    status, _ = await sp.post_signed(
        cluster.alive[0].url + "/slack/events", body, "application/json", SECRET
    )
    return status


async def test_a_card_posted_just_before_a_kill_is_adopted_and_replies_under_it_go_out(
    tmp_path: Path, twilio: TwilioStandIn, slack: SlackStandIn
) -> None:
    cluster = Cluster(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'adopt.db'}", twilio, slack)
    # Slack takes the header card but the answer never reaches the process.
    slack.fail_next(200, hold=60, path_contains="chat.postMessage")
    try:
        (proc,) = await cluster.start()
        assert await cluster.sms_in(0, LEAD, "is the roof quote ready?", to=LINE) == 200
        await wait_for(lambda: len(cards(slack)) == 1, timeout=20)
        cluster.kill(proc)

        await cluster.restart(proc)
        await cluster.wait_drained(timeout=30)
        (card,) = cards(slack)
        await wait_for(lambda: in_thread(slack, card["ts"]), timeout=10)
        assert any("roof quote" in text for text in in_thread(slack, card["ts"]))

        assert await reply(cluster, slack, card["ts"], "Yes, sending it now") == 200
        await wait_for(lambda: any(m["body"] == "Yes, sending it now" for m in twilio.messages))
        assert len(cards(slack)) == 1, "no second card"
    finally:
        await cluster.close()


async def test_a_reply_acknowledged_just_before_a_kill_is_sent_after_the_restart(
    tmp_path: Path, twilio: TwilioStandIn, slack: SlackStandIn
) -> None:
    cluster = Cluster(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'ack.db'}", twilio, slack)
    try:
        (proc,) = await cluster.start()
        assert await cluster.sms_in(0, LEAD, "can someone call me?", to=LINE) == 200
        await wait_for(lambda: len(cards(slack)) == 1, timeout=20)
        (card,) = cards(slack)
        # The reply names a teammate: looking the name up keeps it in the listener, after
        # Slack got its acknowledgement, when the kill lands.
        slack.fail_next(200, delay=60, path_contains="users.info")
        assert await reply(cluster, slack, card["ts"], "Sure, <@U0DANA> calls you at 5") == 200
        await wait_for(lambda: slack.calls("users.info"), timeout=10)
        cluster.kill(proc)
        assert not any("calls you at 5" in m["body"] for m in twilio.messages)

        await cluster.restart(proc)
        await wait_for(
            lambda: any(m["body"] == "Sure, @dana calls you at 5" for m in twilio.messages)
        )
        await cluster.wait_drained(timeout=30)
        assert sum("calls you at 5" in m["body"] for m in twilio.messages) == 1
    finally:
        await cluster.close()


async def test_what_was_typed_while_the_server_was_down_is_read_back_notes_kept_replies_offered(
    tmp_path: Path, twilio: TwilioStandIn, slack: SlackStandIn
) -> None:
    cluster = Cluster(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'down.db'}", twilio, slack)
    try:
        (proc,) = await cluster.start()
        assert await cluster.sms_in(0, LEAD, "what time tomorrow?", to=LINE) == 200
        await wait_for(lambda: in_thread(slack, cards(slack)[0]["ts"]) if cards(slack) else [])
        await cluster.wait_drained(timeout=30)
        (card,) = cards(slack)
        cluster.kill(proc)

        # Typed in Slack while smsbridge is down: Slack never delivers these events.
        slack.user_message(SALES, "U0DANA", "note: she prefers mornings", thread_ts=card["ts"])
        slack.user_message(SALES, "U0DANA", "Tomorrow at 9 works", thread_ts=card["ts"])

        await cluster.restart(proc)

        def offered() -> list[dict]:
            return [e for e in slack.ephemerals if "Tomorrow at 9 works" in str(e["blocks"])]

        await wait_for(offered, timeout=20)
        (offer,) = offered()
        assert offer["user"] == "U0DANA" and offer["thread_ts"] == card["ts"]
        assert "typed while smsbridge was down" in str(offer["blocks"]).lower()

        async def note_stored() -> bool:
            from sqlalchemy import select

            from storage.models import Message

            async with cluster.session() as s:
                bodies = list(await s.scalars(select(Message.body).where(Message.kind == "note")))
            return "she prefers mornings" in bodies

        await wait_for(note_stored, timeout=10)
        await cluster.wait_drained(timeout=30)
        assert not any("Tomorrow at 9" in m["body"] for m in twilio.messages), "never by itself"
    finally:
        await cluster.close()


async def test_a_socket_mode_reconnect_after_a_gap_reads_back_what_was_typed_meanwhile(
    tmp_path: Path, twilio: TwilioStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bridges.slack import recovery
    from tests.slack_fixtures import SlackEnv

    monkeypatch.setattr(recovery, "SOCKET_GAP", 0.5)
    async with SlackEnv.start(tmp_path, twilio, socket_mode=True) as sx:
        await sx.slack.wait_socket(1)
        await sx.sms_in("Are you open on Sunday?")
        header = await sx.header()
        await wait_for(lambda: any("Sunday" in t for t in sx.texts(header)))
        # Slack could not deliver this: the socket is down (and Slack gives up).
        sx.slack.fail_next(200, delay=1.0, path_contains="apps.connections.open")
        await sx.slack.socket_disconnect(close=True)
        sx.slack.user_message(SALES, "U0DANA", "note: he asked twice", thread_ts=header["ts"])
        await sx.slack.wait_socket(2, timeout=30)

        async def noted() -> bool:
            from sqlalchemy import select

            from storage.models import Message

            assert sx.app.core is not None
            async with sx.app.core.db.session() as s:
                notes = list(await s.scalars(select(Message.body).where(Message.kind == "note")))
            return "he asked twice" in notes

        await wait_for(noted, timeout=30)
