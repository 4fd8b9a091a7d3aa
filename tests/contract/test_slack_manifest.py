"""manifests/slack.yaml against what the Slack bridge does: every request URL is our one
route, every scope the code needs is declared, and everything the manifest subscribes to
or declares is handled by the app (not answered 404, which Slack would retry)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from standins import slack_interactivity as si
from standins import slack_payloads as sp
from tests.slack_fixtures import FORM, SALES, SECRET, SlackEnv, sx_fixture  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "manifests" / "slack.yaml"
# The bot scope each Web API method (or feature) the bridge uses needs.
METHOD_SCOPES = {
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "chat_delete": "chat:write",  # a bot deletes its own posts with chat:write
    "chat_postEphemeral": "chat:write",
    "files_upload_v2": "files:write",
    "reactions_add": "reactions:write",
    "reactions_remove": "reactions:write",
    "users_info": "users:read",
    "conversations_history": "channels:history",
    "conversations_replies": "channels:history",
    "conversations_open": "im:write",
}
NO_SCOPE = {"auth_test", "views_open", "views_publish"}
EVENT_SCOPES = {
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "app_mention": "app_mentions:read",
    "reaction_added": "reactions:read",
    "app_home_opened": None,
}


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(MANIFEST.read_text())


def test_request_urls_all_point_at_our_one_route(manifest: dict[str, Any]) -> None:
    settings, features = manifest["settings"], manifest["features"]
    urls = [
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
        *(c["url"] for c in features["slash_commands"]),
    ]
    assert urls == ["https://YOUR-HOST/slack/events"] * 3
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is False
    assert features["app_home"]["home_tab_enabled"] is True
    [sms] = features["slash_commands"]
    assert sms["command"] == "/sms" and sms["usage_hint"] and sms["should_escape"] is True


def test_every_scope_the_code_needs_is_declared(manifest: dict[str, Any]) -> None:
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    source = "\n".join(p.read_text() for p in (ROOT / "bridges" / "slack").glob("*.py"))
    called = set(re.findall(r"client\.(\w+)\(|self\.client\.(\w+),", source))
    methods = {name for pair in called for name in pair if name}
    methods |= set(re.findall(r'_react\("(\w+)"', source))
    assert methods - NO_SCOPE <= set(METHOD_SCOPES), "map the scope of a new method here"
    needed = {METHOD_SCOPES[m] for m in methods - NO_SCOPE}
    needed |= {"commands", "files:read", "chat:write.customize"}  # /sms, downloads, username=
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert set(events) == set(EVENT_SCOPES)
    needed |= {scope for e in events if (scope := EVENT_SCOPES[e])}
    assert needed <= scopes, f"missing scopes: {needed - scopes}"
    assert scopes <= needed, f"scopes nothing uses: {scopes - needed}"


async def test_everything_declared_is_handled(manifest: dict[str, Any], sx: SlackEnv) -> None:
    header = sx.slack.user_message(SALES, "U0DANA", "top level")
    events = [
        sp.app_home_opened_event("U0DANA"),
        sp.app_mention_event(SALES, "U0DANA", "<@U0BOT> help"),
        sx.slack.user_message(SALES, "U0DANA", "hello", thread_ts=header["ts"]),
        sp.reaction_added_event("U0DANA", "thumbsup", SALES, header["ts"]),
    ]
    for event in events:
        assert await sx.send_event(event) == 200, event["type"]
    for shortcut in manifest["features"]["shortcuts"]:
        payload = si.message_action_payload(
            shortcut["callback_id"],
            header,
            user_id="U0DANA",
            channel_id=SALES,
            response_url=sx.slack.response_url(),
        )
        body = sp.interactive_body(payload)
        status, _ = await sp.post_signed(sx.events_url, body, FORM, SECRET)
        assert status == 200, shortcut["callback_id"]
    challenge = sp.json_body(sp.url_verification("abc123"))
    status, text = await sp.post_signed(sx.events_url, challenge, "application/json", SECRET)
    assert status == 200 and "abc123" in text


async def test_a_bad_token_or_unreachable_slack_is_a_clear_startup_error(
    tmp_path: Path,
) -> None:
    from bot.app import SmsBridge
    from bot.config import ConfigError
    from bridges.slack import SlackSettings
    from standins.slack import SlackStandIn
    from tests.conftest import free_port, make_settings

    async with SlackStandIn(bot_token="xoxb-real") as slack:
        wrong = SlackSettings("xoxb-wrong", SECRET, api_url=slack.url + "/api/")
        with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN was refused by Slack: invalid_auth"):
            await SmsBridge(make_settings(tmp_path, slack=wrong)).start()
    nowhere = SlackSettings("xoxb-x", SECRET, api_url=f"http://127.0.0.1:{free_port()}/api/")
    with pytest.raises(ConfigError, match="cannot reach Slack"):
        await SmsBridge(make_settings(tmp_path, slack=nowhere)).start()
