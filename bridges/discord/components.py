"""Buttons, selects and the draft modal. State lives in each component's custom_id
(`smsbridge:<action>:<id>`), and every item is a DynamicItem registered at start-up, so a
header posted before a restart keeps working after it.

A click is handed to the client's `actions`: this module says what it needs of them
(`ComponentActions`) and of the client (`ComponentClient`), so it imports neither."""

from __future__ import annotations

import re
from typing import Any, Protocol

import discord

from bot.types import ConversationView

PREFIX = "smsbridge"


def custom_id(action: str, ident: int) -> str:
    return f"{PREFIX}:{action}:{ident}"


class ComponentActions(Protocol):
    """What a click on a component does (bridges/discord/actions.py)."""

    async def header_button(self, interaction: discord.Interaction[Any], action: str) -> None: ...

    async def assign_picked(
        self, interaction: discord.Interaction[Any], user_id: int | None
    ) -> None: ...

    async def retry(self, interaction: discord.Interaction[Any], message_id: int) -> None: ...

    async def draft_send(
        self, interaction: discord.Interaction[Any], conversation_id: int, ai: bool
    ) -> None: ...

    async def draft_edit(
        self, interaction: discord.Interaction[Any], conversation_id: int, ai: bool
    ) -> None: ...

    async def draft_discard(self, interaction: discord.Interaction[Any]) -> None: ...


class ComponentClient(discord.Client):
    """A client whose components' clicks go to its `actions`."""

    actions: ComponentActions


Interaction = discord.Interaction[ComponentClient]


class HeaderButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"{PREFIX}:(?P<action>close|reopen|optout|optin|draft|lead):(?P<id>\d+)",
):
    """Close/Reopen, Opt out/in, AI draft and Edit lead on a conversation's header."""

    LOOKS = {
        "close": ("Close", "✅", discord.ButtonStyle.secondary),
        "reopen": ("Reopen", "↩️", discord.ButtonStyle.primary),
        "optout": ("Opt out", "🚫", discord.ButtonStyle.danger),
        "optin": ("Opt in", "🔔", discord.ButtonStyle.secondary),
        "draft": ("AI draft", "✨", discord.ButtonStyle.primary),
        "lead": ("Edit lead", "✏️", discord.ButtonStyle.secondary),
    }

    def __init__(self, action: str, conversation_id: int) -> None:
        label, emoji, style = self.LOOKS[action]
        super().__init__(
            discord.ui.Button(
                label=label,
                emoji=emoji,
                style=style,
                custom_id=custom_id(action, conversation_id),
                row=1,
            )
        )
        self.action, self.conversation_id = action, conversation_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> HeaderButton:
        return cls(match["action"], int(match["id"]))

    async def callback(self, interaction: Interaction) -> None:
        await interaction.client.actions.header_button(interaction, self.action)


class AssignSelect(
    discord.ui.DynamicItem[discord.ui.UserSelect[Any]],
    template=rf"{PREFIX}:assign:(?P<id>\d+)",
):
    """A member picker on the header; clearing it unassigns."""

    def __init__(self, conversation_id: int) -> None:
        super().__init__(
            discord.ui.UserSelect(
                custom_id=custom_id("assign", conversation_id),
                placeholder="👤 Assign to a teammate…",
                min_values=0,
                max_values=1,
                row=0,
            )
        )
        self.conversation_id = conversation_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> AssignSelect:
        return cls(int(match["id"]))

    async def callback(self, interaction: Interaction) -> None:
        chosen = self.item.values[0].id if self.item.values else None
        await interaction.client.actions.assign_picked(interaction, chosen)


class RetryButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"{PREFIX}:retry:(?P<id>\d+)",
):
    """Under a failed or unknown SMS notice: send that SMS again."""

    def __init__(self, message_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Retry",
                emoji="🔁",
                style=discord.ButtonStyle.primary,
                custom_id=custom_id("retry", message_id),
            )
        )
        self.message_id = message_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> RetryButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: Interaction) -> None:
        await interaction.client.actions.retry(interaction, self.message_id)


class DraftButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"{PREFIX}:(?P<action>draftsend|draftedit|draftdiscard):(?P<id>\d+):(?P<ai>[01])",
):
    """Send / Edit / Discard under a draft (AI or snippet) only its requester sees. The
    last custom_id field says whether the text came from the AI."""

    LOOKS = {
        "draftsend": ("Send as SMS", discord.ButtonStyle.success),
        "draftedit": ("Edit", discord.ButtonStyle.secondary),
        "draftdiscard": ("Discard", discord.ButtonStyle.danger),
    }

    def __init__(self, action: str, conversation_id: int, ai: bool) -> None:
        label, style = self.LOOKS[action]
        super().__init__(
            discord.ui.Button(
                label=label,
                style=style,
                custom_id=f"{custom_id(action, conversation_id)}:{int(ai)}",
            )
        )
        self.action, self.conversation_id, self.ai = action, conversation_id, ai

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> DraftButton:
        return cls(match["action"], int(match["id"]), match["ai"] == "1")

    async def callback(self, interaction: Interaction) -> None:
        actions = interaction.client.actions
        if self.action == "draftedit":
            await actions.draft_edit(interaction, self.conversation_id, self.ai)
        elif self.action == "draftsend":
            await actions.draft_send(interaction, self.conversation_id, self.ai)
        else:
            await actions.draft_discard(interaction)


DRAFT_MODAL = re.compile(rf"{PREFIX}:draftmodal:(?P<id>\d+):(?P<ai>[01])")
DRAFT_TEXT = f"{PREFIX}:drafttext"


class DraftModal(discord.ui.Modal, title="Edit the draft"):
    """Its submit is handled from its custom_id and field (`draft_submitted`, called by
    the client for every modal submit), not by this object: a modal open across a
    restart still sends."""

    def __init__(self, conversation_id: int, text: str, ai: bool) -> None:
        # The timeout only frees discord.py's record of it; a later submit still sends.
        super().__init__(
            custom_id=f"{custom_id('draftmodal', conversation_id)}:{int(ai)}", timeout=900
        )
        self.add_item(
            discord.ui.TextInput(
                label="SMS text",
                custom_id=DRAFT_TEXT,
                style=discord.TextStyle.paragraph,
                default=text,
                max_length=1600,
            )
        )

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        """Answered by `draft_submitted`."""


def draft_submitted(data: dict[str, Any]) -> tuple[int, bool, str] | None:
    """(conversation id, AI-assisted, text) of a submitted draft modal; None for any
    other modal."""
    match = DRAFT_MODAL.fullmatch(str(data.get("custom_id", "")))
    if match is None:
        return None
    text = ""
    for row in data.get("components") or []:
        for field in row.get("components") or []:
            if field.get("custom_id") == DRAFT_TEXT:
                text = str(field.get("value") or "")
    return int(match["id"]), match["ai"] == "1", text


DYNAMIC_ITEMS = (HeaderButton, AssignSelect, RetryButton, DraftButton)


def is_known(custom_id: str) -> bool:
    """Whether one of our components reads this custom_id (else nothing will answer it)."""
    return any(item.__discord_ui_compiled_template__.fullmatch(custom_id) for item in DYNAMIC_ITEMS)


def draft_text(message: discord.Message | None) -> str:
    """The draft lives in the ephemeral card's embed, not in memory: it survives restarts."""
    if message is None or not message.embeds:
        return ""
    return message.embeds[0].description or ""


def header_view(conversation: ConversationView) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    cid = conversation.id
    view.add_item(AssignSelect(cid))
    view.add_item(HeaderButton("reopen" if conversation.status == "closed" else "close", cid))
    view.add_item(HeaderButton("optin" if conversation.opted_out else "optout", cid))
    view.add_item(HeaderButton("draft", cid))
    view.add_item(HeaderButton("lead", cid))
    return view


def retry_view(message_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RetryButton(message_id))
    return view


def draft_view(conversation_id: int, ai: bool) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in DraftButton.LOOKS:
        view.add_item(DraftButton(action, conversation_id, ai))
    return view
