"""The automations part of an organization's TOML table, checked key by key:
`[organizations.KEY.automations]` (business hours, away and acknowledgement texts,
auto-close, escalation) and the organization's `block_keywords`,
`response_target_minutes` and `reports_channel`. bot/directory_file.py turns a ValueError from
here into its ConfigError; every message names the key that is wrong."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.domain import automation_text
from bot.domain.hours import parse_business_hours

# The keys of `[organizations.KEY.automations]`, in the file's order.
AUTOMATION_KEYS = automation_text.FILE_TABLE


def automation_settings(
    raw: dict[str, Any], where: str, tz: str, platforms: Iterable[str]
) -> dict[str, Any]:
    """The organization's automations and report settings, as stored in the database."""
    table = raw.get("automations", {})
    if not isinstance(table, dict):
        raise ValueError(f"{where}.automations must be a table")
    for key in table:
        if key not in AUTOMATION_KEYS:
            raise ValueError(
                f"{where}.automations.{key}: unknown key; expected one of "
                f"{', '.join(AUTOMATION_KEYS)}"
            )
    out: dict[str, Any] = {}
    if "business_hours" in table:
        try:
            parse_business_hours(table["business_hours"], tz)
        except ValueError as exc:
            raise ValueError(f"{where}.automations.business_hours: {exc}") from None
        out["business_hours"] = list(table["business_hours"])
    for key in ("away_message", "ack_message"):
        text = table.get(key, "")
        if not isinstance(text, str) or len(text.strip()) > 320:
            raise ValueError(f"{where}.automations.{key} must be a text of at most 320 chars")
        if text.strip():
            out[key] = text.strip()
    if "away_message" in out and "business_hours" not in out:
        raise ValueError(
            f"{where}.automations.away_message needs business_hours: "
            'business_hours = ["Mon-Fri 08:00-18:00"]'
        )
    limits = {
        "auto_close_after_days": (where + ".automations", 365, "days"),
        "escalate_after_minutes": (where + ".automations", 10080, "minutes"),
    }
    for key, (place, most, unit) in limits.items():
        out[key] = _whole(table, key, f"{place}.{key}", most, unit)
    escalate_to = table.get("escalate_to", [])
    if not isinstance(escalate_to, list) or not all(isinstance(k, str) for k in escalate_to):
        raise ValueError(f'{where}.automations.escalate_to must be member keys: ["dana"]')
    if out["escalate_after_minutes"] and not escalate_to:
        raise ValueError(f"{where}.automations.escalate_after_minutes needs escalate_to")
    out["escalate_to"] = list(escalate_to)

    keywords = raw.get("block_keywords", [])
    if not isinstance(keywords, list) or not all(
        isinstance(k, str) and k.strip() for k in keywords
    ):
        raise ValueError(f'{where}.block_keywords must be a list of words: ["crypto"]')
    out["block_keywords"] = [k.strip() for k in keywords]
    out["response_target_minutes"] = _whole(
        raw, "response_target_minutes", f"{where}.response_target_minutes", 10080, "minutes"
    )
    out["reports_channel"] = channel_per_platform(raw, "reports_channel", where, platforms)
    return out


def channel_per_platform(
    raw: dict[str, Any], key: str, where: str, platforms: Iterable[str]
) -> dict[str, str]:
    """A `{ <platform> = "<channel id>", … }` setting, for registered chat platforms
    (`reports_channel`, and the organization's `admin_channel`)."""
    channels = raw.get(key, {})
    if not isinstance(channels, dict) or not all(
        isinstance(v, str) and v for v in channels.values()
    ):
        raise ValueError(
            f"{where}.{key} must name a channel per chat platform: "
            '{ slack = "C0REPORTS", discord = "1200000000000000009" }'
        )
    unknown = sorted(set(channels) - set(platforms))
    if unknown:
        raise ValueError(
            f"{where}.{key}.{unknown[0]}: not a chat platform; expected one of "
            f"{', '.join(sorted(platforms))}"
        )
    return dict(channels)


def _whole(table: dict[str, Any], key: str, where: str, most: int, unit: str) -> int:
    value = table.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= most:
        raise ValueError(
            f"{where} must be a whole number of {unit} from 0 (off) to {most}, got {value!r}"
        )
    return value
