"""The database's organizations, lines with their routes and members with their chat
accounts, written as the TOML the configuration contract reads: `smsbridge config export`
writes it and `smsbridge config import` (or SMSBRIDGE_CONFIG) reproduces the same state
in an empty database. Removed members are not exported: they have no access."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.automation_config import AUTOMATION_KEYS
from bot.directory_file import CHANNEL_SUFFIX, USER_SUFFIX
from storage.models import Line, Member, Organization

# Settings kept in `organizations.automations` that the TOML writes on the organization.
ORGANIZATION_LEVEL = ("block_keywords", "response_target_minutes", "reports_channel")
# Table values written inline: a setting of their own (a channel per platform).
INLINE = frozenset({"reports_channel", "admin_channel"})
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


async def export_directory(session: AsyncSession) -> dict[str, Any]:
    """The state as TOML tables: {"organizations": …, "lines": …, "members": …}."""
    orgs = list(await session.scalars(select(Organization).order_by(Organization.key)))
    org_keys = {org.id: org.key for org in orgs}
    organizations = {}
    for org in orgs:
        table: dict[str, Any] = {
            "name": org.name,
            "timezone": org.timezone,
            "quiet_mode": org.quiet_mode,
            "quiet_hours_zone": org.quiet_hours_zone,
            "region": org.region,
            "gsm_smart_quotes": org.gsm_smart_quotes,
            "help_text": org.help_text,
            "remind_after_minutes": org.remind_after_minutes,
        }
        if org.quiet_hours:
            table["quiet_hours"] = list(org.quiet_hours)
        automations = dict(org.automations or {})
        for key in ORGANIZATION_LEVEL:
            if key in automations:
                table[key] = automations.pop(key)
        if automations:
            # In the file's order, whatever order chat set them in: an export is canonical.
            order = {key: i for i, key in enumerate(AUTOMATION_KEYS)}
            table["automations"] = dict(
                sorted(automations.items(), key=lambda kv: order.get(kv[0], len(order)))
            )
        if org.admin_channel:
            table["admin_channel"] = dict(org.admin_channel)
        if org.voice:
            table["voice"] = dict(org.voice)
        organizations[org.key] = table

    members: dict[str, dict[str, Any]] = {}
    member_keys: dict[int, str] = {}
    active = select(Member).where(Member.removed_at.is_(None)).order_by(Member.id)
    for member in await session.scalars(active):
        # Member tables are global in the TOML: a key two organizations use gets a suffix.
        key = (
            member.key
            if member.key not in members
            else f"{member.key}-{org_keys[member.organization_id]}"
        )
        member_keys[member.id] = key
        members[key] = {
            "organization": org_keys[member.organization_id],
            "name": member.name,
            "role": member.role,
            "notify": member.notify,
        } | {f"{p}{USER_SUFFIX}": user for p, user in sorted(member.accounts().items())}

    lines = {}
    for line in await session.scalars(select(Line).order_by(Line.phone)):
        table = {"organization": org_keys[line.organization_id], "label": line.label}
        if line.default_assignee_id in member_keys:
            table["default_assignee"] = member_keys[line.default_assignee_id]
        routes = sorted(line.routes, key=lambda r: r.platform)
        if routes:
            table["reply_mode"] = routes[0].reply_mode
        table |= {f"{r.platform}{CHANNEL_SUFFIX}": r.channel for r in routes}
        lines[line.phone] = table
    return {"organizations": organizations, "lines": lines, "members": members}


def to_toml(data: dict[str, Any]) -> str:
    """TOML text of `export_directory`'s tables (nested tables become [a.b.c] sections)."""
    out: list[str] = []

    def section(path: list[str], table: dict[str, Any]) -> None:
        plain = {k: v for k, v in table.items() if not isinstance(v, dict) or k in INLINE}
        nested = {k: v for k, v in table.items() if k not in plain}
        out.append(f"[{'.'.join(_key(p) for p in path)}]")
        out.extend(f"{_key(k)} = {_value(v)}" for k, v in plain.items())
        out.append("")
        for key, value in nested.items():
            section([*path, key], value)

    for name in ("organizations", "lines", "members"):
        for key, table in data.get(name, {}).items():
            section([name, key], table)
    return "\n".join(out)


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")
