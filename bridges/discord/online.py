"""Discord's part of `smsbridge check --online`: the bot token logs in and the bot can see
every routed channel. REST only: no gateway connection is opened."""

from __future__ import annotations

import aiohttp
import discord
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.config import Settings
from bot.ops.online import Check
from bridges.discord import DiscordSettings
from bridges.discord.plugin import point_discord_py


async def check(settings: Settings) -> list[Check]:
    discord_settings: DiscordSettings | None = settings.bridges.get("discord")
    if discord_settings is None:
        return []
    previous = point_discord_py(discord_settings)
    client = discord.Client(intents=discord.Intents.none())
    try:
        try:
            await client.login(discord_settings.bot_token)
        except discord.LoginFailure:
            return [Check("discord", False, "DISCORD_BOT_TOKEN refused by Discord (HTTP 401)")]
        except (aiohttp.ClientError, OSError) as exc:
            return [Check("discord", False, f"cannot reach Discord (DISCORD_API_URL): {exc}")]
        results = [Check("discord", True, f"logged in as {client.user}")]
        routed = settings.directory.channels("discord")
        for channel_id in routed:
            name = f"discord {channel_id}"
            try:
                channel = await client.fetch_channel(int(channel_id))
            except (discord.NotFound, ValueError):
                results.append(Check(name, False, "no such channel"))
            except discord.Forbidden:
                results.append(Check(name, False, "the bot may not see it: check its role"))
            else:
                results.append(Check(name, True, f"#{getattr(channel, 'name', channel_id)}"))
        return results
    finally:
        await client.close()
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = previous
