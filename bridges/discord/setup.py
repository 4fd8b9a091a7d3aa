"""`smsbridge setup discord`: the invite URL with this bot's application id, the scopes
and exactly the permissions smsbridge uses."""

from __future__ import annotations

import argparse
import sys
from urllib.parse import urlencode

import aiohttp
import discord
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.config import Settings
from bridges.discord import DiscordSettings
from bridges.discord.plugin import point_discord_py

AUTHORIZE = "https://discord.com/oauth2/authorize?"
# Threads and forum posts per conversation, the lead's texts under the lead's name
# (webhooks), state tags on the forum (manage channels), status reactions.
PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    manage_threads=True,
    embed_links=True,
    read_message_history=True,
    add_reactions=True,
    manage_webhooks=True,
    manage_channels=True,
)


def invite_url(application_id: int) -> str:
    query = {
        "client_id": application_id,
        "scope": "bot applications.commands",
        "permissions": PERMISSIONS.value,
    }
    return AUTHORIZE + urlencode(query)


async def run(settings: Settings, _args: argparse.Namespace) -> int:
    discord_settings: DiscordSettings | None = settings.bridges.get("discord")
    if discord_settings is None:
        print("configuration error: DISCORD_BOT_TOKEN is not set", file=sys.stderr)
        return 2
    previous = point_discord_py(discord_settings)
    client = discord.Client(intents=discord.Intents.none())
    try:
        await client.login(discord_settings.bot_token)
        app = await client.application_info()
    except discord.LoginFailure:
        print("error: DISCORD_BOT_TOKEN refused by Discord (HTTP 401)", file=sys.stderr)
        return 1
    except (aiohttp.ClientError, OSError) as exc:
        print(f"error: cannot reach Discord (DISCORD_API_URL): {exc}", file=sys.stderr)
        return 1
    finally:
        await client.close()
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = previous
    print(f"# Invite {app.name} to your server (scopes bot, applications.commands):")
    print(invite_url(app.id))
    print("# Turn on the Message Content Intent under Bot in the developer portal.")
    return 0
