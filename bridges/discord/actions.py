"""What app commands and components do: acknowledge within Discord's 3 s, turn the
interaction into the core's (Actor, ChatRef, Command), call the façade, render its result
to the member ephemerally. Shared by the `/sms` group and the persistent components."""

from __future__ import annotations

import io
import logging
from dataclasses import replace
from typing import Any

import discord

from bot.domain.contacts import profile_problem, read_field_lines
from bot.facade import Facade
from bot.results import Drafted, FileReady, Listed, Queued, Refused, Reported, Result
from bot.types import Actor, ChatRef, LeadChange, LeadProfile
from bot.warn_once import WarnOncePerMinute
from bridges.discord import render
from bridges.discord.components import DraftModal, draft_text, draft_view
from bridges.discord.lead_form import LeadModal

log = logging.getLogger(__name__)
PLATFORM = "discord"


def actor_for(user: discord.abc.User) -> Actor:
    return Actor(PLATFORM, str(user.id), user.display_name)


async def thread_parent(client: discord.Client, channel_id: int) -> tuple[int, int | None]:
    """(parent channel, thread) for a thread; (channel, None) for anything else."""
    channel: Any = client.get_channel(channel_id)
    if channel is None:
        try:
            channel = await client.fetch_channel(channel_id)
        except discord.HTTPException:
            return channel_id, None
    if isinstance(channel, discord.Thread) and channel.parent_id is not None:
        return channel.parent_id, channel.id
    return channel_id, None


def _items_embed(listed: Listed) -> discord.Embed | None:
    """Inbox and search results, each linking its Discord thread when there is one."""
    if not listed.items:
        return None
    lines = []
    for item in listed.items:
        conv = item.conversation
        link = next((f" · <#{t}>" for p, _c, t in item.threads if p == PLATFORM), "")
        who = conv.assignee.name if conv.assignee else "unassigned"
        unread = f" · {conv.unread_count} unread" if conv.unread_count else ""
        lines.append(f"• **{conv.lead_display}** · {conv.state} · {who}{unread}{link}")
        if conv.preview:  # Discord shows the time in the reader's own zone
            lines.append(f"  *{conv.preview}* · <t:{int(conv.last_message_at.timestamp())}:R>")
    more = listed.total - len(listed.items)
    if more > 0:
        lines.append(f"…and {more} more.")
    return discord.Embed(description="\n".join(lines)[:4000])


class Actions:
    def __init__(self, facade: Facade, client: discord.Client, home_guilds: set[int]) -> None:
        self.facade = facade
        self.client = client
        self.home_guilds = home_guilds
        self.warnings = WarnOncePerMinute(log)

    async def where(
        self, interaction: discord.Interaction[Any], *, header: bool = False
    ) -> ChatRef:
        """The chat place of an interaction. On a text channel's header card the thread
        is the one started from that message, which Discord gives the message's id."""
        guild = str(interaction.guild_id) if interaction.guild_id else None
        channel = interaction.channel
        if isinstance(channel, discord.Thread) and channel.parent_id is not None:
            return ChatRef(PLATFORM, str(channel.parent_id), str(channel.id), workspace=guild)
        channel_id = interaction.channel_id or 0
        if header and interaction.message is not None:
            return ChatRef(PLATFORM, str(channel_id), str(interaction.message.id), workspace=guild)
        if isinstance(channel, discord.abc.GuildChannel):
            return ChatRef(PLATFORM, str(channel_id), workspace=guild)
        parent, thread = await thread_parent(self.client, channel_id)
        return ChatRef(PLATFORM, str(parent), str(thread) if thread else None, workspace=guild)

    async def _defer(self, interaction: discord.Interaction[Any], *, update: bool = False) -> bool:
        """Acknowledge first: Discord drops interactions unanswered after 3 s. An
        interaction replayed after a gateway resume was acknowledged already and Discord
        refuses a second acknowledgement, so its work never runs twice. An interaction
        from a guild none of our routes is in is not ours to answer."""
        guild = interaction.guild_id
        if self.home_guilds and guild not in self.home_guilds:
            self.warnings.warn(
                f"guild:{guild}", "discord: ignored an interaction from guild %s", guild
            )
            return False
        try:
            if update:
                await interaction.response.defer()
            else:
                await interaction.response.defer(ephemeral=True, thinking=True)
        except (discord.HTTPException, discord.InteractionResponded) as exc:
            log.info("interaction %s not acknowledged (%s); skipping it", interaction.id, exc)
            return False
        return True

    async def out_of_date(self, interaction: discord.Interaction[Any], what: str) -> None:
        """A button or form none of ours reads (from an older release, or tampered with):
        say so instead of leaving Discord's "This interaction failed"."""
        if await self._defer(interaction):
            await self._answer(
                interaction,
                f"⛔ This {what} is out of date; nothing was done. "
                "Use the conversation's card or `/sms` again.",
            )

    async def _answer(self, interaction: discord.Interaction[Any], result: Result | str) -> None:
        match result:
            case str():
                text, embed = result, None
            case Refused():
                text, embed = f"⛔ {result.text}", None
            case Listed():
                text, embed = result.text, _items_embed(result)
            case _:
                text, embed = result.text, None
        await self._follow_up(interaction, text, embed=embed)

    async def _follow_up(
        self,
        interaction: discord.Interaction[Any],
        text: str,
        *,
        embed: discord.Embed | None = None,
        file: discord.File | None = None,
    ) -> None:
        """A private answer, in as many messages as Discord needs (the help and a big
        team's report pass 2,000 characters); the embed or file comes with the last."""
        parts = render.pieces(text)
        try:
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                await interaction.followup.send(
                    part,
                    embed=embed if last and embed else discord.utils.MISSING,
                    file=file if last and file else discord.utils.MISSING,
                    ephemeral=True,
                    allowed_mentions=discord.AllowedMentions.none(),
                )
        except discord.HTTPException as exc:
            log.warning("could not answer interaction %s: %s", interaction.id, exc)

    async def _show_report(self, interaction: discord.Interaction[Any], report: Reported) -> None:
        """The figures with the chart attached, for the member who asked."""
        chart = discord.File(io.BytesIO(report.chart), filename=report.filename)
        await self._follow_up(interaction, report.text, file=chart)

    async def command(
        self, interaction: discord.Interaction[Any], text: str, *, header: bool = False
    ) -> None:
        """Run `/sms <text>` for the member who interacted."""
        if not await self._defer(interaction):
            return
        try:
            where = await self.where(interaction, header=header)
            result = await self.facade.command(actor_for(interaction.user), where, text)
            match result:
                case Drafted(conversation_id=int(conversation_id)):
                    await self._show_draft(interaction, result, conversation_id)
                case Reported():
                    await self._show_report(interaction, result)
                case FileReady():
                    await interaction.followup.send(
                        f"📎 {result.text}",
                        file=discord.File(io.BytesIO(result.data), filename=result.filename),
                        ephemeral=True,
                    )
                case _:
                    await self._answer(interaction, result)
        except Exception:
            log.exception("/sms %s failed", text.split(" ", 1)[0])
            await self._answer(
                interaction, "⚠️ smsbridge hit an error; check the thread before trying again."
            )

    async def header_button(self, interaction: discord.Interaction[Any], action: str) -> None:
        if action == "lead":
            await self.open_lead_form(interaction)
            return
        await self.command(interaction, action, header=True)

    async def open_lead_form(self, interaction: discord.Interaction[Any]) -> None:
        """Edit lead: the form, filled with what we know (a modal must be the answer
        itself, so no defer first)."""
        conversation_id = int(str((interaction.data or {}).get("custom_id", "")).split(":")[-1])
        form = await self.facade.lead_form(actor_for(interaction.user), conversation_id)
        if isinstance(form, Refused):
            await interaction.response.send_message(f"⛔ {form.text}", ephemeral=True)
            return
        await interaction.response.send_modal(LeadModal(form))

    async def lead_submitted(
        self,
        interaction: discord.Interaction[Any],
        conversation_id: int,
        change: LeadChange,
        other: str | None,
    ) -> None:
        if not await self._defer(interaction):
            return
        actor = actor_for(interaction.user)
        problem = profile_problem({k: v or None for k, v in vars(change).items() if k != "fields"})
        if other is not None and problem is None:
            try:
                fields = read_field_lines(other)
            except ValueError as exc:
                problem = str(exc)
            else:
                # A field no longer in the box is removed (as the form showed them all).
                form = await self.facade.lead_form(actor, conversation_id)
                shown = form.fields if isinstance(form, LeadProfile) else {}
                change = replace(change, fields={k: "" for k in shown} | fields)
        if problem:
            # What they typed goes back with the reason: nothing of it is lost.
            typed = f"\n```\n{other.strip()[:1500]}\n```" if other and other.strip() else ""
            await self._answer(interaction, Refused(f"Nothing was changed: {problem}.{typed}"))
            return
        result = await self.facade.edit_lead(actor, conversation_id, change)
        await self._answer(interaction, result)

    async def assign_picked(
        self, interaction: discord.Interaction[Any], user_id: int | None
    ) -> None:
        await self.command(
            interaction, f"assign <@{user_id}>" if user_id else "unassign", header=True
        )

    async def _show_draft(
        self, interaction: discord.Interaction[Any], draft: Drafted, conversation_id: int
    ) -> None:
        """A draft (AI or snippet) only the requester sees, with Send / Edit / Discard."""
        title = "✨ AI draft" if draft.ai else f"📋 Snippet `{draft.snippet or ''}`"
        embed = discord.Embed(title=f"{title} · only you can see this", description=draft.text)
        embed.set_footer(text=f"{draft.describe} · nothing is sent until you click")
        await interaction.followup.send(
            embed=embed, view=draft_view(conversation_id, draft.ai), ephemeral=True
        )

    async def send_draft(
        self,
        interaction: discord.Interaction[Any],
        conversation_id: int,
        text: str,
        *,
        ai: bool,
        edit_card: bool,
    ) -> None:
        """Send (from the card) or Edit → submit (from the modal) a draft."""
        if not await self._defer(interaction, update=edit_card):
            return
        result: Result
        # The draft card is the draft's id (a modal opened from it carries it too): a
        # second click, or Send after the Edit box's Send, sends nothing more.
        card = interaction.message
        try:
            result = await self.facade.send_draft(
                actor_for(interaction.user),
                await self.where(interaction),
                conversation_id,
                text,
                ai=ai,
                once=f"draft:{card.id}" if card is not None else None,
            )
        except Exception:
            log.exception("sending a draft failed")
            result = Refused("smsbridge hit an error; the draft was not sent.")
        if edit_card and isinstance(result, Queued):
            await interaction.edit_original_response(
                content=f"✉️ {result.text}", embed=None, view=None
            )
        else:
            await self._answer(interaction, result)

    async def draft_send(
        self, interaction: discord.Interaction[Any], conversation_id: int, ai: bool
    ) -> None:
        """Send on the draft card: the text in its embed goes; the card says so."""
        text = draft_text(interaction.message)
        await self.send_draft(interaction, conversation_id, text, ai=ai, edit_card=True)

    async def draft_edit(
        self, interaction: discord.Interaction[Any], conversation_id: int, ai: bool
    ) -> None:
        """Edit: the draft in a modal; its submit comes back as `send_draft`."""
        text = draft_text(interaction.message)
        await interaction.response.send_modal(DraftModal(conversation_id, text, ai))

    async def draft_discard(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.edit_message(
            content=self.facade.discard_draft().text, embed=None, view=None
        )

    async def retry(self, interaction: discord.Interaction[Any], message_id: int) -> None:
        if not await self._defer(interaction):
            return
        result: Result
        try:
            result = await self.facade.retry(actor_for(interaction.user), message_id)
        except Exception:
            log.exception("retry of message %s failed", message_id)
            result = Refused("smsbridge hit an error; check the thread before retrying.")
        await self._answer(interaction, result)
        if isinstance(result, Queued) and interaction.message is not None:
            try:  # the button has done its job; leave the notice without it
                await interaction.message.edit(view=None)
            except discord.HTTPException as exc:
                log.info("could not remove the Retry button: %s", exc)
