"""Leads are people in both chat apps at once: after a contacts import, an inbound SMS
shows the lead's name and local time on the Slack card, under the lead's posts and in
the Discord post title; a rename reaches both."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain.contacts import read_contacts
from bot.services.contacts import import_contacts
from bot.services.leads import update_profile
from bot.types import LeadChange
from bridges.discord import DiscordSettings
from standins import slack_interactivity as si
from standins import slack_payloads as sp
from standins.discord import DiscordStandIn
from standins.twilio import TwilioStandIn
from storage.models import Lead, Member
from tests.conftest import LEAD, wait_for
from tests.discord_fixtures import (
    DANA,
    FORUM,
    TOKEN,
    answered,
    custom_ids,
    discord_api_fixture,
    header_field,
    posts,
)
from tests.slack_fixtures import SALES, SlackEnv

__all__ = ["discord_api_fixture"]


@pytest.fixture(name="both")
async def both_fixture(
    tmp_path: Path, twilio: TwilioStandIn, discord_api: DiscordStandIn
) -> AsyncIterator[tuple[SlackEnv, DiscordStandIn]]:
    discord = DiscordSettings(TOKEN, api_url=discord_api.url, gateway_url=discord_api.gateway_url)
    async with SlackEnv.start(tmp_path, twilio, discord=discord) as env:
        yield env, discord_api


async def test_an_imported_name_shows_on_both_platforms_and_a_rename_reaches_both(
    both: tuple[SlackEnv, DiscordStandIn],
) -> None:
    sx, api = both
    await imported(sx, f"phone,name,company\n{LEAD},Maria Lopez,Lopez Bakery\n")

    await sx.sms_in("Is Tuesday still ok?")
    header = await sx.header()
    assert header["text"].startswith("SMS conversation with Maria Lopez")
    card = sx.card()
    assert "*Maria Lopez*" in card and "Lopez Bakery" in card
    assert " for them" in card  # +1 415: the lead's clock, Los Angeles
    await wait_for(lambda: sx.thread(header))
    assert sx.thread(header)[0]["username"] == "Maria Lopez"

    thread = await wait_for(lambda: api.threads_of(FORUM))
    assert api.channels[thread[0]["id"]]["name"].startswith("Maria Lopez · ")
    starter = posts(api, thread[0]["id"])[0]
    assert header_field(starter, "Their time").endswith(" for them")

    core = sx.app.core
    assert core is not None

    async def rename(session):  # type: ignore[no-untyped-def]
        lead = await session.get(Lead, 1)
        dana = await session.get(Member, 1)
        return await update_profile(core, session, lead, LeadChange(name="Maria López"), by=dana)

    assert await core.run(rename) == ["name"]
    await wait_for(lambda: "*Maria López*" in sx.card())
    await wait_for(lambda: "Dana renamed the lead to Maria López" in "\n".join(sx.texts(header)))
    await wait_for(lambda: api.channels[thread[0]["id"]]["name"].startswith("Maria López · "))
    await sx.sms_in("Thanks!")
    await wait_for(lambda: sx.thread(header)[-1].get("text") == "Thanks!")
    assert sx.thread(header)[-1]["username"] == "Maria López"


async def edit_lead_form(sx: SlackEnv, header: dict[str, Any]) -> dict[str, Any]:
    """Dana clicks Edit lead on the card: the form Slack opened."""
    opened = len(sx.slack.views)
    click = si.block_actions_payload(
        "sms_edit_lead", str(1), user_id="U0DANA", channel_id=SALES, message=header,
        response_url=sx.slack.response_url(SALES, header["ts"]),
    )  # fmt: skip
    await sx.interact(click)
    await wait_for(lambda: len(sx.slack.views) > opened)
    return list(sx.slack.views.values())[-1]


def sent(modal: dict[str, Any], **values: str) -> dict[str, Any]:
    """Dana sends the form with these values, by block id."""
    state = {k: {k: {"type": "plain_text_input", "value": v}} for k, v in values.items()}
    return si.view_submission_payload(
        modal["callback_id"], state, user_id="U0DANA", user_name="dana",
        private_metadata=modal["private_metadata"], view_id=modal["id"],
    )  # fmt: skip


async def imported(sx: SlackEnv, csv: str) -> None:
    """The organization's contacts imported from `csv`, as `smsbridge contacts import` does."""
    assert sx.app.core is not None
    await import_contacts(sx.app.core, 1, read_contacts(io.StringIO(csv)))


async def _started(both: tuple[SlackEnv, DiscordStandIn]) -> tuple[dict, dict]:  # type: ignore[type-arg]
    sx, api = both
    await sx.sms_in("Hello, about the roof")
    header = await sx.header()
    thread = (await wait_for(lambda: api.threads_of(FORUM)))[0]
    return header, thread


async def _lead_form(api: DiscordStandIn, thread: dict[str, Any]) -> tuple[dict, dict[str, str]]:  # type: ignore[type-arg]
    """The Edit lead form opened from the thread's card: the modal and its boxes' values."""
    starter = posts(api, thread["id"])[0]
    edit = next(c for c in custom_ids(starter) if c.endswith(":lead:1") or c == "smsbridge:lead:1")
    click = await api.component_interaction(thread["id"], DANA, edit, message=starter)
    modal = (await wait_for(lambda: api.interaction_responses(click["id"])))[-1]
    assert modal["type"] == 9 and modal["data"]["title"] == "Edit lead"
    fields = {
        c["components"][0]["custom_id"]: c["components"][0].get("value", "")
        for c in modal["data"]["components"]
    }
    return modal, fields


async def test_renaming_from_the_slack_form_renames_the_lead_on_both_platforms(
    both: tuple[SlackEnv, DiscordStandIn],
) -> None:
    sx, api = both
    header, thread = await _started(both)
    modal = await edit_lead_form(sx, header)
    assert modal["title"]["text"] == "Edit lead"

    # A bad email is shown under its field; the form stays open, nothing changes.
    answer = await sx.submit(sent(modal, name="Maria Lopez", email="maria at home"))
    assert answer["response_action"] == "errors" and "email" in answer["errors"]
    answer = await sx.submit(sent(modal, name="Maria Lopez", email="maria@example.com"))
    assert answer == {}
    await wait_for(lambda: "*Maria Lopez*" in sx.card())
    assert "maria@example.com" in sx.card()
    await wait_for(
        lambda: any("Dana renamed the lead to Maria Lopez" in t for t in sx.texts(header))
    )
    await wait_for(lambda: api.channels[thread["id"]]["name"].startswith("Maria Lopez · "))


async def test_renaming_from_the_discord_form_and_commands_in_both_apps(
    both: tuple[SlackEnv, DiscordStandIn],
) -> None:
    sx, api = both
    header, thread = await _started(both)
    modal, fields = await _lead_form(api, thread)
    fields["smsbridge:lead:name"] = "Ana Diaz"
    fields["smsbridge:lead:company"] = "Diaz Roofing"
    submit = await api.modal_interaction(thread["id"], DANA, modal["data"]["custom_id"], fields)
    await answered(api, submit)
    await wait_for(lambda: api.channels[thread["id"]]["name"].startswith("Ana Diaz · "))
    await wait_for(lambda: "*Ana Diaz*" in sx.card() and "Diaz Roofing" in sx.card())

    # /sms name in the Discord thread; @smsbridge name in the Slack thread; /sms name with
    # the number in the Slack channel.
    ask = await api.command_interaction(thread["id"], DANA, "name", {"name": "Ana María Díaz"})
    await answered(api, ask)
    await wait_for(lambda: "*Ana María Díaz*" in sx.card())
    mention = sp.app_mention_event(SALES, "U0DANA", "<@U0BOT> name Ana D.", thread_ts=header["ts"])
    assert await sx.send_event(mention) == 200
    await wait_for(lambda: api.channels[thread["id"]]["name"].startswith("Ana D. · "))
    said = await sx.command(f"name {LEAD} Ana Diaz", "U0DANA")
    assert "renamed the lead to Ana Diaz" in said
    await wait_for(lambda: "*Ana Diaz*" in sx.card())
    events = [t for t in sx.texts(header) if "renamed the lead" in t]
    assert len(events) == 4


async def test_search_export_and_the_cost_of_a_reply_in_chat(
    both: tuple[SlackEnv, DiscordStandIn],
) -> None:
    sx, api = both
    csv = f"phone,name,email,company,notes,plan\n{LEAD},Maria Lopez,m@lopez.example,,,gold\n"
    await imported(sx, csv)
    header, thread = await _started(both)
    await sx.sms_in("Also the gutter is leaking")
    await sx.sms_in("Thanks")

    # Search finds a word of an older message and links to its thread.
    said = await sx.command("search gutter", "U0DANA")
    assert "Maria Lopez" in said and header["ts"].replace(".", "") in said
    ask = await api.command_interaction(thread["id"], DANA, "search", {"query": "gutter"})
    await answered(api, ask)

    # The export goes to the member only and reads back as the import.
    said = await sx.command("contacts export", "U0DANA")
    assert "Sent you acme-contacts-" in said
    dm = sx.slack.posts("D0DANA")
    (shared,) = dm[-1]["files"]
    exported = sx.slack.file_data[shared["id"]].decode()
    assert exported == (
        "phone,name,email,company,notes,plan\n+14155550100,Maria Lopez,m@lopez.example,,,gold\n"
    )
    ask = await api.command_interaction(thread["id"], DANA, "contacts", {"action": "export"})
    await answered(api, ask)
    followup = api.interactions[ask["id"]].followups[-1]
    assert followup["attachments"][0]["filename"].endswith(".csv")

    # One curly quote: the author is told which character made the reply UCS-2.
    await sx.reply("U0DANA", "We’ll be there at 9", header)
    await wait_for(lambda: any("U+2019" in t for t in sx.ephemerals_for("U0DANA")))
    note = next(t for t in sx.ephemerals_for("U0DANA") if "U+2019" in t)
    assert "UCS-2" in note and "`’`" in note


async def test_custom_fields_from_an_import_are_edited_in_the_slack_form(
    both: tuple[SlackEnv, DiscordStandIn],
) -> None:
    sx, _ = both
    await imported(sx, f"phone,name,plan,gate code\n{LEAD},Maria Lopez,Gold,4411\n")
    await sx.sms_in("Hello, about the roof")
    header = await sx.header()
    modal = await edit_lead_form(sx, header)
    boxes = {b["block_id"]: b for b in modal["blocks"] if b["type"] == "input"}
    assert boxes["field:plan"]["element"]["initial_value"] == "Gold"
    assert boxes["field:gate code"]["label"]["text"] == "gate code"

    values = {"name": "Maria Lopez", "field:plan": "Platinum", "field:gate code": ""}
    answer = await sx.submit(sent(modal, **values))
    assert answer == {}

    async def saved() -> bool:
        async with sx.app.db.session() as s:
            lead = await s.get(Lead, 1)
            return lead is not None and lead.fields == {"plan": "Platinum"}  # gate code removed

    await wait_for(saved)


async def test_custom_fields_are_added_changed_and_removed_in_the_discord_form(
    both: tuple[SlackEnv, DiscordStandIn],
) -> None:
    sx, api = both
    await imported(sx, f"phone,name,plan,source\n{LEAD},Maria Lopez,gold,fair\n")
    _, thread = await _started(both)

    async def fields_now() -> dict[str, str]:
        async with sx.app.db.session() as s:
            lead = await s.scalar(select(Lead).where(Lead.phone == LEAD))
            assert lead is not None
            return dict(lead.fields or {})

    async def submit(text: str) -> str:
        modal, boxes = await _lead_form(api, thread)
        assert boxes["smsbridge:lead:fields"] == "plan: gold\nsource: fair"
        boxes["smsbridge:lead:fields"] = text
        sent = await api.modal_interaction(thread["id"], DANA, modal["data"]["custom_id"], boxes)
        await answered(api, sent)
        record = api.interactions[sent["id"]]
        return str((record.followups[-1] if record.followups else record.original)["content"])

    # A line that cannot be read: nothing changes, and what was typed comes back.
    said = await submit("plan platinum\nbudget: 5k")
    assert "line 1" in said and "`key: value`" in said and "budget: 5k" in said
    assert await fields_now() == {"plan": "gold", "source": "fair"}

    await submit("plan: platinum\nbudget: 5k")
    assert await fields_now() == {"plan": "platinum", "budget": "5k"}
