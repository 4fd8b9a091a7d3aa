"""STOP, START, HELP and other keyword texts are answered by the system, not by a person:
they neither mark the conversation unread nor make it wait for a response, and no
reminder ever asks the team to answer an opted-out lead or a closed conversation."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.directory_file import parse_directory
from bot.services.reminders import remind_waiting
from standins.twilio import TwilioStandIn
from storage.models import Conversation
from tests.conftest import DIRECTORY
from tests.slack_fixtures import SlackEnv


@pytest.fixture
async def sx(tmp_path: Path, twilio: TwilioStandIn) -> AsyncIterator[SlackEnv]:
    directory = copy.deepcopy(DIRECTORY)
    directory["organizations"]["acme"]["remind_after_minutes"] = 30
    async with SlackEnv.start(tmp_path, twilio, directory=parse_directory(directory)) as env:
        clock = [datetime.now(UTC)]
        assert env.app.core is not None
        env.app.core.clock = lambda: clock[0]
        env.later = lambda minutes: clock.__setitem__(0, clock[0] + timedelta(minutes=minutes))  # type: ignore[attr-defined]
        yield env


async def waiting(sx: SlackEnv) -> tuple[int, bool]:
    async with sx.app.db.session() as session:
        conversation = await session.scalar(select(Conversation))
        assert conversation is not None
        return conversation.unread_count, conversation.needs_response


async def reminded_after_31_minutes(sx: SlackEnv) -> int:
    sx.later(31)  # type: ignore[attr-defined]
    assert sx.app.core is not None
    return await remind_waiting(sx.app.core)


@pytest.mark.parametrize("keyword", ["STOP", "stop", "UNSUBSCRIBE", "HELP", "START", "info"])
async def test_a_keyword_text_is_neither_unread_nor_waiting(sx: SlackEnv, keyword: str) -> None:
    await sx.sms_in(keyword)
    assert await waiting(sx) == (0, False)
    assert await reminded_after_31_minutes(sx) == 0


async def test_an_opted_out_lead_is_never_a_reminder(sx: SlackEnv) -> None:
    await sx.sms_in("Hi, is the roof quote ready?")
    await sx.sms_in("STOP")
    assert (await waiting(sx))[1] is False
    assert await reminded_after_31_minutes(sx) == 0


async def test_a_closed_conversation_is_never_a_reminder(sx: SlackEnv) -> None:
    await sx.sms_in("Thanks, all good")
    await sx.command("close +14155550100", "U0DANA")
    assert await reminded_after_31_minutes(sx) == 0


async def test_a_plain_text_still_waits_and_is_reminded(sx: SlackEnv) -> None:
    await sx.sms_in("Can you come Tuesday?")
    assert await waiting(sx) == (1, True)
    assert await reminded_after_31_minutes(sx) == 1
