"""`smsbridge check --online` tries every configured service through the real client
libraries (here against the loopback stand-ins) and says what is wrong in one line each:
a refused token, a line the Twilio account does not own, a Slack channel the bot is not
in, a Discord channel it cannot see, a model that does not exist, a database behind."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import replace
from pathlib import Path

from bot.ops.online import online_checks
from bridges.ai import AiSettings
from bridges.discord import DiscordSettings
from bridges.slack import SlackSettings
from bridges.sms import TwilioSettings
from standins.discord import DiscordStandIn
from standins.openai import OpenAIStandIn
from standins.slack import SlackStandIn
from standins.twilio import TwilioStandIn
from storage.db import Database
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, LINE, make_settings, with_settings
from tests.discord_fixtures import TOKEN, discord_api_fixture  # noqa: F401

GLOBEX_LINE = "+15005550001"


async def test_every_service_ok_then_each_refusal_in_one_line(
    tmp_path: Path, twilio: TwilioStandIn, discord_api: DiscordStandIn
) -> None:
    twilio.numbers = {LINE, GLOBEX_LINE}
    async with (
        SlackStandIn(bot_token="xoxb-good") as slack,
        OpenAIStandIn(api_key="sk-good", model="gpt-4o-mini", strict_models=True) as ai,
    ):
        slack.add_channel("C0SALES", "sales")
        slack.add_channel("C0GLOBEX", "globex")
        settings = make_settings(
            tmp_path,
            twilio=TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, twilio.url),
            slack=SlackSettings("xoxb-good", "secret", api_url=slack.url + "/api/"),
            discord=DiscordSettings(TOKEN, api_url=discord_api.url),
            openai=AiSettings("sk-good", base_url=ai.url + "/v1", model="gpt-4o-mini"),
        )
        db = Database(settings.database_url)
        await db.upgrade()
        await db.dispose()

        results = await online_checks(settings)
        assert [r.line() for r in results if not r.ok] == []
        assert {r.name for r in results} >= {
            "database", "twilio", "twilio lines", "slack", "slack C0SALES", "slack C0GLOBEX",
            "discord", "discord 1200000000000000001", "ai",
        }  # fmt: skip

        slack.add_channel("C0GLOBEX", "globex", is_member=False)
        twilio.numbers = {LINE}
        results = await online_checks(
            with_settings(settings, openai=replace(settings.bridges["openai"], model="gpt-9"))
        )
        failing = {r.name: r.detail for r in results if not r.ok}
        assert failing == {
            "twilio lines": f"not numbers of this account: {GLOBEX_LINE}",
            "slack C0GLOBEX": "the bot is not in it: /invite @smsbridge there",
            "ai": "no model 'gpt-9' (SMSBRIDGE_AI_MODEL)",
        }

        bad = with_settings(
            settings,
            twilio=TwilioSettings(ACCOUNT_SID, "wrong", twilio.url),
            slack=SlackSettings("xoxb-bad", "secret", api_url=slack.url + "/api/"),
            discord=DiscordSettings("bad-token", api_url=discord_api.url),
            openai=AiSettings("sk-bad", base_url=ai.url + "/v1"),
        )
        failing = {r.name: r.detail for r in await online_checks(bad) if not r.ok}
        assert failing == {
            "twilio": "TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN refused by Twilio (HTTP 401)",
            "slack": "SLACK_BOT_TOKEN refused by Slack: invalid_auth",
            "discord": "DISCORD_BOT_TOKEN refused by Discord (HTTP 401)",
            "ai": "OPENAI_API_KEY refused (HTTP 401)",
        }


async def test_check_online_names_a_database_behind_and_exits_1(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SMSBRIDGE_", "TWILIO_"))},
        "SMSBRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'new.db'}",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "check", "--online", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1, out
    assert "FAIL database: schema at no schema yet, this version needs" in out.decode()
    assert "run `smsbridge db upgrade`" in out.decode()
