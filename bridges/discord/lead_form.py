"""The "Edit lead" form in Discord: a modal holding the lead's name, email, company, notes
and custom fields, opened from the header's button. A modal holds five boxes, so the
custom fields share the fifth, one `key: value` a line (added, changed or removed there).
Its submit is read from its custom_id and fields (like the draft modal), so a form open
across a restart still saves."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.domain.contacts import field_lines
from bot.types import LeadChange, LeadProfile
from bridges.discord.components import PREFIX, custom_id

LEAD_MODAL = re.compile(rf"{PREFIX}:leadmodal:(?P<id>\d+)")
# (field, label, max length, paragraph)
FIELDS = (
    ("name", "Name", 200, False),
    ("email", "Email", 200, False),
    ("company", "Company", 200, False),
    ("notes", "Notes (the team's only; never sent)", 3000, True),
)
OTHER, OTHER_LIMIT = "fields", 4000  # Discord's longest text input


class LeadModal(discord.ui.Modal, title="Edit lead"):
    """Answered by `lead_submitted`, called by the client for every modal submit."""

    def __init__(self, profile: LeadProfile) -> None:
        super().__init__(custom_id=custom_id("leadmodal", profile.conversation_id), timeout=900)
        for key, label, limit, paragraph in FIELDS:
            self.add_item(
                discord.ui.TextInput(
                    label=label,
                    custom_id=f"{PREFIX}:lead:{key}",
                    style=discord.TextStyle.paragraph if paragraph else discord.TextStyle.short,
                    default=(getattr(profile, key) or "")[:limit],
                    max_length=limit,
                    required=False,
                )
            )
        lines = field_lines(profile.fields)
        # Fields too long to show whole are left out, not cut: what is missing from the
        # box on submit is removed.
        if len(lines) <= OTHER_LIMIT:
            self.add_item(
                discord.ui.TextInput(
                    label="Other fields, one `key: value` a line",
                    custom_id=f"{PREFIX}:lead:{OTHER}",
                    style=discord.TextStyle.paragraph,
                    default=lines,
                    placeholder="source: website",
                    max_length=OTHER_LIMIT,
                    required=False,
                )
            )

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        """Answered by `lead_submitted`."""


def lead_submitted(data: dict[str, Any]) -> tuple[int, LeadChange, str | None] | None:
    """(conversation id, the form's values, the custom fields box or None when the form
    had none) of a submitted Edit lead form; None for any other modal. An emptied field
    clears it."""
    match = LEAD_MODAL.fullmatch(str(data.get("custom_id", "")))
    if match is None:
        return None
    values = {key: "" for key, *_ in FIELDS}
    other = None
    for row in data.get("components") or []:
        for field in row.get("components") or []:
            key = str(field.get("custom_id", "")).removeprefix(f"{PREFIX}:lead:")
            if key in values:
                values[key] = str(field.get("value") or "").strip()
            elif key == OTHER:
                other = str(field.get("value") or "")
    return int(match["id"]), LeadChange(**values), other
