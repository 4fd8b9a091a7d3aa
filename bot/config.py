"""Configuration contract of DESIGN.md: environment variables (and `.env`) plus the TOML
file that bot/directory_file.py reads.

Misconfiguration raises `ConfigError` naming the variable or TOML key."""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import plugins
from bot.directory_file import ConfigError, Directory, parse_directory
from bot.plugins import Kind
from storage.db import POOLERS
from storage.urls import normalize_url


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
