"""`smsbridge setup slack|twilio|discord` gets a deployer from credentials to a connected
platform in minutes: the Slack manifest with the public URL and its create-app link, the
Twilio numbers' webhooks (shown first, changed with --apply, lines the account does not
own named), the Discord invite URL with the application's id and permissions."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from bot.config import Settings
from bridges.discord import DiscordSettings
from bridges.discord.setup import PERMISSIONS
from bridges.discord.setup import run as setup_discord
from bridges.sms.setup import run as setup_twilio
from standins.discord import DiscordStandIn
from standins.twilio import TwilioStandIn
from tests.conftest import LINE, with_settings
from tests.discord_fixtures import discord_api_fixture  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
GLOBEX_LINE = "+15005550001"


async def test_setup_slack_fills_the_manifest_and_links_to_create_the_app() -> None:
    env = {**os.environ, "SMSBRIDGE_PUBLIC_URL": "https://sms.example.com"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "setup", "slack", cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err
    text = out.decode()
    assert "YOUR-HOST" not in text and text.count("https://sms.example.com/slack/events") == 3
    link = next(line for line in text.splitlines() if line.startswith("https://api.slack.com/"))
    (manifest,) = parse_qs(urlsplit(link).query)["manifest_yaml"]
    shown = text[: text.index("# Create the app")]
    assert yaml.safe_load(manifest) == yaml.safe_load(shown)
    events = yaml.safe_load(manifest)["settings"]["event_subscriptions"]["request_url"]
    assert events == "https://sms.example.com/slack/events"


async def test_setup_twilio_previews_then_points_owned_lines_at_the_webhook(
    settings: Settings, twilio: TwilioStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    twilio.numbers = {LINE}
    target = settings.public_url + "/twilio/sms"

    assert await setup_twilio(settings, argparse.Namespace(apply=False)) == 0
    out = capsys.readouterr().out
    assert f"would change: {LINE} (none) -> POST {target}" in out
    assert f"not on this Twilio account: {GLOBEX_LINE}" in out
    assert twilio.sms_urls == {}

    assert await setup_twilio(settings, argparse.Namespace(apply=True)) == 0
    assert twilio.sms_urls == {LINE: target}
    assert "1 number(s) updated" in capsys.readouterr().out

    assert await setup_twilio(settings, argparse.Namespace(apply=True)) == 0
    assert f"already set: {LINE} -> {target}" in capsys.readouterr().out


async def test_setup_discord_prints_the_invite_url_or_the_refusal(
    settings: Settings, discord_api: DiscordStandIn, capsys: pytest.CaptureFixture[str]
) -> None:

    good = with_settings(
        settings, discord=DiscordSettings(discord_api.token, api_url=discord_api.url)
    )
    assert await setup_discord(good, argparse.Namespace(apply=False)) == 0
    url = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("https://"))
    query = parse_qs(urlsplit(url).query)
    assert query["scope"] == ["bot applications.commands"]
    assert query["permissions"] == [str(PERMISSIONS.value)]
    assert query["client_id"][0].isdigit()

    bad = with_settings(settings, discord=DiscordSettings("wrong", api_url=discord_api.url))
    assert await setup_discord(bad, argparse.Namespace(apply=False)) == 1
    assert "DISCORD_BOT_TOKEN refused" in capsys.readouterr().err
