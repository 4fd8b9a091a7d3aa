"""Discord, on discord.py: each conversation a forum post (tags show its state) or a
thread under a header message in a text channel; thread replies go out as SMS; the `/sms`
command group and persistent buttons act on the conversation.

This module is what the `discord` entry point names: it reads the DISCORD_* variables
and imports discord.py only when Discord is on (bridges/discord/plugin.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.config import ConfigError
from bot.plugins import Context, Env, Kind

if TYPE_CHECKING:
    from bridges.discord.plugin import DiscordPlugin


@dataclass(frozen=True)
class DiscordSettings:
    bot_token: str
    api_url: str | None = None
    gateway_url: str | None = None


class DiscordBridge:
    kind = Kind.CHAT

    def read_settings(self, env: Env) -> DiscordSettings | None:
        token = env.get("DISCORD_BOT_TOKEN")
        api_url, gateway_url = env.get("DISCORD_API_URL"), env.get("DISCORD_GATEWAY_URL")
        if token:
            return DiscordSettings(token, api_url, gateway_url)
        if api_url or gateway_url:
            raise ConfigError(
                "DISCORD_BOT_TOKEN is required when DISCORD_API_URL or DISCORD_GATEWAY_URL is set"
            )
        return None

    def describe(self, settings: DiscordSettings) -> str:
        return "on"

    def create(self, settings: DiscordSettings, context: Context) -> DiscordPlugin:
        from bridges.discord.plugin import DiscordPlugin

        return DiscordPlugin(settings, context)


bridge = DiscordBridge()
