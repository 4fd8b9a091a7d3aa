"""The shared inbox as a member sees it through `/sms` commands: derived states, unread,
assignment, close/reopen, permissions, organization isolation, undo, quiet hours, HELP."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import select

from bot.app import Options, SmsBridge
from bot.directory_file import parse_directory
from bot.facade import Facade
from bot.results import Listed, Queued, Result
from bot.services.views import derived_state
from bot.types import Actor, ChatRef
from standins.twilio import TwilioStandIn
from storage.models import Conversation, Message
from tests.conftest import DIRECTORY, LEAD, LINE, applied, wait_for

SALES = ChatRef("slack", "C0SALES")
DANA, SAM, LEE = Actor("slack", "U0DANA"), Actor("slack", "U0SAM"), Actor("slack", "U0LEE")


async def sms(bridge: SmsBridge, twilio: TwilioStandIn, body: str, frm: str = LEAD) -> None:
    url = bridge.settings.public_url + "/twilio/sms"
    assert (await twilio.send_inbound(url, from_=frm, to=LINE, body=body))[0] == 200
    await applied(bridge)


async def run(bridge: SmsBridge, actor: Actor, text: str, where: ChatRef = SALES) -> Result:
    assert bridge.core is not None
    return await Facade(bridge.core).command(actor, where, text)


async def total(bridge: SmsBridge, actor: Actor, text: str, where: ChatRef = SALES) -> int:
    """How many conversations `/sms inbox …` or `/sms search …` finds."""
    listed = await run(bridge, actor, text, where)
    assert isinstance(listed, Listed), listed
    return listed.total


async def conversation(bridge: SmsBridge) -> Conversation:
    async with bridge.db.session() as s:
        return await s.scalar(select(Conversation))


async def test_states_unread_and_assignment(bridge: SmsBridge, twilio: TwilioStandIn) -> None:
    await sms(bridge, twilio, "Hi there")
    await sms(bridge, twilio, "Anyone?")
    conv = await conversation(bridge)
    assert (derived_state(conv), conv.unread_count) == ("Needs response", 2)

    assert await total(bridge, SAM, "inbox unread") == 1
    assert await total(bridge, SAM, "inbox unassigned") == 1

    assigned = await run(bridge, DANA, f"assign @sam {LEAD}")
    assert assigned.ok, assigned.text
    conv = await conversation(bridge)
    assert conv.assignee.name == "Sam" and conv.unread_count == 0
    assert await total(bridge, SAM, "inbox mine") == 1
    assert await total(bridge, SAM, "inbox unassigned") == 0

    assert (await run(bridge, SAM, f"close {LEAD}")).ok
    assert derived_state(await conversation(bridge)) == "Closed"
    await sms(bridge, twilio, "One more thing")
    conv = await conversation(bridge)
    assert conv.status == "open", "a closed conversation reopens on inbound"
    async with bridge.db.session() as s:
        events = list(await s.scalars(select(Message.event).where(Message.kind == "event")))
    assert events == ["assigned", "closed", "reopened"]


async def test_outbound_only_state_for_a_conversation_we_started(
    bridge: SmsBridge, twilio: TwilioStandIn
) -> None:
    outcome = await run(bridge, DANA, "new (415) 555-0142 Your roof estimate is ready")
    assert outcome.ok, outcome.text
    await wait_for(lambda: twilio.messages)
    assert derived_state(await conversation(bridge)) == "Outbound only"
    refused = await run(bridge, DANA, "new 555-01 hi")
    assert not refused.ok and "phone number" in refused.text


async def test_roles_and_outsiders_are_refused_politely(
    bridge: SmsBridge, twilio: TwilioStandIn
) -> None:
    await sms(bridge, twilio, "hello")
    refused = await run(bridge, LEE, f"assign @sam {LEAD}")
    assert not refused.ok and "limited" in refused.text
    refused = await run(bridge, LEE, f"close {LEAD}")
    assert not refused.ok and "assigned to you" in refused.text
    refused = await run(bridge, SAM, f"optin {LEAD}")
    assert not refused.ok and "may not" in refused.text
    stranger = await run(bridge, Actor("slack", "U0NOBODY"), "inbox")
    assert not stranger.ok and "not a member" in stranger.text


async def test_organizations_are_isolated(bridge: SmsBridge, twilio: TwilioStandIn) -> None:
    await sms(bridge, twilio, "hello acme")
    gina = Actor("slack", "U0GINA")
    # Gina (Globex) cannot act from Acme's channel, nor see Acme's leads from her own.
    assert not (await run(bridge, gina, f"close {LEAD}")).ok
    globex = ChatRef("slack", "C0GLOBEX")
    assert await total(bridge, gina, "inbox all", globex) == 0
    assert await total(bridge, gina, f"search {LEAD}", globex) == 0
    assert not (await run(bridge, gina, f"close {LEAD}", globex)).ok


async def test_cancel_inside_the_undo_window(
    settings,
    twilio: TwilioStandIn,  # type: ignore[no-untyped-def]
) -> None:
    async with SmsBridge(replace(settings, undo_seconds=30), Options()) as bridge:
        await sms(bridge, twilio, "hi")
        from tests.e2e.test_sms_flow import reply

        outcome = await reply(bridge, "oops, wrong person")
        assert "undo window" in outcome.text
        canceled = await run(bridge, DANA, f"cancel {LEAD}")
        assert canceled.ok, canceled.text
        async with bridge.db.session() as s:
            assert (
                await s.scalar(select(Message.status).where(Message.id == outcome.message_id))
                == "canceled"
            )
    assert twilio.messages == []


async def test_quiet_hours_refuse_or_hold(tmp_path, twilio: TwilioStandIn) -> None:  # type: ignore[no-untyped-def]
    from bridges.sms import TwilioSettings
    from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, make_settings

    now = datetime.now(UTC)
    data = {**DIRECTORY, "organizations": {**DIRECTORY["organizations"]}}
    data["organizations"]["acme"] = {
        **DIRECTORY["organizations"]["acme"],
        "timezone": "UTC",
        "quiet_hours": [f"{(now.hour - 1) % 24:02d}:00", f"{(now.hour + 2) % 24:02d}:00"],
        "quiet_mode": "refuse",
    }
    base = make_settings(
        tmp_path, parse_directory(data), twilio=TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, twilio.url)
    )
    async with SmsBridge(base, Options()) as bridge:
        await sms(bridge, twilio, "late question")
        refused = await run(bridge, DANA, f"new {LEAD} hello")
        assert not refused.ok and "quiet hours" in refused.text
    data["organizations"]["acme"]["quiet_mode"] = "hold"
    held_settings = replace(base, directory=parse_directory(data))
    async with SmsBridge(held_settings, Options()) as bridge:
        held = await run(bridge, DANA, f"new {LEAD} hello")
        assert isinstance(held, Queued) and held.held and "quiet hours" in held.text
        assert held.send_at > datetime.now(UTC)
    assert twilio.messages == []


async def test_help_keyword_answers_with_the_help_text(
    bridge: SmsBridge, twilio: TwilioStandIn
) -> None:
    await sms(bridge, twilio, "HELP")
    await wait_for(lambda: twilio.messages)
    assert twilio.messages[0]["body"] == "Acme Roofing. Reply STOP to opt out."
    await sms(bridge, twilio, "STOP")
    await sms(bridge, twilio, "start")
    async with bridge.db.session() as s:
        events = list(await s.scalars(select(Message.event).where(Message.kind == "event")))
    assert events == ["opted_out", "opted_in"]
