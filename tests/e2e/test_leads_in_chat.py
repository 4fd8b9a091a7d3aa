"""Leads are people in both chat apps at once: after a contacts import, an inbound SMS
shows the lead's name and local time on the Slack card, under the lead's posts and in
the Discord post title; a rename reaches both."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.contacts import read_contacts
from bot.services.contacts import import_contacts
from bot.services.leads import ProfileChange, update_profile
from bridges.discord import DiscordSettings
from standins.discord import DiscordStandIn
from standins.twilio import TwilioStandIn
from storage.models import Lead, Member
from tests.conftest import LEAD, wait_for
from tests.discord_fixtures import FORUM, TOKEN, discord_api_fixture, header_field, posts
from tests.slack_fixtures import SlackEnv

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
    core = sx.app.core
    assert core is not None
    csv = f"phone,name,company\n{LEAD},Maria Lopez,Lopez Bakery\n"
    await import_contacts(core, 1, read_contacts(io.StringIO(csv)))

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

    async def rename(session):  # type: ignore[no-untyped-def]
        lead = await session.get(Lead, 1)
        dana = await session.get(Member, 1)
        return await update_profile(core, session, lead, ProfileChange(name="Maria López"), by=dana)

    assert await core.run(rename) == ["name"]
    await wait_for(lambda: "*Maria López*" in sx.card())
    await wait_for(lambda: "Dana renamed the lead to Maria López" in "\n".join(sx.texts(header)))
    await wait_for(lambda: api.channels[thread[0]["id"]]["name"].startswith("Maria López · "))
    await sx.sms_in("Thanks!")
    await wait_for(lambda: sx.thread(header)[-1].get("text") == "Thanks!")
    assert sx.thread(header)[-1]["username"] == "Maria López"
