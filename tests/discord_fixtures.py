"""Fixtures for the Discord bridge: the loopback Discord stand-in with the guild, the
routed forum and members of tests/conftest.py's DIRECTORY, and a running smsbridge whose
real discord.py client is connected to it."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import Options, SmsBridge
from bot.config import Settings
from bot.directory_file import parse_directory
from bridges.discord import DiscordSettings
from bridges.discord.plugin import DiscordPlugin
from bridges.sms import TwilioSettings
from standins.discord import DiscordStandIn
from standins.discord_interactions import answered, custom_ids  # noqa: F401  (tests import them here)
from standins.twilio import TwilioStandIn
from tests.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    DIRECTORY,
    LEAD,
    LINE,
    applied,
    make_settings,
    thread_recorded,
    wait_for,
)

GUILD = "1300000000000000001"
FORUM = "1200000000000000001"  # the route of LINE in DIRECTORY
TEXT_CHANNEL = "1200000000000000002"
OTHER_CHANNEL = "1200000000000000009"  # in the guild, bound to no route
DANA, SAM, LEE = "1100000000000000001", "1100000000000000002", "1100000000000000003"
OUTSIDER = "1100000000000000099"  # in the guild, not a member of any organization
TOKEN = "discord-test-token"


def discord_directory(channel: str = FORUM) -> dict[str, Any]:
    directory = copy.deepcopy(DIRECTORY)
    directory["lines"][LINE]["discord_channel"] = channel
    return directory


# Named fixtures: test modules import `*_fixture` and ask for the short name.
@pytest.fixture(name="discord_api")
async def discord_api_fixture(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DiscordStandIn]:
    # One guild: no need for discord.py to wait 2 s for more after READY.
    monkeypatch.setattr(DiscordPlugin, "guild_ready_timeout", 0.05)
    api = DiscordStandIn(token=TOKEN)
    api.add_guild(GUILD, "Acme")
    api.add_channel(GUILD, FORUM, "sms-leads", 15, available_tags=["Open"])
    api.add_channel(GUILD, TEXT_CHANNEL, "sms-text", 0)
    api.add_channel(GUILD, OTHER_CHANNEL, "general", 0)
    for user_id, name in ((DANA, "dana"), (SAM, "sam"), (LEE, "lee"), (OUTSIDER, "olly")):
        api.add_member(GUILD, user_id, name)
    await api.start()
    yield api
    await api.stop()


def discord_settings(
    tmp_path: Path, api: DiscordStandIn, twilio: TwilioStandIn, channel: str = FORUM, **kw: Any
) -> Settings:
    return make_settings(
        tmp_path,
        parse_directory(discord_directory(channel)),
        twilio=TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, twilio.url),
        discord=DiscordSettings(TOKEN, api_url=api.url, gateway_url=api.gateway_url),
        **kw,
    )


async def start_bridge(settings: Settings) -> SmsBridge:
    app = SmsBridge(settings, Options(create_schema=True, worker_kwargs={"poll": 0.05}))
    await app.start()
    return app


@pytest.fixture(name="dbridge")
async def dbridge_fixture(
    tmp_path: Path, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> AsyncIterator[SmsBridge]:
    app = await start_bridge(discord_settings(tmp_path, discord_api, twilio))
    yield app
    await app.stop()


async def text_in(bridge: SmsBridge, twilio: TwilioStandIn, body: str, **kw: Any) -> None:
    url = bridge.settings.public_url + "/twilio/sms"
    sender = kw.pop("from_", LEAD)
    status, _ = await twilio.send_inbound(url, from_=sender, to=LINE, body=body, **kw)
    assert status == 200
    await applied(bridge)


async def the_thread(
    api: DiscordStandIn, bridge: SmsBridge, channel: str = FORUM
) -> dict[str, Any]:
    """The one thread in `channel`, once `bridge` has recorded it too."""
    threads = await wait_for(lambda: api.threads_of(channel))
    assert len(threads) == 1, threads
    await thread_recorded(bridge, threads[0]["id"])
    return threads[0]


def posts(api: DiscordStandIn, channel_id: str) -> list[dict[str, Any]]:
    """Messages in a channel or thread, oldest first."""
    return sorted(api.channel_messages(channel_id), key=lambda m: int(m["id"]))


def tag_names(api: DiscordStandIn, thread: dict[str, Any], forum: str = FORUM) -> set[str]:
    names = {t["id"]: t["name"] for t in api.channels[forum]["available_tags"]}
    return {names[t] for t in api.channels[thread["id"]]["applied_tags"]}


def header_field(message: dict[str, Any], name: str) -> str:
    return next(f["value"] for f in message["embeds"][0]["fields"] if f["name"] == name)
