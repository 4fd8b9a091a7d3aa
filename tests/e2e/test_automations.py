"""Inbox automations end to end (real server, Slack and Twilio stand-ins, a fake clock):
the away message once per 12 h outside business hours and never to a keyword or a
blocked number, the acknowledgement only for a new lead, auto-close after the idle time,
escalation mentioning the listed members once, blocked and spam numbers opening no
thread."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.directory_file import parse_directory
from bot.services import blocklist
from bot.services.automation_loop import AutomationLoop
from bot.services.sweeps import sweep
from standins.twilio import TwilioStandIn
from storage.models import Conversation, Member, Message, ScreenedSms
from tests.conftest import DIRECTORY, LEAD, wait_for
from tests.slack_fixtures import SlackEnv

AWAY = "Thanks! We're closed now and will text you back at 8am."
ACK = "Thanks for texting Acme Roofing, a person will answer shortly."
MONDAY_NIGHT = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # Mon 22:00 in Chicago
TUESDAY_MORNING = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # Tue 09:00
OTHER = "+14155550123"
THIRD = "+14155550177"


def directory(**automations: Any) -> Any:
    data = copy.deepcopy(DIRECTORY)
    acme = data["organizations"]["acme"]
    acme["automations"] = {
        "business_hours": ["Mon-Fri 08:00-18:00", "Sat 09:00-13:00"],
        "away_message": AWAY,
        "ack_message": ACK,
        **automations,
    }
    acme["block_keywords"] = ["crypto", "loan approved"]
    return parse_directory(data)


class Clock:
    def __init__(self, sx: SlackEnv, start: datetime) -> None:
        self.now = start
        assert sx.app.core is not None
        sx.app.core.clock = lambda: self.now

    def at(self, when: datetime) -> None:
        assert when >= self.now  # the whole server's time only moves forward
        self.now = when

    def later(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
async def sx(tmp_path: Path, twilio: TwilioStandIn) -> AsyncIterator[SlackEnv]:
    async with SlackEnv.start(tmp_path, twilio, directory=directory()) as env:
        yield env


def sent_to(sx: SlackEnv, phone: str = LEAD) -> list[str]:
    return [m["body"] for m in sx.twilio.messages if m["to"] == phone]


async def test_the_away_message_answers_once_per_twelve_hours_outside_business_hours(
    sx: SlackEnv,
) -> None:
    clock = Clock(sx, MONDAY_NIGHT)
    await sx.sms_in("Hi, is anyone there?")
    await wait_for(lambda: sent_to(sx) == [AWAY])  # not the ack too
    header = await sx.header()
    [auto] = await wait_for(lambda: [t for t in sx.texts(header) if AWAY in t])
    assert "automatic reply" in auto
    assert "Needs response" in sx.card() or "needs" in sx.card().lower()

    clock.later(hours=2)
    await sx.sms_in("Hello??")
    clock.later(hours=9)
    await sx.sms_in("Still there?")  # Tuesday 07:00: still closed, still within 12 h
    clock.later(hours=1, minutes=30)  # 08:30: open
    await sx.sms_in("Good morning")
    clock.later(hours=10)  # 18:30: closed, 13.5 h after the away message
    await sx.sms_in("Call me tomorrow")
    await wait_for(lambda: len(sent_to(sx)) == 2)
    assert sent_to(sx) == [AWAY, AWAY]


async def test_a_new_lead_is_acknowledged_once_and_a_keyword_gets_no_automatic_text(
    sx: SlackEnv,
) -> None:
    clock = Clock(sx, TUESDAY_MORNING)
    await sx.sms_in("I need a roof estimate")
    await wait_for(lambda: sent_to(sx) == [ACK])
    clock.later(days=2)
    await sx.sms_in("Any news?")
    await sx.sms_in("HELP", from_=OTHER)  # a keyword: the help text, not the ack
    await wait_for(lambda: sent_to(sx, OTHER))
    await sx.sms_in("Hello", from_=OTHER)  # no longer a first SMS
    await sx.sms_in("STOP", from_=THIRD)  # a first text that is STOP: nothing
    header = await sx.header()
    await wait_for(lambda: any("Any news?" in t for t in sx.texts(header)))
    await wait_for(lambda: len(sx.headers()) == 3)
    assert sent_to(sx) == [ACK]
    assert sent_to(sx, OTHER) == ["Acme Roofing. Reply STOP to opt out."]
    assert sent_to(sx, THIRD) == []


async def test_a_blocked_number_is_stored_but_opens_no_thread_and_gets_no_away_message(
    sx: SlackEnv,
) -> None:
    Clock(sx, MONDAY_NIGHT)
    core = sx.app.core
    assert core is not None

    async def block(session: Any) -> str:
        dana = await session.scalar(select(Member).where(Member.key == "dana"))
        return await blocklist.block(core, session, dana, OTHER)

    assert "Blocked +14155550123" in await core.run(block)
    await sx.sms_in("Buy followers now", from_=OTHER)
    await sx.sms_in("Really cheap", from_=OTHER)
    await sx.sms_in("Hi it's Maria")  # an ordinary lead still gets through
    await sx.header()
    await wait_for(lambda: sent_to(sx) == [AWAY])
    assert len(sx.headers()) == 1
    assert sent_to(sx, OTHER) == []

    async def listed(session: Any) -> str:
        dana = await session.scalar(select(Member).where(Member.key == "dana"))
        return blocklist.describe_blocked(await blocklist.blocked_numbers(session, dana))

    text = await core.run(listed)
    assert "+14155550123 — 🚫 blocked · 2 text(s) kept aside" in text
    async with sx.app.db.session() as s:
        assert await s.scalar(select(func.count(ScreenedSms.id))) == 2
        assert await s.scalar(select(func.count(Conversation.id))) == 1


async def test_a_spam_first_text_is_held_for_review_and_unblocking_brings_it_in(
    sx: SlackEnv,
) -> None:
    Clock(sx, TUESDAY_MORNING)
    core = sx.app.core
    assert core is not None
    await sx.sms_in("Your LOAN approved! Click here", from_=OTHER)
    await sx.sms_in("Last chance", from_=OTHER)
    async with sx.app.db.session() as s:
        assert await s.scalar(select(func.count(ScreenedSms.id))) == 2
    assert sx.headers() == [] and sent_to(sx, OTHER) == []

    async def unblock(session: Any) -> str:
        dana = await session.scalar(select(Member).where(Member.key == "dana"))
        return await blocklist.unblock(core, session, dana, OTHER)

    assert "2 held text(s) are now in a conversation" in await core.run(unblock)
    header = await sx.header()
    await wait_for(lambda: any("Last chance" in t for t in sx.texts(header)))


async def test_idle_conversations_close_and_waiting_leads_escalate_once(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    settings = directory(auto_close_after_days=7, escalate_after_minutes=60, escalate_to=["dana"])
    async with SlackEnv.start(tmp_path, twilio, directory=settings) as sx:
        core = sx.app.core
        assert core is not None
        clock = Clock(sx, TUESDAY_MORNING)
        await sx.sms_in("My roof leaks")
        header = await sx.header()
        clock.later(minutes=59)
        assert await sweep(core) == (0, 0)
        clock.later(minutes=2)
        assert await sweep(core) == (0, 1)
        [escalation] = await wait_for(lambda: [t for t in sx.texts(header) if "🚨" in t])
        assert escalation.startswith("<@U0DANA> 🚨 Escalated")
        assert "nobody is assigned" in escalation
        clock.later(hours=3)
        assert await sweep(core) == (0, 0)  # once per wait

        await sx.reply("U0SAM", "We'll come by Thursday", header)
        await wait_for(lambda: len(sent_to(sx)) == 2)  # the ack, then Sam's reply
        clock.later(days=6, hours=23)
        assert await sweep(core) == (0, 0)
        clock.later(hours=1)
        assert await sweep(core) == (1, 0)
        await wait_for(lambda: any("Closed automatically" in t for t in sx.texts(header)))
        async with sx.app.db.session() as s:
            conversation = await s.scalar(select(Conversation))
            assert conversation is not None and conversation.status == "closed"
            assert conversation.closed_at == clock.now
            events = await s.scalars(select(Message.event).where(Message.kind == "event"))
            assert "closed" in list(events)


async def test_an_sms_in_an_assigned_conversation_mentions_the_assignee_until_they_watch_it(
    sx: SlackEnv,
) -> None:
    Clock(sx, TUESDAY_MORNING)
    await sx.sms_in("Hello")
    header = await sx.header()
    await wait_for(lambda: sx.thread(header))
    assert "assign" in (await sx.command(f"assign @U0SAM {LEAD}", "U0DANA")).lower()
    await sx.sms_in("Can you come Friday?")

    def pings() -> list[str]:
        return [t for t in sx.texts(header) if t.startswith("<@U0SAM> 📨")]

    await wait_for(pings)
    await sx.reply("U0SAM", "Friday works!", header)  # now Sam watches the thread
    await wait_for(lambda: any("Friday works" in m["body"] for m in sx.twilio.messages))
    await sx.sms_in("Great, thanks")
    await wait_for(lambda: any("Great, thanks" in t for t in sx.texts(header)))
    assert len(pings()) == 1


async def test_a_member_with_notify_none_is_never_mentioned(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    data = copy.deepcopy(DIRECTORY)
    data["members"]["sam"]["notify"] = "none"
    data["lines"]["+15005550006"]["default_assignee"] = "sam"
    async with SlackEnv.start(tmp_path, twilio, directory=parse_directory(data)) as sx:
        await sx.sms_in("Hello")
        header = await sx.header()
        await wait_for(lambda: any("Hello" in t for t in sx.texts(header)))
        await sx.sms_in("Anyone?")
        await wait_for(lambda: any("Anyone?" in t for t in sx.texts(header)))
        assert not [t for t in sx.texts(header) if "📨" in t]


async def test_the_automation_loop_escalates_on_its_own(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    settings = directory(escalate_after_minutes=60, escalate_to=["dana"])
    async with SlackEnv.start(tmp_path, twilio, directory=settings) as sx:
        core = sx.app.core
        assert core is not None
        clock = Clock(sx, TUESDAY_MORNING)
        await sx.sms_in("My roof leaks")
        header = await sx.header()
        clock.later(minutes=61)
        loop = AutomationLoop(core, every=0.05)  # as bot/app.py runs it, but quicker
        loop.start()
        try:
            await wait_for(lambda: [t for t in sx.texts(header) if "🚨" in t])
        finally:
            await loop.stop()
