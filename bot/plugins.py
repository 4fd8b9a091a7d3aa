"""How outside systems plug into the core without the core naming them.

A bridge is one folder in bridges/ plus one line in pyproject.toml:

    [project.entry-points."smsbridge.bridges"]
    slack = "bridges.slack:bridge"

The name is the platform (the key of its identities, its deliveries' lane, its TOML keys);
the object is a `Bridge`: cheap to import (platform libraries are imported only by
`create`), it reads its own environment variables and, when they are set, makes the
running `Plugin`. A CLI subcommand is one line in the `smsbridge.commands` group naming a
`Command`. bot/app.py and bot/cli.py find both here at start-up."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from bot.ports import ChatBridge, Drafter, SmsGateway

if TYPE_CHECKING:
    from aiohttp import web

    from bot.config import Settings
    from bot.facade import Facade

BRIDGES = "smsbridge.bridges"
COMMANDS = "smsbridge.commands"

EXIT_REFUSED = 1
EXIT_CONFIG = 2

S = TypeVar("S")


class Kind(StrEnum):
    """What a bridge is to the core; the order is the order they start in (chat bridges
    may fetch media through the SMS bridge)."""

    SMS = "sms"
    CHAT = "chat"
    AI = "ai"


class Env:
    """The environment a bridge reads its settings from (a blank value counts as unset)."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values

    def get(self, name: str) -> str | None:
        value = self.values.get(name, "").strip()
        return value or None


# The bytes of an inbound MMS media URL, fetched by the SMS bridge that is on (None when
# it cannot or may not be fetched: show a link).
FetchMedia = Callable[[str], Awaitable["bytes | None"]]


@dataclass(frozen=True)
class Context:
    """What the wiring hands a bridge it creates: the one door into the core, the
    settings (public URL, directory), and inbound MMS media for chat bridges."""

    facade: Facade
    settings: Settings
    fetch_media: FetchMedia


class Plugin(Protocol):
    """A bridge that runs: its web routes (on our server) and its life cycle."""

    def routes(self) -> list[web.RouteDef]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class ChatPlugin(Plugin, Protocol):
    """Kind.CHAT: mirrors conversations into threads and turns thread replies into SMS."""

    platform: str
    bridge: ChatBridge


class SmsPlugin(Plugin, Protocol):
    """Kind.SMS: receives webhooks (handing them to Context.facade), sends SMS, fetches
    MMS media."""

    gateway: SmsGateway

    async def fetch_media(self, url: str) -> bytes | None:
        """An inbound MMS media URL's bytes, for a chat bridge to upload; None when it
        is not the carrier's own or cannot be fetched."""
        ...


class AiPlugin(Plugin, Protocol):
    """Kind.AI: writes reply drafts."""

    drafter: Drafter


class Bridge(Protocol[S]):
    """What an entry point of group `smsbridge.bridges` names."""

    kind: Kind

    def read_settings(self, env: Env) -> S | None:
        """None when none of its variables is set (the platform is off); ConfigError
        naming the missing variable when it is half configured."""
        ...

    def describe(self, settings: S) -> str:
        """How it runs, for the start-up report (`on`, `on (Socket Mode)`, …)."""
        ...

    def create(self, settings: S, context: Context) -> Any:
        """The running plugin of its kind: ChatPlugin, SmsPlugin or AiPlugin."""
        ...


@dataclass(frozen=True)
class Command:
    """What an entry point of group `smsbridge.commands` names: `smsbridge NAME …`."""

    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    # Returns the exit code: 0, EXIT_REFUSED, or EXIT_CONFIG (a ConfigError raised from
    # it is printed and exits EXIT_CONFIG too).
    run: Callable[[argparse.Namespace], int]
    log_level: str = "INFO"


def platform_names() -> frozenset[str]:
    """The installed bridges' platform names, without importing any of them."""
    return frozenset(ep.name for ep in entry_points(group=BRIDGES))


@functools.cache
def bridges() -> Mapping[str, Bridge[Any]]:
    """The installed bridges by platform name (their light modules are imported)."""
    return {ep.name: ep.load() for ep in sorted(entry_points(group=BRIDGES), key=_name)}


def bridges_of(kind: Kind) -> list[str]:
    """The installed bridges of one kind, by name (sorted)."""
    return [name for name, bridge in bridges().items() if bridge.kind == kind]


def chat_platforms() -> tuple[str, ...]:
    """The installed chat platforms: members' identities and lines' routes are keyed by
    these names (`<platform>_user`, `<platform>_channel` in the TOML)."""
    return tuple(bridges_of(Kind.CHAT))


def commands() -> dict[str, Command]:
    """The contributed CLI subcommands by name (their modules are imported: keep them
    light, like a bridge's)."""
    return {ep.name: ep.load() for ep in sorted(entry_points(group=COMMANDS), key=_name)}


def _name(ep: Any) -> str:
    return str(ep.name)
