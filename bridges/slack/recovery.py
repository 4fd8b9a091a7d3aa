"""Nothing a teammate types in Slack is lost to a crash or an outage.

- Slack does not resend an event once acknowledged, and Bolt acknowledges before our
  listener runs: a middleware keeps each thread message in the database before the
  acknowledgement (a database that cannot take it gets a 503, and Slack retries); the
  listener releases it once handled; at start, what a dead process left is handled.
- Slack retries an unacknowledged event only a few times within minutes: after an outage
  the threads active in the last SMSBRIDGE_CATCHUP_HOURS are read back with
  `conversations.replies` (newest threads first, paced for its tight rate limit), and
  each message newer than the last we know goes the normal way with the time it was
  typed; a reply too old to send by itself is offered to its author."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from slack_bolt.response import BoltResponse
from slack_sdk.socket_mode.aiohttp import SocketModeClient

from bot.ports import Rejected, RetryLater, ThreadGone
from bot.results import Unavailable
from bridges.slack import listeners
from bridges.slack.host import SlackHost

log = logging.getLogger(__name__)

# conversations.replies is throttled hard for apps outside Slack's directory.
READS_PER_SECOND = 0.8
# Slack retries an undelivered event for a few minutes; a socket down longer loses them.
SOCKET_GAP = 60.0
PAGES = 5


def keep_thread_messages(plugin: SlackHost) -> Callable[..., Awaitable[BoltResponse]]:
    """A Bolt middleware (it runs before the acknowledgement) that keeps teammates'
    thread messages until they are handled."""

    async def middleware(
        body: dict[str, Any], response: BoltResponse, next_: Callable[[], Awaitable[None]]
    ) -> BoltResponse:
        event = body.get("event") if body.get("type") == "event_callback" else None
        key = listeners.held_key(plugin, event) if isinstance(event, dict) else None
        if key is not None:
            try:
                await plugin.facade.hold_chat_event("slack", key, event)
            except Unavailable as exc:
                log.warning("slack: a thread message could not be kept, Slack will retry: %s", exc)
                return BoltResponse(status=503, body="")
        await next_()
        return response

    return middleware


def catch_up_after_gaps(plugin: SlackHost, client: SocketModeClient) -> None:
    """Socket Mode: Slack gives up on events it could not deliver while the socket was
    down for long, so a reconnect that came over SOCKET_GAP seconds after the first try
    (slack_sdk keeps trying until Slack answers) reads the threads back. The client's
    reconnect and connect are wrapped to know when the gap began and ended."""
    reconnect, connect = client.connect_to_new_endpoint, client.connect
    down_since: list[float] = []

    async def reconnecting(force: bool = False) -> None:
        down_since[:] = down_since or [time.monotonic()]
        await reconnect(force)

    async def connected() -> None:
        await connect()
        if down_since and time.monotonic() - down_since[0] >= SOCKET_GAP:
            log.info("slack: Socket Mode back after a gap; reading recent threads back")
            plugin.background(_quietly(catch_up(plugin)))
        down_since.clear()

    client.connect_to_new_endpoint = reconnecting  # type: ignore[method-assign]
    client.connect = connected  # type: ignore[method-assign]


async def recover(plugin: SlackHost) -> None:
    """At start: messages a dead process kept but did not handle, then the catch-up."""
    try:
        for _, event in await plugin.facade.held_chat_events("slack"):
            await listeners.thread_message(plugin, event)
        await catch_up(plugin)
    except Unavailable as exc:
        log.warning("slack: recovery stopped, the database is unavailable: %s", exc)


async def _quietly(work: Awaitable[None]) -> None:
    try:
        await work
    except (Unavailable, Rejected, ThreadGone, RetryLater) as exc:
        log.warning("slack: reading threads back stopped: %s", exc)


async def catch_up(plugin: SlackHost) -> None:
    read = 0
    for item in await plugin.facade.threads_to_read("slack"):
        channel, thread_ts = item.thread.channel, item.thread.thread_id
        try:
            messages = await _replies_after(plugin, channel, thread_ts, item.after)
        except (Rejected, ThreadGone) as exc:
            log.info("slack: thread %s not read back: %s", thread_ts, exc)
            continue
        for message in messages:
            event = {"type": "message", "channel": channel, **message}
            if listeners.held_key(plugin, event) is None:
                continue
            read += 1
            typed_at = datetime.fromtimestamp(float(message["ts"]), UTC)
            await listeners.thread_message(plugin, event, typed_at)
    if read:
        log.info("slack: %d message(s) typed while smsbridge was down were read back", read)


async def _replies_after(
    plugin: SlackHost, channel: str, thread_ts: str, after: str
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    for _ in range(PAGES):
        resp = await _paced(
            plugin,
            lambda cursor=cursor: plugin.bridge.replies(channel, thread_ts, after, cursor),
        )
        found += [m for m in resp.get("messages") or [] if float(m["ts"]) > float(after)]
        cursor = (resp.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    return sorted(found, key=lambda m: float(m["ts"]))


async def _paced(
    plugin: SlackHost, call: Callable[[], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    """One read, after the pacer allows it; a 429 is waited out (Retry-After) and tried
    again, a few times."""
    for _ in range(3):
        await plugin.reads.wait("conversations.replies")
        try:
            return await call()
        except RetryLater as exc:
            await asyncio.sleep(min(exc.after or 5.0, 60.0))
    raise Rejected("Slack kept rate limiting conversations.replies")
