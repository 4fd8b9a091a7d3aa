"""A teammate who writes under a card of ours that no thread record points to (a card a
crash left behind, whose conversation went on in another thread, or one being set up
again) is told it was not sent and where to write, never left with a message that
silently goes nowhere. The card names its conversation in its Slack metadata."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select

from storage.models import Message, Thread
from tests.conftest import wait_for
from tests.slack_fixtures import SALES, SlackEnv, sx_fixture  # noqa: F401  (fixture)

LIVE = "1700000999.000100"


async def mirrored(sx: SlackEnv) -> dict[str, Any]:
    """A conversation with its thread in Slack; its header card."""
    await sx.sms_in("Is Tuesday OK?")
    header = await sx.header()
    await wait_for(lambda: "Is Tuesday OK?" in sx.texts(header))
    return header


async def not_sent(sx: SlackEnv, user: str) -> str:
    said = await wait_for(lambda: [t for t in sx.ephemerals_for(user) if "Not sent" in t])
    async with sx.app.db.session() as s:
        replies = await s.scalar(select(func.count()).where(Message.direction == "out"))
    assert replies == 0 and sx.twilio.messages == [], "nothing goes to the lead from there"
    return said[0]


async def test_a_reply_under_a_card_left_behind_is_not_sent_and_links_the_live_thread(
    sx: SlackEnv,
) -> None:
    old = await mirrored(sx)
    async with sx.app.db.session() as s, s.begin():
        gone = (await s.execute(delete(Thread).returning(Thread.conversation_id))).scalar()
        # The conversation went on under another card (here: one Slack never saw).
        s.add(Thread(conversation_id=gone, platform="slack", channel=SALES,
                     thread_id=LIVE, header_message_id=LIVE))  # fmt: skip

    await sx.reply("U0DANA", "Yes, 9 am works", old)

    said = await not_sent(sx, "U0DANA")
    assert "no longer linked" in said and LIVE.replace(".", "") in said


async def test_a_reply_while_the_thread_is_being_set_up_again_asks_to_write_once_more(
    sx: SlackEnv,
) -> None:
    old = await mirrored(sx)
    async with sx.app.db.session() as s, s.begin():
        await s.execute(delete(Thread))

    await sx.reply("U0DANA", "Yes, 9 am works", old)

    assert "being set up again" in await not_sent(sx, "U0DANA")
