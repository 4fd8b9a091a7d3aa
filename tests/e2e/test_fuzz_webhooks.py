"""Random forms and JSON, signed and unsigned, posted to /twilio/sms, /twilio/status and
/slack/events of a running server: the answer is never a 5xx and nothing logs a
traceback. The server runs in a thread of its own for the whole run."""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import threading
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import aiohttp
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from standins import slack_payloads as sp
from standins.twilio import TwilioStandIn, sign_twilio_request
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, LEAD, LINE
from tests.slack_fixtures import SECRET, SlackEnv

T = TypeVar("T")

TWILIO_KEYS = ["MessageSid", "SmsSid", "From", "To", "Body", "NumMedia", "MediaUrl0",
               "MediaContentType0", "MessageStatus", "ErrorCode", "OptOutType",
               "AccountSid"]  # fmt: skip
SLACK_TYPES = ["event_callback", "url_verification", "block_actions", "view_submission",
               "message_action", "shortcut", "app_rate_limited"]  # fmt: skip
EVENT_TYPES = ["message", "reaction_added", "app_mention", "app_home_opened"]
SUBTYPES = [None, "message_changed", "message_deleted", "file_share", "thread_broadcast"]
ACTIONS = ["sms_close", "sms_assign", "sms_retry", "draft_send", "draft_edit", "draft_discard",
           "sms_draft", "sms_note", "sms_optout", "nope"]  # fmt: skip

text = st.text(max_size=40)
scalar = st.one_of(st.none(), st.booleans(), st.integers(), text)
json_value = st.recursive(
    scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)),
    max_leaves=12,
)


def fields(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts whose keys are mostly the ones the code reads, with values of any shape."""
    return st.dictionaries(st.one_of(st.sampled_from(keys), text), json_value, max_size=8)


twilio_form = st.dictionaries(
    st.one_of(st.sampled_from(TWILIO_KEYS), text),
    st.one_of(text, st.sampled_from([LEAD, LINE, "whatsapp:+14155550210", "STOP", "1", "-1"])),
    max_size=10,
)
slack_event = st.builds(
    lambda event, subtype, extra, channel, thread: {
        **extra, "type": event, "subtype": subtype, "channel": channel, "thread_ts": thread
    },
    st.sampled_from(EVENT_TYPES), st.sampled_from(SUBTYPES),
    fields(["user", "ts", "text", "files", "message", "previous_message", "item", "team"]),
    st.one_of(st.just("C0SALES"), text, st.none()), st.one_of(text, st.none()),
)  # fmt: skip
slack_payload = st.one_of(
    st.builds(
        lambda kind, extra, event: {**extra, "type": kind, "event": event},
        st.sampled_from(SLACK_TYPES), fields(["team_id", "event_id", "challenge"]), slack_event,
    ),
    st.builds(
        lambda kind, action, value, extra: {
            **extra, "type": kind, "actions": [{"action_id": action, "value": value}],
            "user": {"id": "U0DANA"}, "team": {"id": sp.TEAM_ID},
        },
        st.sampled_from(SLACK_TYPES), st.sampled_from(ACTIONS), json_value,
        fields(["channel", "container", "message", "view", "response_url", "trigger_id"]),
    ),
    json_value,
)  # fmt: skip


class Server:
    """A SlackEnv (Slack and Twilio stand-ins, smsbridge) on an event loop in a thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.tracebacks: list[logging.LogRecord] = []

    def run(self, coro: Awaitable[T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)  # type: ignore[arg-type]

    async def start(self, tmp: Path) -> None:
        self.twilio = TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN)
        await self.twilio.start()
        self._env = SlackEnv.start(tmp, self.twilio)
        self.env = await self._env.__aenter__()
        self.http = aiohttp.ClientSession()
        await self.env.sms_in("Hello?")  # a mirrored thread to aim at

    async def stop(self) -> None:
        await self.http.close()
        await self._env.__aexit__(None, None, None)
        await self.twilio.stop()

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        url = self.env.app.settings.public_url + path
        async with self.http.post(url, data=body, headers=headers) as resp:
            return resp.status, await resp.text()


class Tracebacks(logging.Handler):
    def __init__(self, seen: list[logging.LogRecord]) -> None:
        super().__init__(logging.WARNING)
        self.seen = seen

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.seen.append(record)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = Server()
    handler = Tracebacks(running.tracebacks)
    logging.getLogger().addHandler(handler)
    with tempfile.TemporaryDirectory() as tmp:
        running.run(running.start(Path(tmp)))
        try:
            yield running
        finally:
            running.run(running.stop())
            running.loop.call_soon_threadsafe(running.loop.stop)
            running.thread.join(timeout=5)
            running.loop.close()
            logging.getLogger().removeHandler(handler)


def answered_well(server: Server, status: int, answer: str) -> None:
    assert status < 500, answer
    assert "Traceback" not in answer
    assert not server.tracebacks, [r.getMessage() for r in server.tracebacks]


FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(
    st.sampled_from(["/twilio/sms", "/twilio/status"]),
    twilio_form,
    st.booleans(),
    st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain"]),
)
def test_random_twilio_webhooks_never_get_a_5xx(
    server: Server, path: str, form: dict[str, str], signed: bool, content_type: str
) -> None:
    url = server.env.app.settings.public_url + path
    headers = {"Content-Type": content_type}
    if signed:
        headers["X-Twilio-Signature"] = sign_twilio_request(AUTH_TOKEN, url, form)
    body = urlencode(form).encode() if "form" in content_type else json.dumps(form).encode()
    answered_well(server, *server.run(server.post(path, body, headers)))


@FUZZ
@given(slack_payload, st.booleans(), st.booleans())
@example(  # was a 500: an event without a team, whose user is not a string
    {"type": "event_callback", "event": {"user": False, "type": "message", "channel": "C0SALES"}},
    True,
    False,
)
def test_random_slack_requests_never_get_a_5xx(
    server: Server, payload: Any, signed: bool, as_form: bool
) -> None:
    if as_form:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        content_type = "application/x-www-form-urlencoded"
    else:
        body, content_type = json.dumps(payload).encode(), "application/json"
    headers = {"Content-Type": content_type}
    if signed:
        headers.update(sp.sign_slack_request(SECRET, body))
    status, answer = server.run(server.post("/slack/events", body, headers))
    if not signed:
        assert status == 401
    server.run(asyncio.sleep(0.02))  # listeners run after the ack: let them fail, if they do
    answered_well(server, status, answer)
