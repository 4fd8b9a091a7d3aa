"""Configuration contract of DESIGN.md: environment variables (and `.env`) plus a TOML
file naming organizations, lines with their routes, and members.

Misconfiguration raises `ConfigError` naming the variable or TOML key."""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from bot import plugins
from bot.automation_config import automation_settings, channel_per_platform
from bot.domain.automations import NOTIFY_MODES
from bot.domain.compliance import parse_quiet_hours
from bot.domain.localtime import QUIET_HOURS_ZONES
from bot.domain.phones import InvalidPhone, normalize_phone
from bot.domain.prompt import Voice
from bot.plugins import Kind, chat_platforms
from storage.db import POOLERS
from storage.urls import normalize_url

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


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite+aiosqlite:///smsbridge.db"
    database_pooler: str | None = None  # "pgbouncer": behind a transaction-mode pooler
    public_url: str = "http://localhost:8080"
    host: str = "0.0.0.0"
    port: int = 8080
    undo_seconds: float = 5.0
    sms_per_second: float = 1.0  # per line: long codes send about one segment a second
    # How long a process may hold a delivery before the others take it over (it renews
    # the lease while it works; a dead process stops renewing).
    lease_seconds: float = 120.0
    # How long a stop may take before what still runs is left to the lease.
    shutdown_seconds: float = 8.0
    # Delivery attempts, finished deliveries and event keys older than this are pruned.
    retention_days: int = 30
    # After downtime, threads active this recently are read back for what was typed.
    catchup_hours: float = 24.0
    # Chat platforms another process of this deployment serves (its plugin is not
    # running here): their posts are still queued here, and that process sends them.
    remote_chat: frozenset[str] = frozenset()
    # The settings of each bridge that is on, by platform name, as the bridge read them
    # (see bot/plugins.py); a platform without credentials is absent.
    bridges: Mapping[str, Any] = field(default_factory=dict)
    directory: Directory = field(default_factory=Directory)
    config_path: str | None = None
    # When set, GET /metrics wants `Authorization: Bearer <token>`; otherwise it is open.
    metrics_token: str | None = None

    def chat_platforms(self) -> set[str]:
        """Platforms whose posts are queued: those configured here, and those another
        process serves (SMSBRIDGE_CHAT_PLATFORMS)."""
        return {n for n in plugins.bridges_of(Kind.CHAT) if n in self.bridges} | set(
            self.remote_chat
        )

    def platforms_report(self) -> list[str]:
        """One line per installed bridge, SMS first, then chat, then AI."""
        report = []
        for kind in Kind:
            for name in plugins.bridges_of(kind):
                if name in self.bridges:
                    state = plugins.bridges()[name].describe(self.bridges[name])
                elif name in self.remote_chat:
                    state = "served by another process (its posts are queued here)"
                else:
                    state = "off (no credentials)"
                report.append(f"{name}: {state}")
        return report


def load_settings(env: dict[str, str] | None = None, *, read_dotenv: bool = True) -> Settings:
    if env is None:
        if read_dotenv:
            from dotenv import load_dotenv

            # The working folder's, as documented (not one found above the package).
            load_dotenv(Path.cwd() / ".env", override=False)
        env = dict(os.environ)

    get = plugins.Env(env).get
    bridges = {}
    for name, bridge in plugins.bridges().items():
        read = bridge.read_settings(plugins.Env(env))
        if read is not None:
            bridges[name] = read
    for kind in (Kind.SMS, Kind.AI):
        on = [name for name in plugins.bridges_of(kind) if name in bridges]
        if len(on) > 1:
            raise ConfigError(f"only one {kind} bridge can be on; credentials are set for {on}")

    port_text = get("SMSBRIDGE_PORT") or get("PORT") or "8080"
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(f"SMSBRIDGE_PORT must be a number, got {port_text!r}") from None
    undo = _number(get, "SMSBRIDGE_UNDO_SECONDS", "5", at_least=0, unit=" of seconds")

    sms_rate = _number(get, "SMSBRIDGE_SMS_PER_SECOND", "1", above=0)

    remote_chat = frozenset(
        p.strip().lower() for p in (get("SMSBRIDGE_CHAT_PLATFORMS") or "").split(",") if p.strip()
    )
    chat = plugins.bridges_of(Kind.CHAT)
    if remote_chat - set(chat):
        raise ConfigError(
            f"SMSBRIDGE_CHAT_PLATFORMS lists chat platforms ({', '.join(chat)}), got "
            f"{', '.join(sorted(remote_chat))}"
        )

    lease = _number(get, "SMSBRIDGE_LEASE_SECONDS", "120", at_least=1, unit=" of seconds")

    shutdown = _number(get, "SMSBRIDGE_SHUTDOWN_SECONDS", "8", above=0, unit=" of seconds")

    retention_text = get("SMSBRIDGE_RETENTION_DAYS") or "30"
    if not retention_text.isdigit() or int(retention_text) < 1:
        raise ConfigError(
            f"SMSBRIDGE_RETENTION_DAYS must be a whole number of days ≥ 1, got {retention_text!r}"
        )

    catchup = _number(get, "SMSBRIDGE_CATCHUP_HOURS", "24", at_least=0, unit=" of hours")

    public_url = (get("SMSBRIDGE_PUBLIC_URL") or "http://localhost:8080").rstrip("/")
    if not public_url.startswith(("http://", "https://")):
        raise ConfigError(f"SMSBRIDGE_PUBLIC_URL must start with http:// or https://: {public_url}")

    config_path = get("SMSBRIDGE_CONFIG")
    if config_path is None and Path("smsbridge.toml").exists():
        config_path = "smsbridge.toml"
    directory = Directory()
    if config_path:
        path = Path(config_path)
        if not path.exists():
            raise ConfigError(f"SMSBRIDGE_CONFIG names {config_path}, which does not exist")
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"SMSBRIDGE_CONFIG {config_path}: {exc}") from None
        directory = parse_directory(data)

    database_url, database_pooler = database_settings(get)
    return Settings(
        database_url=database_url,
        database_pooler=database_pooler,
        public_url=public_url,
        host=get("SMSBRIDGE_HOST") or "0.0.0.0",
        port=port,
        undo_seconds=undo,
        sms_per_second=sms_rate,
        lease_seconds=lease,
        shutdown_seconds=shutdown,
        retention_days=int(retention_text),
        catchup_hours=catchup,
        remote_chat=remote_chat,
        bridges=bridges,
        directory=directory,
        config_path=config_path,
        metrics_token=get("SMSBRIDGE_METRICS_TOKEN") or None,
    )


def database_settings(get: Callable[[str], str | None]) -> tuple[str, str | None]:
    """SMSBRIDGE_DATABASE_URL, else the DATABASE_URL platforms set, on its async driver."""
    name = "SMSBRIDGE_DATABASE_URL" if get("SMSBRIDGE_DATABASE_URL") else "DATABASE_URL"
    try:
        url = normalize_url(get(name) or "sqlite+aiosqlite:///smsbridge.db")
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None
    pooler = (get("SMSBRIDGE_DATABASE_POOLER") or "").lower() or None
    if pooler not in (None, *POOLERS):
        raise ConfigError(f"SMSBRIDGE_DATABASE_POOLER must be pgbouncer or unset, got {pooler!r}")
    return url, pooler


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


def _number(
    get: Callable[[str], str | None],
    name: str,
    default: str,
    *,
    above: float | None = None,
    at_least: float | None = None,
    unit: str = "",
) -> float:
    """A number variable within its bound, or a ConfigError saying what it takes."""
    text = get(name) or default
    try:
        value = float(text)
        if not math.isfinite(value):
            raise ValueError
        if (above is not None and value <= above) or (at_least is not None and value < at_least):
            raise ValueError
    except ValueError:
        bound = f"> {above:g}" if above is not None else f"≥ {at_least:g}"
        raise ConfigError(f"{name} must be a number{unit} {bound}, got {text!r}") from None
    return value
