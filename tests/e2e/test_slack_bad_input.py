"""Bad input at /slack/events: unsigned or badly signed requests are refused with 401
before their body is read; signed but malformed interactivity is acked and the member is
told in one short sentence. Never a 5xx, never a traceback in the log."""

from __future__ import annotations

import logging
import time

import aiohttp
import pytest

from standins import slack_interactivity as si
from standins import slack_payloads as sp
from tests.conftest import wait_for
from tests.slack_fixtures import FORM, JSON, SALES, SECRET, SlackEnv, sx_fixture  # noqa: F401

STALE = "out of date"

BAD_BODIES = [
    (b"null", JSON),
    (b"[]", JSON),
    (b"{", JSON),
    (b'"text"', JSON),
    (b"payload=not+json", FORM),
    (b"payload=%5B%5D", FORM),
    (b"payload=null", FORM),
    (b"\xff\xfe", FORM),
]


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize(("body", "content_type"), BAD_BODIES)
async def test_unsigned_requests_get_401_whatever_their_body(
    sx: SlackEnv, caplog: pytest.LogCaptureFixture, body: bytes, content_type: str
) -> None:
    headers = [
        {},
        {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "1e99", "X-Slack-Signature": "nonsense"},
        {"X-Slack-Request-Timestamp": "-5", "X-Slack-Signature": ""},
    ]
    async with aiohttp.ClientSession() as http:
        for extra in headers:
            async with http.post(
                sx.events_url, data=body, headers={"Content-Type": content_type, **extra}
            ) as resp:
                assert resp.status == 401, (extra, await resp.text())
    no_traceback(caplog)


@pytest.mark.parametrize(("body", "content_type"), BAD_BODIES)
async def test_signed_but_malformed_bodies_get_400_not_500(
    sx: SlackEnv, caplog: pytest.LogCaptureFixture, body: bytes, content_type: str
) -> None:
    status, _ = await sp.post_signed(sx.events_url, body, content_type, SECRET)
    assert status == 400
    no_traceback(caplog)


async def test_a_signed_request_with_an_old_timestamp_gets_401(sx: SlackEnv) -> None:
    body = sp.json_body(sp.url_verification())
    status, _ = await sp.post_signed(
        sx.events_url, body, JSON, SECRET, timestamp=int(time.time()) - 3600
    )
    assert status == 401


@pytest.mark.parametrize(
    ("action_id", "value"),
    [
        ("draft_send", "abc"),
        ("draft_send", '{"channel": "C0SALES"}'),
        ("draft_send", "[]"),
        ("draft_edit", "not json"),
        ("draft_edit", "7"),
        ("sms_retry", "abc"),
        ("sms_retry", None),
    ],
)
async def test_a_button_with_a_malformed_value_is_answered_as_out_of_date(
    sx: SlackEnv, caplog: pytest.LogCaptureFixture, action_id: str, value: str | None
) -> None:
    caplog.set_level(logging.INFO)
    await sx.sms_in("Hello?")
    header = await sx.header()
    answer = await sx.click(action_id, value, "U0DANA", header, thread_ts=header["ts"])
    assert STALE in answer
    assert sx.twilio.messages == []
    no_traceback(caplog)


@pytest.mark.parametrize("metadata", ["not json", "[]", '{"channel": 5}', "", "null"])
async def test_a_draft_modal_with_malformed_metadata_says_it_is_out_of_date(
    sx: SlackEnv, caplog: pytest.LogCaptureFixture, metadata: str
) -> None:
    values = {"draft": {"text": {"type": "plain_text_input", "value": "Hi there"}}}
    payload = si.view_submission_payload(
        "sms_draft_modal", values, user_id="U0DANA", private_metadata=metadata
    )
    answer = await sx.submit(payload)
    assert answer.get("response_action") == "errors"
    assert STALE in answer["errors"]["draft"]
    assert sx.twilio.messages == []
    no_traceback(caplog)


@pytest.mark.parametrize("callback", ["sms_note_modal", "sms_assign_modal"])
async def test_a_note_or_assign_modal_with_malformed_metadata_says_it_is_out_of_date(
    sx: SlackEnv, caplog: pytest.LogCaptureFixture, callback: str
) -> None:
    values = {
        "note": {"text": {"type": "plain_text_input", "value": "call back"}},
        "assignee": {"user": {"type": "users_select", "selected_user": "U0SAM"}},
    }
    payload = si.view_submission_payload(
        callback, values, user_id="U0DANA", private_metadata="{not json"
    )
    answer = await sx.submit(payload)
    assert answer.get("response_action") == "errors"
    assert any(STALE in reason for reason in answer["errors"].values())
    no_traceback(caplog)


async def test_a_slash_command_without_a_channel_is_refused_not_crashed(
    sx: SlackEnv, caplog: pytest.LogCaptureFixture
) -> None:
    fields = sp.slash_command("inbox", user_id="U0DANA", channel_id=SALES)
    fields.pop("channel_id")
    status, _ = await sp.post_signed(sx.events_url, sp.form_body(fields), FORM, SECRET)
    assert status < 500
    no_traceback(caplog)


@pytest.mark.parametrize(
    ("action_id", "value"), [("draft_discard", None), ("sms_retry", "abc"), ("draft_send", "[]")]
)
async def test_a_click_without_a_response_url_is_logged_not_crashed(
    sx: SlackEnv, caplog: pytest.LogCaptureFixture, action_id: str, value: str | None
) -> None:
    """Slack sends no response_url with a click in a modal; a body without one (forged,
    or a button where we never put one) has nowhere to be answered."""
    caplog.set_level(logging.INFO)
    await sx.sms_in("Hello?")
    header = await sx.header()
    payload = si.block_actions_payload(
        action_id, value, user_id="U0DANA", channel_id=SALES, message=header
    )
    del payload["response_url"]
    assert await sx.submit(payload) == {}
    await wait_for(lambda: any("answer is dropped" in r.getMessage() for r in caplog.records))
    assert sx.twilio.messages == []
    no_traceback(caplog)
