"""The discord.py client: gateway intents, persistent components, the `/sms` command
tree, and the gateway events it hands to ThreadEvents."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
from discord import app_commands

from bot.facade import Facade
from bridges.discord.actions import Actions
from bridges.discord.commands import SmsGroup
from bridges.discord.components import (
    DYNAMIC_ITEMS,
    ComponentClient,
    draft_submitted,
    is_known,
)
from bridges.discord.events import ThreadEvents, catch_up
from bridges.discord.lead_form import lead_submitted

log = logging.getLogger(__name__)


def intents() -> discord.Intents:
    """Only what the bridge reads. Message content is privileged: turn it on for the
    application in the developer portal, or thread replies arrive empty."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.guild_reactions = True
    wanted.message_content = True
    return wanted


class BridgeClient(ComponentClient):
    def __init__(
        self, facade: Facade, routed: frozenset[int], *, guild_ready_timeout: float = 2.0
    ) -> None:
        # The bridge has no voice: no start-up warnings about voice libraries.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        # Longer rate-limit waits come back as RetryLater: the delivery worker reschedules
        # instead of holding a worker slot.
        super().__init__(
            intents=intents(),
            max_ratelimit_timeout=30.0,
            guild_ready_timeout=guild_ready_timeout,
        )
        self.routed = routed
        # The guilds our routes are in: interactions from any other guild are ignored.
        self.home_guilds: set[int] = set()
        self.tree = app_commands.CommandTree(self)
        self.actions: Actions = Actions(facade, self, self.home_guilds)
        self.events = ThreadEvents(facade, self, routed)
        self.tree.add_command(SmsGroup(self.actions))
        self._catch_up: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        # Components carry their state in custom_id, so registering the templates is all a
        # header posted before a restart needs to keep working.
        self.add_dynamic_items(*DYNAMIC_ITEMS)

    async def sync_commands(self) -> list[int]:
        """Put `/sms` on every guild a route points at (guild commands update at once;
        global ones can take an hour). Returns the guild ids."""
        guilds: set[int] = set()
        for channel_id in sorted(self.routed):
            channel: Any = self.get_channel(channel_id)
            if channel is None:
                try:
                    channel = await self.fetch_channel(channel_id)
                except discord.HTTPException as exc:
                    log.warning("route channel %s is not visible to the bot: %s", channel_id, exc)
                    continue
            if getattr(channel, "guild", None) is not None:
                guilds.add(channel.guild.id)
        self.home_guilds.clear()
        self.home_guilds.update(guilds)
        for guild_id in sorted(guilds):
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            try:
                await self.tree.sync(guild=guild)
            except discord.HTTPException as exc:
                log.warning("could not sync /sms to guild %s: %s", guild_id, exc)
        return sorted(guilds)

    async def on_ready(self) -> None:
        # Every new gateway session (the first, or after a reconnect that could not
        # resume) follows a gap in which messages were not delivered to us.
        if self._catch_up is None or self._catch_up.done():
            self._catch_up = asyncio.create_task(catch_up(self.events), name="discord-catch-up")

    async def close(self) -> None:
        if self._catch_up is not None:
            self._catch_up.cancel()
            await asyncio.gather(self._catch_up, return_exceptions=True)
        await super().close()

    async def on_message(self, message: discord.Message) -> None:
        await self.events.on_message(message)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.type is discord.InteractionType.modal_submit:
            data = dict(interaction.data or {})
            submitted = draft_submitted(data)
            if submitted is not None:
                conversation_id, ai, text = submitted
                await self.actions.send_draft(
                    interaction, conversation_id, text, ai=ai, edit_card=False
                )
            elif (lead := lead_submitted(data)) is not None:
                await self.actions.lead_submitted(interaction, *lead)
            else:
                await self.actions.out_of_date(interaction, "form")
        elif interaction.type is discord.InteractionType.component:
            if not is_known(str((interaction.data or {}).get("custom_id", ""))):
                await self.actions.out_of_date(interaction, "button")

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        await self.events.on_raw_message_edit(payload)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self.events.on_raw_message_delete(payload)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self.events.on_raw_reaction_add(payload)
