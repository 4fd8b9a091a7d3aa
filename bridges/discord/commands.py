"""The `/sms` application command group. Inside a conversation's thread the commands act
on that conversation; in the route channel itself they take a phone number. Every
subcommand is rebuilt as `/sms` text and parsed by the core's parser, so Slack and
Discord accept and refuse exactly the same things."""

from __future__ import annotations

import re
from typing import Any, Literal

import discord
from discord import app_commands

from bridges.discord.actions import Actions

Interaction = discord.Interaction[Any]
PHONE = "The lead's phone number, when used outside the conversation's thread"
MENTION_UNSAFE = re.compile(r"[<>|]")


# The settings `/sms settings` changes (bot.domain.commands.SETTINGS), offered as choices.
Setting = Literal[
    "timezone", "quiet_hours", "help_text", "remind_after_minutes", "voice",
    "business_hours", "away_message", "ack_message", "auto_close_after_days",
    "escalate_after_minutes", "escalate_to", "block_keywords",
]  # fmt: skip


class SmsGroup(app_commands.Group):
    def __init__(self, actions: Actions) -> None:
        super().__init__(
            name="sms",
            description="SMS conversations mirrored into this channel",
            guild_only=True,
        )
        self.actions = actions

    async def _run(self, interaction: Interaction, *words: str | None) -> None:
        await self.actions.command(interaction, " ".join(w for w in words if w))

    @app_commands.command(description="Make a teammate responsible for this conversation")
    @app_commands.describe(member="The teammate to assign")
    async def assign(self, interaction: Interaction, member: discord.User) -> None:
        await self._run(interaction, "assign", f"<@{member.id}>")

    @app_commands.command(description="Remove the assignee")
    @app_commands.describe(phone=PHONE)
    async def unassign(self, interaction: Interaction, phone: str | None = None) -> None:
        await self._run(interaction, "unassign", phone)

    @app_commands.command(description="Close this conversation")
    @app_commands.describe(phone=PHONE)
    async def close(self, interaction: Interaction, phone: str | None = None) -> None:
        await self._run(interaction, "close", phone)

    @app_commands.command(description="Reopen this conversation")
    @app_commands.describe(phone=PHONE)
    async def reopen(self, interaction: Interaction, phone: str | None = None) -> None:
        await self._run(interaction, "reopen", phone)

    @app_commands.command(description="Stop texting this lead (as if they replied STOP)")
    @app_commands.describe(phone=PHONE)
    async def optout(self, interaction: Interaction, phone: str | None = None) -> None:
        await self._run(interaction, "optout", phone)

    @app_commands.command(description="Allow texting this lead again (with their consent)")
    @app_commands.describe(phone=PHONE)
    async def optin(self, interaction: Interaction, phone: str | None = None) -> None:
        await self._run(interaction, "optin", phone)

    @app_commands.command(description="Cancel a reply that is still waiting to be sent")
    @app_commands.describe(phone=PHONE)
    async def cancel(self, interaction: Interaction, phone: str | None = None) -> None:
        await self._run(interaction, "cancel", phone)

    @app_commands.command(description="Ask the AI for a reply that only you see first")
    @app_commands.describe(instructions="What the reply should say or do")
    async def draft(self, interaction: Interaction, instructions: str | None = None) -> None:
        await self._run(interaction, "draft", instructions)

    @app_commands.command(description="Add an internal note; it is never sent")
    @app_commands.describe(text="The note")
    async def note(self, interaction: Interaction, text: str) -> None:
        await self._run(interaction, "note", text)

    @app_commands.command(description="Label this conversation")
    @app_commands.describe(action="Add, remove or list tags", name="The tag, like hot-lead")
    async def tag(
        self,
        interaction: Interaction,
        action: Literal["add", "remove", "list"],
        name: str | None = None,
    ) -> None:
        await self._run(interaction, "tag", action, name)

    @app_commands.command(description="Show a saved reply, or manage them")
    @app_commands.describe(
        name="The snippet's name", action="What to do (default: show)", text="Text to save"
    )
    async def snippet(
        self,
        interaction: Interaction,
        name: str | None = None,
        action: Literal["show", "add", "remove", "list"] = "show",
        text: str | None = None,
    ) -> None:
        await self._run(interaction, "snippet", None if action == "show" else action, name, text)

    @app_commands.command(description="Start a conversation, optionally with a first SMS")
    @app_commands.describe(phone="The lead's phone number", text="The first SMS")
    async def new(self, interaction: Interaction, phone: str, text: str | None = None) -> None:
        await self._run(interaction, "new", phone, text)

    @app_commands.command(description="Find leads and messages by name, number or words")
    @app_commands.describe(query="A name, email, number or words of a message")
    async def search(self, interaction: Interaction, query: str) -> None:
        await self._run(interaction, "search", query)

    # The method is not called `name`: a Group's `name` is its own name.
    @app_commands.command(name="name", description="Rename the lead of this conversation")
    @app_commands.describe(name="The lead's name, like Maria Lopez", phone=PHONE)
    async def rename(self, interaction: Interaction, name: str, phone: str | None = None) -> None:
        await self._run(interaction, "name", phone, name)

    @app_commands.command(description="Get the organization's leads as a CSV file")
    async def contacts(self, interaction: Interaction, action: Literal["export"]) -> None:
        await self._run(interaction, "contacts", action)

    @app_commands.command(description="List conversations")
    @app_commands.describe(show="Which conversations (default: open)")
    async def inbox(
        self,
        interaction: Interaction,
        show: Literal[
            "open", "unread", "mine", "unassigned", "closed", "needs-response", "all"
        ] = "open",
    ) -> None:
        await self._run(interaction, "inbox", show)

    @app_commands.command(description="Who may use smsbridge: add, change, remove, list (admins)")
    @app_commands.describe(
        action="What to do",
        user="The teammate (not for list)",
        role="Their role (add, role)",
        existing="link: the member, known on another platform, this account is theirs",
    )
    async def member(
        self,
        interaction: Interaction,
        action: Literal["add", "role", "remove", "list", "link"],
        user: discord.User | None = None,
        role: Literal["admin", "agent", "limited"] | None = None,
        existing: str | None = None,
    ) -> None:
        # The name rides in the mention, as Slack escapes it: "<@id|name>".
        mention = f"<@{user.id}|{MENTION_UNSAFE.sub('', user.display_name)}>" if user else None
        await self._run(interaction, "member", action, mention, role, existing)

    @app_commands.command(description="Send a line's conversations to this channel (admins)")
    @app_commands.describe(
        action="here: this channel gets its new conversations; off: none; list: all routes",
        line="The line's phone number (not for list)",
    )
    async def route(
        self,
        interaction: Interaction,
        action: Literal["here", "off", "list"],
        line: str | None = None,
    ) -> None:
        await self._run(interaction, "route", line, action)

    @app_commands.command(description="Block a number: its texts are kept aside, no thread")
    @app_commands.describe(phone=PHONE)
    async def block(self, interaction: Interaction, phone: str | None = None) -> None:
        await self._run(interaction, "block", phone)

    @app_commands.command(description="Let a blocked or spam number through again")
    @app_commands.describe(phone=PHONE)
    async def unblock(self, interaction: Interaction, phone: str | None = None) -> None:
        await self._run(interaction, "unblock", phone)

    @app_commands.command(description="Blocked and spam numbers, with how many texts they sent")
    async def blocked(self, interaction: Interaction) -> None:
        await self._run(interaction, "blocked")

    @app_commands.command(description="How fast the team answers: figures and a chart")
    @app_commands.describe(period="Which period (default: week)")
    async def report(
        self, interaction: Interaction, period: Literal["today", "week", "month"] = "week"
    ) -> None:
        await self._run(interaction, "report", period)

    @app_commands.command(description="The team's settings; admins change one with name and value")
    @app_commands.describe(name="The setting to change", value="Its new value")
    async def settings(
        self,
        interaction: Interaction,
        name: Setting | None = None,
        value: str | None = None,
    ) -> None:
        await self._run(interaction, "settings", name, value)

    @app_commands.command(description="The last 20 admin changes: who, what, when (admins)")
    async def audit(self, interaction: Interaction) -> None:
        await self._run(interaction, "audit")

    @app_commands.command(name="help", description="What smsbridge can do")
    async def help_(self, interaction: Interaction) -> None:
        await self._run(interaction, "help")
