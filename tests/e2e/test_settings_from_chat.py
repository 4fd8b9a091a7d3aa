"""`/sms settings` (#14): members see the team's settings; admins change those the TOML
does not declare, audited, kept across a restart; the file's are refused, naming the key."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.services.directory import sync_directory
from standins.twilio import TwilioStandIn
from storage.models import Organization
from tests.slack_fixtures import SlackEnv


async def test_admins_change_unfiled_settings_from_chat_and_the_files_are_refused(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    async with SlackEnv.start(tmp_path, twilio) as sx:
        shown = await sx.command("settings", "U0SAM")
        assert "• timezone: America/Chicago · managed by the file" in shown
        assert "• remind_after_minutes: 0" in shown and "quiet_hours: off" in shown
        assert "may not change the team's settings" in await sx.command(
            "settings remind_after_minutes 30", "U0SAM"
        )
        assert await sx.command("settings remind_after_minutes 30", "U0DANA") == (
            "remind_after_minutes is now 30."
        )
        assert await sx.command("settings quiet_hours 21:00 08:00", "U0DANA") == (
            "quiet_hours is now 21:00 to 08:00."
        )
        refused = await sx.command("settings help_text Hello", "U0DANA")
        assert refused == (
            "help_text is managed by the file: edit `organizations.acme.help_text` in "
            "smsbridge.toml (it applies at the next start)."
        )
        assert "not a setting" in await sx.command("settings colour blue", "U0DANA")
        assert "Dana: remind_after_minutes is now 30." in await sx.command("audit", "U0DANA")
        core = sx.app.core
        assert core is not None
        await sync_directory(core, core.settings.directory)  # as the next start does
        async with sx.app.db.session() as s:
            acme = await s.scalar(select(Organization).where(Organization.key == "acme"))
            assert acme is not None
            assert (acme.remind_after_minutes, acme.quiet_hours) == (30, ["21:00", "08:00"])
            assert acme.help_text == "Acme Roofing. Reply STOP to opt out."
