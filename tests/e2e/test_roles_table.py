"""One table: every `/sms` command, for every role, in a conversation assigned to the
member or not. A cell says whether the role check lets the command through ("ok": it
ran, or was refused for another reason such as nothing to cancel) or refuses it ("no").
Run in a mirrored Slack thread through the façade, as an in-thread command is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.facade import Facade
from bot.results import Refused
from bot.types import Actor, ChatRef
from standins.twilio import TwilioStandIn
from storage.models import Conversation, Lead, Member, Message
from tests.conftest import LEAD, queue_reply
from tests.slack_fixtures import SALES, SlackEnv

USERS = {"admin": "U0DANA", "agent": "U0SAM", "limited": "U0LEE"}
# command text -> (admin, agent, limited not assigned, limited assigned)
TABLE: dict[str, tuple[str, str, str, str]] = {
    "help": ("ok", "ok", "ok", "ok"),
    "assign @sam": ("ok", "ok", "no", "no"),
    "unassign": ("ok", "ok", "no", "no"),
    "close": ("ok", "ok", "no", "ok"),
    "reopen": ("ok", "ok", "no", "ok"),
    "optout": ("ok", "ok", "no", "no"),
    "optin": ("ok", "no", "no", "no"),
    "cancel": ("ok", "ok", "no", "ok"),
    "draft": ("ok", "ok", "no", "ok"),
    "note call back tomorrow": ("ok", "ok", "no", "ok"),
    "new +14155550177 Hello from Acme": ("ok", "ok", "no", "no"),
    "search 0100": ("ok", "ok", "ok", "ok"),
    "inbox all": ("ok", "ok", "ok", "ok"),
    "tag add vip": ("ok", "ok", "no", "ok"),
    "snippet list": ("ok", "ok", "ok", "ok"),
    "block": ("ok", "ok", "no", "no"),
    "unblock": ("ok", "ok", "no", "no"),
    "blocked": ("ok", "ok", "no", "no"),
    "report week": ("ok", "ok", "no", "no"),
    "member list": ("ok", "no", "no", "no"),
    "route list": ("ok", "ok", "ok", "ok"),
    "audit": ("ok", "no", "no", "no"),
    "settings remind_after_minutes 30": ("ok", "no", "no", "no"),
    "name Maria Lopez": ("ok", "ok", "no", "ok"),
    "contacts export": ("ok", "ok", "no", "no"),  # a member's own lines; changing them: admins
}
COLUMNS = (("admin", False), ("agent", False), ("limited", False), ("limited", True))
PERMISSION_WORDS = ("Your role", "assigned to you", "Only its author or an admin", "admins")


def test_the_table_names_every_command() -> None:
    from bot.domain.commands import COMMANDS

    assert {text.split()[0] for text in TABLE} == set(COMMANDS)


async def reset(sx: SlackEnv, assigned_to_lee: bool) -> None:
    """The conversation open, the lead opted in and unblocked, assigned to Lee or
    nobody, with one SMS nobody wrote waiting in its undo window."""
    async with sx.app.db.session() as session, session.begin():
        lee = await session.scalar(select(Member).where(Member.key == "lee"))
        assert lee is not None
        await session.execute(
            update(Conversation).values(
                status="open", assignee_id=lee.id if assigned_to_lee else None
            )
        )
        await session.execute(update(Lead).values(opted_out=False, opted_out_at=None))
        await session.execute(
            update(Message).where(Message.status == "pending").values(status="canceled")
        )
    assert sx.app.core is not None
    await queue_reply(sx.app.core, "Your estimate is ready", phone=LEAD)


@pytest.fixture
async def held(tmp_path: Path, twilio: TwilioStandIn) -> AsyncIterator[SlackEnv]:
    """Slack, with replies held ten minutes in their undo window (something to cancel)."""
    async with SlackEnv.start(tmp_path, twilio, undo_seconds=600) as env:
        yield env


async def test_every_command_for_every_role_assigned_or_not(held: SlackEnv) -> None:
    await held.sms_in("Hello?")
    header = await held.header()
    assert held.app.core is not None
    facade = Facade(held.app.core)
    where = ChatRef("slack", SALES, header["ts"])
    wrong = []
    for text, expected in TABLE.items():
        for (role, assigned), want in zip(COLUMNS, expected, strict=True):
            await reset(held, assigned)
            result = await facade.command(Actor("slack", USERS[role]), where, text)
            denied = isinstance(result, Refused) and any(w in result.text for w in PERMISSION_WORDS)
            if ("no" if denied else "ok") != want:
                column = f"{role}{' (assigned)' if assigned else ''}"
                wrong.append(f"/sms {text} as {column}: expected {want}, got {result.text!r}")
    assert not wrong, "\n".join(wrong)
