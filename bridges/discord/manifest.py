"""The `/sms` application commands as Discord receives them. manifests/discord.json is
this output; regenerate it after changing bridges/discord/commands.py:

    python -m bridges.discord.manifest > manifests/discord.json"""

from __future__ import annotations

import json
from typing import Any, cast

import discord
from discord import app_commands

from bridges.discord.actions import Actions
from bridges.discord.commands import SmsGroup


def definitions() -> list[dict[str, Any]]:
    # A client that never connects: the tree needs one to render the payloads.
    tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    tree.add_command(SmsGroup(cast(Actions, None)))
    return [command.to_dict(tree) for command in tree.get_commands()]


if __name__ == "__main__":
    print(json.dumps(definitions(), indent=2, ensure_ascii=False))
