"""Slack's interactivity payloads as an app receives them (button clicks, message
shortcuts, modal submissions) and views as Slack returns them from views.* calls.

Shapes follow Slack's documentation of interactivity payloads and view objects."""

from __future__ import annotations

import time
import uuid
from typing import Any

from standins.slack_payloads import (
    API_APP_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    VERIFICATION_TOKEN,
    make_id,
    make_trigger_id,
    make_ts,
)


def _interaction(
    kind: str, user_id: str, user_name: str, team_id: str, api_app_id: str, trigger_id: str | None
) -> dict[str, Any]:
    """The fields every interactivity payload carries."""
    # fmt: off
    return {"type": kind, "token": VERIFICATION_TOKEN, "api_app_id": api_app_id,
            "team": {"id": team_id, "domain": TEAM_DOMAIN},
            "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
            "trigger_id": trigger_id or make_trigger_id(), "is_enterprise_install": False,
            "enterprise": None}
    # fmt: on


def block_actions_payload(
    action_id: str,
    value: str | None = None,
    *,
    user_id: str = "U0USER",
    user_name: str = "user",
    channel_id: str = "C0CHAN",
    channel_name: str = "general",
    message: dict[str, Any] | None = None,
    message_ts: str | None = None,
    thread_ts: str | None = None,
    is_ephemeral: bool = False,
    block_id: str = "actions",
    button_text: str = "Button",
    team_id: str = TEAM_ID,
    api_app_id: str = API_APP_ID,
    response_url: str = "https://hooks.slack.com/actions/T0TEST/1/x",
    trigger_id: str | None = None,
    state_values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A button click in a message (`message` is the message holding the button)."""
    ts = message_ts or (message or {}).get("ts") or make_ts()
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": ts,
        "channel_id": channel_id,
        "is_ephemeral": is_ephemeral,
    }
    if thread_ts:
        container["thread_ts"] = thread_ts
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": button_text, "emoji": True},
        "type": "button",
        "action_ts": make_ts(),
    }
    if value is not None:
        action["value"] = value
    payload = _interaction("block_actions", user_id, user_name, team_id, api_app_id, trigger_id)
    payload.update(
        container=container,
        channel={"id": channel_id, "name": channel_name},
        state={"values": state_values or {}},
        response_url=response_url,
        actions=[action],
    )
    if not is_ephemeral:
        payload["message"] = message or {"type": "message", "ts": ts, "text": "", "blocks": []}
    return payload


def message_action_payload(
    callback_id: str,
    message: dict[str, Any],
    *,
    user_id: str = "U0USER",
    user_name: str = "user",
    channel_id: str = "C0CHAN",
    channel_name: str = "general",
    team_id: str = TEAM_ID,
    api_app_id: str = API_APP_ID,
    response_url: str = "https://hooks.slack.com/app/T0TEST/1/x",
    trigger_id: str | None = None,
) -> dict[str, Any]:
    """A message shortcut run on `message`."""
    payload = _interaction("message_action", user_id, user_name, team_id, api_app_id, trigger_id)
    payload.update(
        action_ts=make_ts(),
        channel={"id": channel_id, "name": channel_name},
        callback_id=callback_id,
        response_url=response_url,
        message_ts=message["ts"],
        message=message,
    )
    return payload


def view_submission_payload(
    callback_id: str,
    values: dict[str, dict[str, dict[str, Any]]],
    *,
    user_id: str = "U0USER",
    user_name: str = "user",
    private_metadata: str = "",
    view_id: str | None = None,
    team_id: str = TEAM_ID,
    api_app_id: str = API_APP_ID,
    trigger_id: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A modal submitted; `values` is `state.values` (block_id -> action_id -> value)."""
    spec = {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": private_metadata,
        "blocks": blocks or [],
        "title": {"type": "plain_text", "text": "smsbridge"},
        "submit": {"type": "plain_text", "text": "Submit"},
    }
    view = view_object(spec, view_id=view_id, team_id=team_id, app_id=api_app_id)
    view["state"] = {"values": values}
    payload = _interaction("view_submission", user_id, user_name, team_id, api_app_id, trigger_id)
    payload.update(view=view, response_urls=[])
    return payload


def view_object(
    spec: dict[str, Any],
    *,
    view_id: str | None = None,
    team_id: str = TEAM_ID,
    app_id: str = API_APP_ID,
    bot_id: str = "B0BOT",
) -> dict[str, Any]:
    """A view as Slack returns it (views.open/publish/update, view_submission): the
    app's view `spec` plus the fields Slack adds."""
    view_id = view_id or make_id("V")
    # fmt: off
    added = {"id": view_id, "team_id": team_id, "state": {"values": {}},
             "hash": f"{time.time():.6f}.{uuid.uuid4().hex[:8]}", "previous_view_id": None,
             "root_view_id": view_id, "app_id": app_id, "app_installed_team_id": team_id,
             "bot_id": bot_id}
    defaults = {"blocks": [], "private_metadata": "", "callback_id": "", "external_id": "",
                "title": None, "close": None, "submit": None, "clear_on_close": False,
                "notify_on_close": False}
    # fmt: on
    return {**defaults, **spec, **added}
