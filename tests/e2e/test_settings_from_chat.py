"""`/sms settings` (#14): members see the team's settings; admins change those the TOML
does not declare, audited, kept across a restart; the file's are refused, naming the key."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

import standins.slack_payloads as sp
from bot.directory_file import parse_directory
from bot.domain import automation_text
from bot.services.automations import rules_of
from bot.services.directory import sync_directory
from standins import slack_interactivity as si
from standins.twilio import TwilioStandIn
from storage.models import Organization
from tests.conftest import DIRECTORY, wait_for
from tests.slack_fixtures import FORM, SALES, SECRET, SlackEnv


async def acme_after_a_start(sx: SlackEnv) -> Organization:
    """The acme organization once the file is applied again, as the next start does."""
    core = sx.app.core
    assert core is not None
    await sync_directory(core, core.settings.directory)
    async with sx.app.db.session() as s:
        acme = await s.scalar(select(Organization).where(Organization.key == "acme"))
    assert acme is not None
    return acme


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
        acme = await acme_after_a_start(sx)
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
        assert set(inputs) == {"quiet_hours", "remind_after_minutes", "voice"} | set(
            automation_text.KEYS
        )
        shown = json.dumps(modal["blocks"])
        assert "America/Chicago" in shown and "managed by the file" in shown
        assert inputs["remind_after_minutes"]["element"]["initial_value"] == "0"

        def sent(**values: str) -> dict[str, Any]:
            state = {k: {k: {"type": "plain_text_input", "value": v}} for k, v in values.items()}
            return si.view_submission_payload(
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
        # Automations in the same form: an away message needs business hours.
        answer = await sx.submit(sent(away_message="Closed now", business_hours=""))
        assert answer["response_action"] == "errors" and set(answer["errors"]) == {"away_message"}
        hours = "Mon-Fri 08:00-18:00\nSat 09:00-13:00"
        assert await sx.submit(sent(away_message="Closed now", business_hours=hours)) == {}
        said = await wait_for(lambda: [t for t in sx.ephemerals_for("U0DANA") if "away" in t])
        assert "business_hours is now Mon-Fri 08:00-18:00, Sat 09:00-13:00." in said[-1]
        async with sx.app.db.session() as s:
            acme = await s.scalar(select(Organization).where(Organization.key == "acme"))
            assert acme is not None
            assert (acme.quiet_hours, acme.remind_after_minutes) == (["21:00", "08:00"], 30)
            assert (acme.voice or {}).get("tone") == "warm, brief"
        assert "Dana: quiet_hours is now 21:00 to 08:00." in await sx.command("audit", "U0DANA")

        # Anyone else gets the settings as text; a form sent by them changes nothing.
        assert "• quiet_hours: 21:00 to 08:00" in await sx.command("settings", "U0SAM")
        refused = si.view_submission_payload(
            modal["callback_id"],
            {"remind_after_minutes": {"remind_after_minutes": {"value": "5"}}},
            user_id="U0SAM", private_metadata=modal["private_metadata"],
        )  # fmt: skip
        assert await sx.submit(refused) == {}
        await wait_for(lambda: sx.ephemerals_for("U0SAM"))
        assert "may not change the team's settings" in sx.ephemerals_for("U0SAM")[-1]


async def test_admins_set_the_automations_from_chat_and_the_next_start_keeps_them(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    away = "We're closed, back at 8am."
    async with SlackEnv.start(tmp_path, twilio) as sx:

        async def dana(text: str) -> str:
            return await sx.command(f"settings {text}", "U0DANA")

        assert "needs business_hours" in await dana(f"away_message {away}")
        assert await dana("business_hours Mon-Fri 08:00-18:00, Sat 09:00-13:00") == (
            "business_hours is now Mon-Fri 08:00-18:00, Sat 09:00-13:00."
        )
        assert "Example:" in await dana("business_hours weekdays 8 to 6")
        assert await dana(f"away_message {away}") == f"away_message is now “{away}”."
        assert "no member 'zed'" in await dana("escalate_to zed")
        assert "needs escalate_to" in await dana("escalate_after_minutes 60")
        assert await dana("escalate_to @dana") == "escalate_to is now dana."
        assert (
            await dana("escalate_after_minutes 60") == "escalate_after_minutes is now 60 minutes."
        )
        assert await dana("block_keywords crypto, loan approved") == (
            "block_keywords is now crypto, loan approved."
        )
        assert "may not change" in await sx.command("settings ack_message Hi!", "U0SAM")
        shown = await sx.command("settings", "U0SAM")
        assert f"• away_message: {away}" in shown and "• ack_message: off" in shown
        assert "• business_hours: Mon-Fri 08:00-18:00, Sat 09:00-13:00" in shown

        acme = await acme_after_a_start(sx)
        rules = rules_of(acme)
        assert rules.away_message == away and rules.business_hours is not None
        assert (rules.escalate_after_minutes, rules.escalate_to) == (60, ("dana",))
        assert (acme.automations or {})["block_keywords"] == ["crypto", "loan approved"]
        assert await dana("away_message off") == "away_message is now off."


async def test_automations_the_file_declares_are_refused_in_chat(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    raw = copy.deepcopy(DIRECTORY)
    raw["organizations"]["acme"]["automations"] = {"auto_close_after_days": 7}
    async with SlackEnv.start(tmp_path, twilio, directory=parse_directory(raw)) as sx:
        refused = await sx.command("settings auto_close_after_days 30", "U0DANA")
        assert refused.startswith(
            "auto_close_after_days is managed by the file: edit "
            "`organizations.acme.automations.auto_close_after_days`"
        )
        assert "• auto_close_after_days: 7 · managed by the file" in await sx.command(
            "settings", "U0SAM"
        )
        # Not in the file's table: still the team's to set.
        assert await sx.command("settings block_keywords crypto", "U0DANA") == (
            "block_keywords is now crypto."
        )
