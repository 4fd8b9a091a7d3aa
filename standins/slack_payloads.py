"""What Slack sends to an app, built the way Slack shapes it: request signatures, the
Events API envelope and its events, and slash command forms (interactivity payloads and
views are in slack_interactivity.py).

Shapes follow Slack's documentation (Events API, interactivity payloads, Socket Mode)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import aiohttp

TEAM_ID = "T0TEST"
TEAM_DOMAIN = "standin"
API_APP_ID = "A0TEST"
BOT_USER_ID = "U0BOT"
VERIFICATION_TOKEN = "verification-token"  # the legacy `token` field Slack still sends


_last_us = 0
_ids = itertools.count(1)


def make_ts() -> str:
    """A Slack message timestamp ("1700000000.000100"): unique and increasing."""
    global _last_us
    _last_us = max(int(time.time() * 1_000_000), _last_us + 1)
    return f"{_last_us // 1_000_000}.{_last_us % 1_000_000:06d}"


def make_id(prefix: str, length: int = 10) -> str:
    """A Slack-looking id: prefix + upper-case alphanumerics, unique in this process."""
    body = f"{next(_ids):04d}{uuid.uuid4().hex.upper()}"
    return prefix + body[: max(length, 4)]


def sign_slack_request(
    signing_secret: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """Headers Slack adds to every request: `v0=` + HMAC-SHA256 of `v0:{ts}:{body}`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


async def post_signed(
    url: str,
    body: bytes,
    content_type: str,
    signing_secret: str,
    retry_num: int | None = None,
    *,
    retry_reason: str = "http_timeout",
    timestamp: int | None = None,
) -> tuple[int, str]:
    """POST `body` to our app signed like Slack; `retry_num` adds the retry headers."""
    headers = {
        "Content-Type": content_type,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }
    headers.update(sign_slack_request(signing_secret, body, timestamp))
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers=headers) as resp:
            return resp.status, await resp.text()


def form_body(fields: dict[str, Any]) -> bytes:
    """application/x-www-form-urlencoded body, as Slack posts slash commands."""
    return urlencode({k: v for k, v in fields.items() if v is not None}).encode()


def interactive_body(payload: dict[str, Any]) -> bytes:
    """Interactivity request body: one form field `payload` holding the JSON."""
    return urlencode({"payload": json.dumps(payload)}).encode()


def json_body(envelope: dict[str, Any]) -> bytes:
    return json.dumps(envelope).encode()


def url_verification(
    challenge: str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
) -> dict:
    return {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}


def event_callback(
    event: dict[str, Any],
    *,
    team_id: str = TEAM_ID,
    api_app_id: str = API_APP_ID,
    event_id: str | None = None,
    event_time: int | None = None,
    bot_user_id: str = BOT_USER_ID,
    enterprise_id: str | None = None,
) -> dict[str, Any]:
    """The Events API envelope around one event; with `enterprise_id`, as delivered to an
    app installed across that Enterprise Grid organization."""
    authorization = {"enterprise_id": enterprise_id, "team_id": team_id, "user_id": bot_user_id}
    authorization.update(is_bot=True, is_enterprise_install=enterprise_id is not None)
    grid = {"enterprise_id": enterprise_id} if enterprise_id else {}
    return {
        "token": VERIFICATION_TOKEN,
        **grid,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": enterprise_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or make_id("Ev", 10),
        "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": [authorization],
        "is_ext_shared_channel": False,
        "event_context": "4-" + uuid.uuid4().hex,
    }


def rich_text_blocks(text: str) -> list[dict[str, Any]]:
    """The blocks Slack's client attaches to a typed message."""
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
    return [{"type": "rich_text", "block_id": uuid.uuid4().hex[:5], "elements": [section]}]


def message_event(
    channel: str,
    user: str,
    text: str,
    *,
    thread_ts: str | None = None,
    ts: str | None = None,
    channel_type: str = "channel",
    team: str = TEAM_ID,
    files: list[dict[str, Any]] | None = None,
    client_msg_id: str | None = None,
    parent_user_id: str = BOT_USER_ID,
) -> dict[str, Any]:
    """A human's `message` event; with `thread_ts` it is a reply, with `files` a file share."""
    ts = ts or make_ts()
    event: dict[str, Any] = {
        "type": "message",
        "text": text,
        "user": user,
        "ts": ts,
        "client_msg_id": client_msg_id or str(uuid.uuid4()),
        "team": team,
        "blocks": rich_text_blocks(text) if text else [],
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = parent_user_id
    if files:
        event.update(subtype="file_share", files=files, upload=False, display_as_bot=False)
    return event


def message_changed_event(
    channel: str,
    message: dict[str, Any],
    new_text: str,
    *,
    channel_type: str = "channel",
    edited_ts: str | None = None,
) -> dict[str, Any]:
    """`message_changed`: `message` is the original (as sent in its `message` event)."""
    edited_ts = edited_ts or make_ts()
    keep = ("type", "user", "ts", "thread_ts", "parent_user_id", "team", "client_msg_id", "files")
    previous = {k: message[k] for k in (*keep, "text", "blocks") if k in message}
    previous["type"] = "message"
    new = {k: message[k] for k in keep if k in message}
    new.update(
        type="message",
        text=new_text,
        blocks=rich_text_blocks(new_text),
        edited={"user": message.get("user"), "ts": edited_ts},
        source_team=message.get("team", TEAM_ID),
        user_team=message.get("team", TEAM_ID),
    )
    return {
        "type": "message",
        "subtype": "message_changed",
        "message": new,
        "previous_message": previous,
        "channel": channel,
        "hidden": True,
        "ts": edited_ts,
        "event_ts": edited_ts,
        "channel_type": channel_type,
    }


def message_deleted_event(
    channel: str, message: dict[str, Any], *, channel_type: str = "channel"
) -> dict[str, Any]:
    """`message_deleted`: `message` is the one that was deleted."""
    now = make_ts()
    previous = {
        k: v for k, v in message.items() if k not in ("channel", "event_ts", "channel_type")
    }
    previous["type"] = "message"
    return {
        "type": "message",
        "subtype": "message_deleted",
        "previous_message": previous,
        "channel": channel,
        "hidden": True,
        "deleted_ts": message["ts"],
        "event_ts": now,
        "ts": now,
        "channel_type": channel_type,
    }


def reaction_added_event(
    user: str, reaction: str, channel: str, ts: str, *, item_user: str = BOT_USER_ID
) -> dict[str, Any]:
    return {
        "type": "reaction_added",
        "user": user,
        "reaction": reaction,
        "item_user": item_user,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": make_ts(),
    }


def app_mention_event(
    channel: str,
    user: str,
    text: str,
    *,
    thread_ts: str | None = None,
    ts: str | None = None,
    team: str = TEAM_ID,
    parent_user_id: str = BOT_USER_ID,
) -> dict[str, Any]:
    """`app_mention`; `text` holds the mention itself, e.g. "<@U0BOT> close"."""
    ts = ts or make_ts()
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": user,
        "text": text,
        "ts": ts,
        "client_msg_id": str(uuid.uuid4()),
        "team": team,
        "blocks": rich_text_blocks(text),
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts:
        event.update(thread_ts=thread_ts, parent_user_id=parent_user_id)
    return event


def app_home_opened_event(
    user: str, *, channel: str = "D0HOME", tab: str = "home", view: dict | None = None
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user,
        "channel": channel,
        "tab": tab,
        "event_ts": make_ts(),
    }
    if view is not None:
        event["view"] = view
    return event


def slash_command(
    text: str = "",
    *,
    command: str = "/sms",
    user_id: str = "U0USER",
    user_name: str = "user",
    channel_id: str = "C0CHAN",
    channel_name: str = "general",
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = API_APP_ID,
    response_url: str = "https://hooks.slack.com/commands/T0TEST/1/x",
    trigger_id: str | None = None,
) -> dict[str, str]:
    """Slash command fields (form-encode with `form_body`, or a Socket Mode payload)."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or make_trigger_id(),
    }


def make_trigger_id() -> str:
    return f"{int(time.time())}.{next(_ids)}.{uuid.uuid4().hex}"
