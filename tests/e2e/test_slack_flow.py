"""Slack end to end: SMS in -> thread, thread reply -> SMS out."""

from __future__ import annotations

from tests.conftest import LEAD, wait_for
from tests.slack_fixtures import SlackEnv, sx_fixture  # noqa: F401


async def test_inbound_sms_opens_a_thread_and_posts_as_the_lead(sx: SlackEnv) -> None:
    await sx.sms_in("Hi, need a quote")
    header = await sx.header()
    await wait_for(lambda: sx.thread(header))
    [post] = sx.thread(header)
    assert post["text"] == "Hi, need a quote"
    assert post["username"] == LEAD
