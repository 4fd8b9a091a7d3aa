"""The TOML file of the configuration contract (DESIGN.md): organizations, lines with
their routes, and members. What it declares it owns: chat cannot change it.

Misconfiguration raises `ConfigError` naming the TOML key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from bot.automation_config import automation_settings, channel_per_platform
from bot.domain.automations import NOTIFY_MODES
from bot.domain.compliance import parse_quiet_hours
from bot.domain.localtime import QUIET_HOURS_ZONES
from bot.domain.phones import InvalidPhone, normalize_phone
from bot.domain.prompt import Voice
from bot.plugins import chat_platforms

ROLES = ("admin", "agent", "limited")
REPLY_MODES = ("direct", "explicit")
# The keys each TOML table takes, besides one per chat platform (`<platform>_user` on
# members, `<platform>_channel` on lines).
ORGANIZATION_KEYS = frozenset(
    {"name", "timezone", "quiet_hours", "quiet_mode", "help_text", "voice"}
    | {"remind_after_minutes", "region", "quiet_hours_zone", "gsm_smart_quotes"}
    | {"automations", "block_keywords", "response_target_minutes", "reports_channel"}
    | {"message_retention_days", "admin_channel"}
)
LINE_KEYS = frozenset({"organization", "label", "default_assignee", "reply_mode"})
MEMBER_KEYS = frozenset({"organization", "name", "role", "notify"})
USER_SUFFIX, CHANNEL_SUFFIX = "_user", "_channel"


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class OrganizationConfig:
    key: str
    name: str
    timezone: str = "UTC"
    quiet_hours: list[str] | None = None
    quiet_mode: str = "hold"
    help_text: str = ""
    voice: dict[str, Any] = field(default_factory=dict)
    remind_after_minutes: int = 0
    message_retention_days: int | None = None  # None: messages are kept
    region: str = "US"
    quiet_hours_zone: str = "organization"
    gsm_smart_quotes: bool = False
    # [organizations.KEY.automations] plus block_keywords, response_target_minutes and
    # reports_channel, validated (bot/services/automations.py reads them from the database).
    automations: dict[str, Any] = field(default_factory=dict)
    # Where admin changes are posted as they happen: channel by chat platform.
    admin_channel: dict[str, str] = field(default_factory=dict)
    # The keys its TOML table gives: the settings admins may change from chat are the
    # others (bot.domain.commands.SETTINGS), which a start then leaves as they are.
    declared: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LineConfig:
    phone: str
    organization: str
    label: str = ""
    # Where its conversations are mirrored: chat channel by platform name.
    routes: dict[str, str] = field(default_factory=dict)
    default_assignee: str | None = None
    reply_mode: str = "direct"


@dataclass(frozen=True)
class MemberConfig:
    key: str
    organization: str
    name: str
    role: str = "agent"
    # The member's chat accounts: user id by platform name.
    identities: dict[str, str] = field(default_factory=dict)
    notify: str = "mentions"  # mentions | all | none: when a new SMS mentions the assignee


@dataclass(frozen=True)
class Directory:
    """The TOML part: who and what exists. `declared`: it comes from a file, which then
    owns what it lists (a member it no longer lists loses access); without a file
    nothing is the file's."""

    organizations: list[OrganizationConfig] = field(default_factory=list)
    lines: list[LineConfig] = field(default_factory=list)
    members: list[MemberConfig] = field(default_factory=list)
    declared: bool = False

    def channels(self, platform: str) -> list[str]:
        """The channels the lines route to on `platform`, each once, sorted."""
        return sorted({ln.routes[platform] for ln in self.lines if platform in ln.routes})


def parse_directory(data: dict[str, Any]) -> Directory:
    """Validate the TOML tables; every error names the key that is wrong."""
    known = {"organizations", "lines", "members"}
    for key in data:
        if key not in known:
            raise ConfigError(f"unknown TOML table [{key}]; expected one of {sorted(known)}")

    platforms = chat_platforms()
    organizations = []
    for key, raw in _table(data, "organizations").items():
        where = f"organizations.{key}"
        _known_keys(raw, where, ORGANIZATION_KEYS)
        tz = str(raw.get("timezone", "UTC"))
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"{where}.timezone: unknown time zone {tz!r}") from None
        quiet = raw.get("quiet_hours")
        try:
            parse_quiet_hours(quiet, tz)
        except ValueError as exc:
            raise ConfigError(f"{where}.quiet_hours: {exc}") from None
        mode = raw.get("quiet_mode", "hold")
        if mode not in ("hold", "refuse"):
            raise ConfigError(f"{where}.quiet_mode must be 'hold' or 'refuse', got {mode!r}")
        voice = raw.get("voice", {})
        if not isinstance(voice, dict):
            raise ConfigError(f"{where}.voice must be a table")
        try:
            Voice.from_config(voice)
        except ValueError as exc:
            raise ConfigError(f"{where}.voice: {exc}") from None
        remind = raw.get("remind_after_minutes", 0)
        if not isinstance(remind, int) or isinstance(remind, bool) or not 0 <= remind <= 10080:
            raise ConfigError(
                f"{where}.remind_after_minutes must be a whole number of minutes from 0 (off)"
                f" to 10080 (a week), got {remind!r}"
            )
        keep = raw.get("message_retention_days")
        if keep is not None and (not isinstance(keep, int) or isinstance(keep, bool) or keep < 1):
            raise ConfigError(
                f"{where}.message_retention_days must be a whole number of days ≥ 1, got {keep!r}"
            )
        region, zone_mode, smart = _lead_settings(raw, where)
        try:
            automations = automation_settings(raw, where, tz, platforms)
            admin_channel = channel_per_platform(raw, "admin_channel", where, platforms)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        organizations.append(
            OrganizationConfig(
                key=key,
                name=str(raw.get("name", key)),
                timezone=tz,
                quiet_hours=list(quiet) if quiet else None,
                quiet_mode=mode,
                help_text=str(raw.get("help_text", "")),
                voice=voice,
                remind_after_minutes=remind,
                message_retention_days=keep,
                region=region,
                quiet_hours_zone=zone_mode,
                gsm_smart_quotes=smart,
                automations=automations,
                admin_channel=admin_channel,
                declared=frozenset(raw),
            )
        )
    org_keys = {o.key for o in organizations}
    regions = {o.key: o.region for o in organizations}

    members = []
    accounts: dict[tuple[str, str, str], str] = {}
    for key, raw in _table(data, "members").items():
        where = f"members.{key}"
        _known_keys(raw, where, MEMBER_KEYS | {p + USER_SUFFIX for p in platforms})
        org = _org_ref(raw, where, org_keys)
        role = raw.get("role", "agent")
        if role not in ROLES:
            raise ConfigError(f"{where}.role must be one of {', '.join(ROLES)}, got {role!r}")
        notify = raw.get("notify", "mentions")
        if notify not in NOTIFY_MODES:
            raise ConfigError(
                f"{where}.notify must be one of {', '.join(NOTIFY_MODES)}, got {notify!r}"
            )
        identities = _by_platform(raw, platforms, USER_SUFFIX)
        for platform, user_id in identities.items():
            holder = accounts.setdefault((org, platform, user_id), key)
            if holder != key:
                raise ConfigError(
                    f"{where}.{platform}{USER_SUFFIX}: {user_id!r} is already members.{holder}'s"
                    " (one account is one member of an organization)"
                )
        members.append(
            MemberConfig(
                key=key,
                organization=org,
                name=str(raw.get("name", key)),
                role=role,
                identities=identities,
                notify=notify,
            )
        )
    member_keys = {(m.organization, m.key) for m in members}
    for org in organizations:
        for key in org.automations.get("escalate_to", []):
            if (org.key, key) not in member_keys:
                raise ConfigError(
                    f"organizations.{org.key}.automations.escalate_to: no member {key!r} "
                    f"in {org.key!r}"
                )

    lines = []
    for raw_phone, raw in _table(data, "lines").items():
        where = f'lines."{raw_phone}"'
        _known_keys(raw, where, LINE_KEYS | {p + CHANNEL_SUFFIX for p in platforms})
        org = _org_ref(raw, where, org_keys)
        try:
            phone = normalize_phone(raw_phone, regions[org])
        except InvalidPhone as exc:
            raise ConfigError(f"{where}: {exc}") from None
        assignee = _opt_str(raw, "default_assignee")
        if assignee and (org, assignee) not in member_keys:
            raise ConfigError(f"{where}.default_assignee: no member {assignee!r} in {org!r}")
        mode = raw.get("reply_mode", "direct")
        if mode not in REPLY_MODES:
            raise ConfigError(f"{where}.reply_mode must be 'direct' or 'explicit', got {mode!r}")
        lines.append(
            LineConfig(
                phone=phone,
                organization=org,
                label=str(raw.get("label", "")),
                routes=_by_platform(raw, platforms, CHANNEL_SUFFIX),
                default_assignee=assignee,
                reply_mode=mode,
            )
        )
    return Directory(organizations, lines, members, declared=True)


def _known_keys(raw: dict[str, Any], where: str, known: frozenset[str] | set[str]) -> None:
    for key in raw:
        if key not in known:
            raise ConfigError(f"{where}.{key}: unknown key; expected one of {sorted(known)}")


def _by_platform(raw: dict[str, Any], platforms: tuple[str, ...], suffix: str) -> dict[str, str]:
    """The `<platform><suffix>` keys of a table as {platform: value}."""
    found = {p: _opt_str(raw, p + suffix) for p in platforms}
    return {p: value for p, value in found.items() if value is not None}


def _lead_settings(raw: dict[str, Any], where: str) -> tuple[str, str, bool]:
    """region, quiet_hours_zone and gsm_smart_quotes of an organization table."""
    region = raw.get("region", "US")
    if not (isinstance(region, str) and region.upper() in phonenumbers.SUPPORTED_REGIONS):
        raise ConfigError(
            f'{where}.region must be a two-letter country code such as "US" or "GB", got {region!r}'
        )
    zone_mode = raw.get("quiet_hours_zone", "organization")
    if zone_mode not in QUIET_HOURS_ZONES:
        raise ConfigError(
            f"{where}.quiet_hours_zone must be 'organization' or 'lead', got {zone_mode!r}"
        )
    smart = raw.get("gsm_smart_quotes", False)
    if not isinstance(smart, bool):
        raise ConfigError(f"{where}.gsm_smart_quotes must be true or false, got {smart!r}")
    return region.upper(), zone_mode, smart


def _table(data: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"[{name}] must be a table")
    for key, value in table.items():
        if not isinstance(value, dict):
            raise ConfigError(f"[{name}.{key}] must be a table")
    return table


def _org_ref(raw: dict[str, Any], where: str, org_keys: set[str]) -> str:
    org = raw.get("organization")
    if not org:
        raise ConfigError(f"{where}.organization is required")
    if org not in org_keys:
        raise ConfigError(f"{where}.organization: no [organizations.{org}] table")
    return str(org)


def _opt_str(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return str(value) if value not in (None, "") else None
