"""`/sms settings` (#14): members see the team's settings; admins change those the TOML
does not declare, audited, kept across a restart; the file's are refused, naming the key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

import standins.slack_payloads as sp
from bot.services.directory import sync_directory
from standins.twilio import TwilioStandIn
from storage.models import Organization
from tests.conftest import wait_for
from tests.slack_fixtures import FORM, SALES, SECRET, SlackEnv


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


async def test_an_admin_edits_the_settings_in_a_slack_form_and_a_bad_value_keeps_it_open(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    async with SlackEnv.start(tmp_path, twilio) as sx:
        fields = sp.slash_command("settings", user_id="U0DANA", channel_id=SALES)
        status, _ = await sp.post_signed(sx.events_url, sp.form_body(fields), FORM, SECRET)
        assert status == 200
        modal = (await wait_for(lambda: list(sx.slack.views.values())))[-1]
        assert modal["title"]["text"] == "Settings"
        inputs = {b["block_id"]: b for b in modal["blocks"] if b["type"] == "input"}
        # The file declares the time zone and the HELP answer: shown, not editable.
        assert set(inputs) == {"quiet_hours", "remind_after_minutes", "voice"}
        shown = json.dumps(modal["blocks"])
        assert "America/Chicago" in shown and "managed by the file" in shown
        assert inputs["remind_after_minutes"]["element"]["initial_value"] == "0"

        def sent(**values: str) -> dict[str, Any]:
            state = {k: {k: {"type": "plain_text_input", "value": v}} for k, v in values.items()}
            return sp.view_submission_payload(
                modal["callback_id"], state, user_id="U0DANA", user_name="dana",
                private_metadata=modal["private_metadata"], view_id=modal["id"],
            )  # fmt: skip

        answer = await sx.submit(sent(quiet_hours="9pm to 8", remind_after_minutes="30", voice=""))
        assert answer["response_action"] == "errors"
        assert set(answer["errors"]) == {"quiet_hours"}
        answer = await sx.submit(
            sent(quiet_hours="21:00 08:00", remind_after_minutes="30", voice="warm, brief")
        )
        assert answer == {}
        said = await wait_for(lambda: sx.ephemerals_for("U0DANA"))
        assert "quiet_hours is now 21:00 to 08:00." in said[-1]
        assert "remind_after_minutes is now 30." in said[-1]
        async with sx.app.db.session() as s:
            acme = await s.scalar(select(Organization).where(Organization.key == "acme"))
            assert acme is not None
            assert (acme.quiet_hours, acme.remind_after_minutes) == (["21:00", "08:00"], 30)
            assert (acme.voice or {}).get("tone") == "warm, brief"
        assert "Dana: quiet_hours is now 21:00 to 08:00." in await sx.command("audit", "U0DANA")

        # Anyone else gets the settings as text; a form sent by them changes nothing.
        assert "• quiet_hours: 21:00 to 08:00" in await sx.command("settings", "U0SAM")
        refused = sp.view_submission_payload(
            modal["callback_id"],
            {"remind_after_minutes": {"remind_after_minutes": {"value": "5"}}},
            user_id="U0SAM", private_metadata=modal["private_metadata"],
        )  # fmt: skip
        assert await sx.submit(refused) == {}
        await wait_for(lambda: sx.ephemerals_for("U0SAM"))
        assert "may not change the team's settings" in sx.ephemerals_for("U0SAM")[-1]
