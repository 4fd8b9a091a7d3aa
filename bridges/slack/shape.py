"""What Slack's requests look like, checked before Bolt or a listener reads one: a signed
body whose known fields have the wrong types (or lack the ones Slack always sends) is a
400, not a crash deep inside Bolt or after the ack. Only fields this bridge (or Bolt's
routing) reads are described; anything else passes through untouched."""

from __future__ import annotations

from typing import Any

Spec = dict[str, Any]  # field -> a type, a tuple of types, a nested Spec, or [Spec] (a list)

FILE: Spec = {"name": str, "title": str, "size": int, "mimetype": str, "url_private": str,
              "url_private_download": str}  # fmt: skip
MESSAGE: Spec = {"ts": str, "thread_ts": str, "text": str, "user": str, "bot_id": str,
                 "subtype": str, "files": [FILE]}  # fmt: skip
EVENT: Spec = {**MESSAGE, "type": str, "channel": str, "team": str, "tab": str, "reaction": str,
               "item": {"type": str, "channel": str, "ts": str}, "message": MESSAGE,
               "previous_message": MESSAGE}  # fmt: skip
TEAM: Spec = {"id": str, "domain": str}
PAYLOAD: Spec = {
    "type": str, "token": str, "team_id": str, "api_app_id": str, "event_id": str,
    "challenge": str, "enterprise_id": str, "user_id": str, "user_name": str,
    "channel_id": str, "text": str, "command": str, "response_url": str, "trigger_id": str,
    "callback_id": str, "team": (dict, str), "enterprise": (dict, str),
    "user": {"id": str, "username": str, "name": str, "team_id": str},
    "channel": {"id": str, "name": str},
    "container": {"channel_id": str, "message_ts": str, "thread_ts": str},
    "message": MESSAGE, "state": {"values": dict},
    "view": {"callback_id": str, "private_metadata": str, "team_id": str,
             "app_installed_team_id": str, "state": {"values": dict}},
    "actions": [{"action_id": str, "block_id": str, "value": str, "selected_user": str}],
    "authorizations": [{"team_id": str, "enterprise_id": str, "user_id": str}],
}  # fmt: skip
# Fields Slack always sends, by payload type (Bolt routes on them; listeners index them).
REQUIRED = {
    "block_actions": ("actions", "user"),
    "view_submission": ("view", "user"),
    "message_action": ("callback_id", "user", "channel", "message"),
    "shortcut": ("callback_id", "user"),
}
EVENT_REQUIRED = {
    "message": ("channel", "ts"),
    "app_mention": ("channel", "ts"),
    "reaction_added": ("item",),
    "app_home_opened": ("user",),
}


def well_formed(body: dict[str, Any]) -> bool:
    kind = body.get("type")
    event = body.get("event")
    if not _fits(body, PAYLOAD):
        return False
    if any(body.get(key) in (None, "", []) for key in REQUIRED.get(str(kind), ())):
        return False
    if kind == "block_actions" and not all(a.get("action_id") for a in body["actions"]):
        return False
    if kind == "event_callback" or event is not None:
        if not isinstance(event, dict) or not _fits(event, EVENT):
            return False
        required = EVENT_REQUIRED.get(str(event.get("type")), ())
        if any(event.get(key) in (None, "") for key in required):
            return False
    if kind == "view_submission" and not body["view"].get("callback_id"):
        return False
    return True


def _fits(value: dict[str, Any], spec: Spec) -> bool:
    for key, want in spec.items():
        found = value.get(key)
        if found is None:
            continue
        if isinstance(want, dict):
            if not isinstance(found, dict) or not _fits(found, want):
                return False
        elif isinstance(want, list):
            if not isinstance(found, list):
                return False
            if not all(isinstance(item, dict) and _fits(item, want[0]) for item in found):
                return False
        elif not isinstance(found, want) or (isinstance(found, bool) and want is int):
            return False
    return True
