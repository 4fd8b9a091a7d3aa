"""An inbox automation: a lead waiting longer than the organization's
`remind_after_minutes` gets its thread a reminder that mentions the assignee, once per
wait; a reply ends the wait, the lead's next SMS starts a new one."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.directory_file import parse_directory
from bot.services.reminders import remind_waiting
from standins.twilio import TwilioStandIn
from storage.models import Conversation, Member
from tests.conftest import DIRECTORY, wait_for
from tests.slack_fixtures import SlackEnv


@pytest.fixture
async def sx(tmp_path: Path, twilio: TwilioStandIn) -> AsyncIterator[SlackEnv]:
    directory = copy.deepcopy(DIRECTORY)
    directory["organizations"]["acme"]["remind_after_minutes"] = 30
    async with SlackEnv.start(tmp_path, twilio, directory=parse_directory(directory)) as env:
        yield env


def reminders(sx: SlackEnv, header: dict[str, object]) -> list[str]:
    return [t for t in sx.texts(header) if "⏰" in t]


async def test_a_waiting_lead_is_reminded_once_per_wait_mentioning_the_assignee(
    sx: SlackEnv,
) -> None:
    core = sx.app.core
    assert core is not None
    clock = [datetime.now(UTC)]
    core.clock = lambda: clock[0]  # the whole server's time: it only moves forward here

    def later(minutes: int) -> None:
        clock[0] += timedelta(minutes=minutes)

    await sx.sms_in("Hello? Anyone there?")
    header = await sx.header()
    await wait_for(lambda: sx.thread(header))
    async with sx.app.db.session() as s, s.begin():
        sam = await s.scalar(select(Member).where(Member.key == "sam"))
        assert sam is not None
        await s.execute(update(Conversation).values(assignee_id=sam.id))

    later(29)
    assert await remind_waiting(core) == 0
    later(2)
    assert await remind_waiting(core) == 1
    [reminder] = await wait_for(lambda: reminders(sx, header))
    assert reminder.startswith("<@U0SAM> ⏰")  # Sam's phone buzzes
    assert "waited 31 min for a reply (assigned to Sam)" in reminder
    later(60)
    assert await remind_waiting(core) == 0  # once per wait

    # A reply ends the wait; the lead's next SMS starts a new one.
    await sx.reply("U0DANA", "Yes! How can we help?", header)
    await wait_for(lambda: sx.twilio.messages)
    later(45)
    assert await remind_waiting(core) == 0
    await sx.sms_in("My roof leaks.")
    later(35)
    assert await remind_waiting(core) == 1
    await wait_for(lambda: len(reminders(sx, header)) == 2)


async def test_no_reminder_when_the_organization_has_none(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    async with SlackEnv.start(tmp_path, twilio) as sx:
        core = sx.app.core
        assert core is not None
        await sx.sms_in("Hello?")
        header = await sx.header()
        await wait_for(lambda: sx.thread(header))
        assert await remind_waiting(core, core.now() + timedelta(hours=5)) == 0
