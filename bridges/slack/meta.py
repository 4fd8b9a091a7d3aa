"""State that Slack hands back to us in button values and modal private_metadata, read
defensively: it comes from a message or modal we rendered, possibly by an older version
of smsbridge, and a forged or stale value must get a short answer, never a traceback."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.types import Actor

STALE_BUTTON = "This button is out of date; nothing was done. Use the conversation's card again."
STALE_FORM = "This form is out of date; nothing was done. Close it and start again."


def actor_of(body: dict[str, Any]) -> Actor:
    """Who clicked or sent a form."""
    user = body.get("user") or {}
    return Actor("slack", str(user.get("id")), user.get("username") or user.get("name"))


class Stale(Exception):
    """A button value or modal metadata that is not what we render."""


@dataclass(frozen=True)
class DraftMeta:
    """What sending a draft needs (see views.draft_blocks / views.draft_modal)."""

    conversation: int
    channel: str
    thread_ts: str
    ai: bool
    text: str = ""
    response_url: str | None = None
    draft: str | None = None  # the draft's id (older drafts have none)

    @property
    def once(self) -> str | None:
        return f"draft:{self.draft}" if self.draft else None


def _object(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "")
    except ValueError:
        raise Stale from None
    if not isinstance(value, dict):
        raise Stale
    return value


def _text(meta: dict[str, Any], key: str) -> str:
    value = meta.get(key)
    if not isinstance(value, str) or not value:
        raise Stale
    return value


def draft_meta(raw: str | None) -> DraftMeta:
    meta = _object(raw)
    conversation = meta.get("conversation")
    if type(conversation) is not int or not isinstance(meta.get("ai", False), bool):
        raise Stale
    text, response_url, draft = meta.get("text", ""), meta.get("response_url"), meta.get("draft")
    return DraftMeta(
        conversation,
        _text(meta, "channel"),
        _text(meta, "thread_ts"),
        bool(meta.get("ai")),
        text if isinstance(text, str) else "",
        response_url if isinstance(response_url, str) else None,
        draft if isinstance(draft, str) and draft else None,
    )


def place_meta(raw: str | None) -> tuple[str, str | None]:
    """The (channel, thread_ts) a note or assign modal acts on (views.place)."""
    meta = _object(raw)
    thread_ts = meta.get("thread_ts")
    if thread_ts is not None and not isinstance(thread_ts, str):
        raise Stale
    return _text(meta, "channel"), thread_ts or None


def lead_meta(raw: str | None) -> tuple[int, str, str | None]:
    """(conversation, channel, thread_ts) of an Edit lead form (lead_form.lead_modal)."""
    conversation = _object(raw).get("conversation")
    if type(conversation) is not int:
        raise Stale
    return (conversation, *place_meta(raw))


def team_meta(raw: str | None) -> tuple[str, str | None]:
    """(channel, team) a settings form was opened in (settings_form.settings_modal)."""
    meta = _object(raw)
    team = meta.get("team")
    return _text(meta, "channel"), team if isinstance(team, str) else None


def message_id(raw: str | None) -> int:
    """The message a Retry button names."""
    if not raw or not raw.isdigit() or len(raw) > 18:
        raise Stale
    return int(raw)
