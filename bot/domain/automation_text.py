"""The automation settings as people type them in chat (`/sms settings away_message …`,
the settings form): read into what `organizations.automations` stores, shown back, and
checked together (an away message needs business hours). Pure: the settings service
applies what this returns."""

from __future__ import annotations

import re
from typing import Any

from bot.domain.hours import parse_business_hours

KEYS = (
    "business_hours",
    "away_message",
    "ack_message",
    "auto_close_after_days",
    "escalate_after_minutes",
    "escalate_to",
    "block_keywords",
)
# Also part of `automations` in the file's table (a declared `automations` declares these).
FILE_TABLE = KEYS[:-1]
OFF = ("", "off", "none")
# Stored only when set (as bot/automation_config.py stores the file's).
ABSENT_WHEN_OFF = ("business_hours", "away_message", "ack_message")
_WHOLE = {"auto_close_after_days": (365, "days"), "escalate_after_minutes": (10080, "minutes")}
_EXAMPLES = {
    "business_hours": "`/sms settings business_hours Mon-Fri 08:00-18:00, Sat 09:00-13:00`",
    "escalate_to": "`/sms settings escalate_to dana, sam` (member keys, `/sms member list`)",
    "block_keywords": "`/sms settings block_keywords crypto, loan approved`",
}
MAX_TEXT = 320


def parse(key: str, value: str, timezone: str) -> tuple[Any, str]:
    """(what to store, how to show it) for one setting typed in chat; `off` turns it off.
    Raises ValueError saying what is wrong and how to write it."""
    value = value.strip()
    off = value.lower() in OFF
    if key == "business_hours":
        spans = [] if off else [s.strip() for s in re.split(r"[;,\n]+", value) if s.strip()]
        if spans:
            try:
                parse_business_hours(spans, timezone)
            except ValueError as exc:
                raise ValueError(f"{exc} Example: {_EXAMPLES[key]} or `off`.") from None
        return spans, ", ".join(spans) or "off"
    if key in ("away_message", "ack_message"):
        if len(value) > MAX_TEXT:
            raise ValueError(f"{key} is at most {MAX_TEXT} characters (one SMS or two).")
        return ("" if off else value), ("off" if off else f"“{value}”")
    if key in _WHOLE:
        most, unit = _WHOLE[key]
        number = "0" if off else value
        if not number.isdigit() or int(number) > most:
            raise ValueError(f"{key} is a whole number of {unit}, 0 (off) to {most}.")
        return int(number), f"{int(number)} {unit}" if int(number) else "off"
    if key in ("escalate_to", "block_keywords"):
        split = r"[,\s]+" if key == "escalate_to" else r"[,\n]+"
        words = [] if off else [w.strip().lstrip("@") for w in re.split(split, value)]
        words = list(dict.fromkeys(w for w in words if w))
        return words, ", ".join(words) or "off"
    raise ValueError(f"{key} is not an automation setting")


def typed(automations: dict[str, Any], key: str) -> str:
    """The setting as a member would type it in the form (one business-hours span a line)."""
    value = automations.get(key)
    if key == "business_hours":
        return "\n".join(value or [])
    if key in ("escalate_to", "block_keywords"):
        return ", ".join(value or [])
    if key in _WHOLE:
        return str(value or 0)
    return str(value or "")


def shown(automations: dict[str, Any], key: str) -> str:
    """The setting as `/sms settings` lists it."""
    text = typed(automations, key).replace("\n", ", ")
    return text if text not in ("", "0") else "off"


def problem(automations: dict[str, Any], member_keys: set[str]) -> tuple[str, str] | None:
    """(the setting to fix, what is wrong) when the settings do not hold together."""
    if automations.get("away_message") and not automations.get("business_hours"):
        return "away_message", (
            "an away message needs business_hours (when the team is in), like "
            + _EXAMPLES["business_hours"]
        )
    if automations.get("escalate_after_minutes") and not automations.get("escalate_to"):
        return "escalate_after_minutes", (
            "escalating needs escalate_to, the members to mention: " + _EXAMPLES["escalate_to"]
        )
    unknown = [k for k in automations.get("escalate_to") or [] if k not in member_keys]
    if unknown:
        return "escalate_to", f"no member {unknown[0]!r}: " + _EXAMPLES["escalate_to"]
    return None
