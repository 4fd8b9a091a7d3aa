"""What the Discord stand-in's answers are made of: Discord's error codes and error body
(with the nested `errors` of 50035), and the static fields of each object, per the
spec's *Response schemas."""

from __future__ import annotations

from typing import Any

ERRORS: dict[int, tuple[int, str]] = {
    10003: (404, "Unknown Channel"),
    10004: (404, "Unknown Guild"),
    10007: (404, "Unknown Member"),
    10008: (404, "Unknown Message"),
    10013: (404, "Unknown User"),
    10014: (400, "Unknown Emoji"),
    10015: (404, "Unknown Webhook"),
    10062: (404, "Unknown interaction"),
    40060: (400, "Interaction has already been acknowledged."),
    50001: (403, "Missing Access"),
    50005: (403, "Cannot edit a message authored by another user"),
    50006: (400, "Cannot send an empty message"),
    50008: (400, "Cannot send messages in a non-text channel"),
    50013: (403, "Missing Permissions"),
    50024: (400, "Cannot execute action on this channel type"),
    50027: (401, "Invalid Webhook Token"),
    50035: (400, "Invalid Form Body"),
    50083: (400, "Thread is archived"),
    50109: (400, "The request body contains invalid JSON."),
    160004: (400, "A thread has already been created for this message"),
    220001: (400, "Webhooks posted to forum channels must have a thread_name or thread_id"),
}


class DiscordError(Exception):
    """A Discord API error answer: `{"message", "code"[, "errors"]}` with its HTTP status."""

    def __init__(self, code: int, errors: dict[str, Any] | None = None) -> None:
        self.status, self.message = ERRORS[code]
        self.code, self.errors = code, errors
        super().__init__(f"{self.status} {self.code} {self.message}")

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def invalid(field: str, code: str, message: str) -> DiscordError:
    """50035 Invalid Form Body with Discord's nested `errors` object for one field path."""
    node: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(field.split(".")):
        node = {part: node}
    return DiscordError(50035, node)


# Static parts of the objects, per the spec's *Response schemas.
# fmt: off
GUILD_DEFAULTS: dict[str, Any] = {
    "icon": None, "description": None, "splash": None, "discovery_splash": None, "banner": None,
    "features": [], "application_id": None, "region": "deprecated", "afk_channel_id": None,
    "afk_timeout": 300, "system_channel_id": None, "system_channel_flags": 0,
    "widget_enabled": False, "widget_channel_id": None, "verification_level": 0,
    "default_message_notifications": 0, "mfa_level": 0, "explicit_content_filter": 0,
    "max_presences": None, "max_members": 500000, "vanity_url_code": None, "premium_tier": 0,
    "premium_subscription_count": 0, "preferred_locale": "en-US", "rules_channel_id": None,
    "public_updates_channel_id": None, "safety_alerts_channel_id": None,
    "premium_progress_bar_enabled": False, "nsfw": False, "nsfw_level": 0, "emojis": [],
    "stickers": [], "incidents_data": None,
}
ROLE_DEFAULTS: dict[str, Any] = {
    "color": 0, "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
    "hoist": False, "managed": False, "mentionable": False, "icon": None, "unicode_emoji": None,
    "flags": 0,
}
MEMBER_DEFAULTS: dict[str, Any] = {
    "nick": None, "avatar": None, "banner": None, "premium_since": None, "deaf": False,
    "mute": False, "flags": 0, "pending": False, "communication_disabled_until": None,
}
CHANNEL_DEFAULTS: dict[str, Any] = {
    "parent_id": None, "topic": None, "nsfw": False, "flags": 0, "permission_overwrites": [],
    "rate_limit_per_user": 0, "last_message_id": None, "default_auto_archive_duration": 4320,
}
FORUM_DEFAULTS: dict[str, Any] = {
    "available_tags": [], "default_reaction_emoji": None, "default_sort_order": None,
    "default_forum_layout": 0, "default_thread_rate_limit_per_user": 0,
    "default_tag_setting": "match_some",
}
THREAD_DEFAULTS: dict[str, Any] = {
    "last_message_id": None, "rate_limit_per_user": 0, "message_count": 0, "member_count": 1,
    "total_message_sent": 0, "flags": 0,
}
MESSAGE_DEFAULTS: dict[str, Any] = {
    "edited_timestamp": None, "pinned": False, "mention_everyone": False, "tts": False,
}
# fmt: on
