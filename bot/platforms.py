"""The registered chat platforms, by name. Members' chat identities and lines' routes
are keyed by these names (`<platform>_user`, `<platform>_channel` in the TOML), so the
core names no platform: a bridge registered under entry point group `smsbridge.bridges`
brings its keys with it."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

GROUP = "smsbridge.bridges"


@cache
def chat_platforms() -> tuple[str, ...]:
    """Names of the chat bridges installed, sorted."""
    return tuple(sorted({ep.name for ep in entry_points(group=GROUP)}))
