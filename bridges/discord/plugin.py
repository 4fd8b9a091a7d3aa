"""The running Discord bridge: the discord.py client and its life cycle.

It talks to Discord over the gateway and REST only, so it serves no web route.
DISCORD_API_URL / DISCORD_GATEWAY_URL point discord.py somewhere else (tests use a
loopback stand-in)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import warnings

import yarl

with warnings.catch_warnings():  # discord.py imports audioop (voice), deprecated in 3.11+
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord  # noqa: F401  (first import, under the filter)
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.connections import unwatch_connection, watch_connection
from bot.plugins import Context
from bridges.discord import DiscordSettings
from bridges.discord.chat import DiscordChat
from bridges.discord.client import BridgeClient

log = logging.getLogger(__name__)

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def rest_base(api_url: str) -> str:
    """discord.py's REST base from DISCORD_API_URL; the API version is added when the
    URL does not name one."""
    url = api_url.rstrip("/")
    return url if re.search(r"/api/v\d+$", url) else f"{url}/api/v10"


def point_discord_py(settings: DiscordSettings) -> tuple[str, yarl.URL]:
    """Apply the URL overrides; returns the previous values for `stop` to put back.
    discord.py keeps both as class attributes: one process talks to one Discord."""
    previous = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    if settings.api_url:
        Route.BASE = rest_base(settings.api_url)
    if settings.gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)
    return previous


class DiscordPlugin:
    platform = "discord"
    # How long discord.py waits after READY for more GUILD_CREATEs before it is ready;
    # tests with one guild shorten it.
    guild_ready_timeout = 2.0

    def __init__(self, settings: DiscordSettings, context: Context) -> None:
        self.settings = settings
        routed = frozenset(
            int(channel)
            for line in context.settings.directory.lines
            if (channel := line.routes.get(self.platform)) and channel.isdigit()
        )
        self.client = BridgeClient(
            context.facade, routed, guild_ready_timeout=self.guild_ready_timeout
        )
        self.bridge = DiscordChat(self.client)
        self._gateway: asyncio.Task[None] | None = None
        self._previous: tuple[str, yarl.URL] | None = None

    def routes(self) -> list[object]:
        return []

    async def start(self) -> None:
        self._previous = point_discord_py(self.settings)
        await self.client.login(self.settings.bot_token)
        self._gateway = asyncio.create_task(self.client.connect(reconnect=True), name="discord")
        ready = asyncio.create_task(self.client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, self._gateway}, timeout=READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            if self._gateway in done:
                self._gateway.result()  # raises why the gateway stopped (bad token, intents)
            raise RuntimeError(f"Discord gateway not ready within {READY_TIMEOUT:.0f}s")
        watch_connection("discord", self._connected)
        guilds = await self.client.sync_commands()
        log.info(
            "discord: connected as %s; /sms synced to %d guild(s)", self.client.user, len(guilds)
        )

    async def _connected(self) -> bool:
        ws = self.client.ws
        return self.client.is_ready() and ws is not None and ws.open

    async def stop(self) -> None:
        unwatch_connection("discord")
        await self.client.close()
        if self._gateway is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._gateway, STOP_TIMEOUT)
            self._gateway = None
        if self._previous is not None:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._previous
            self._previous = None
