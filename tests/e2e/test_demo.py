"""`make demo` runs the scripted conversation end to end and shows every side of it."""

from __future__ import annotations

import pytest

from bot.demo import run_demo


async def test_demo_shows_sms_slack_discord_and_ai_draft(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await run_demo() == 0
    out = capsys.readouterr().out
    # Slack
    assert "#sales: header card" in out
    assert "the reply is marked :hourglass_flowing_sand:" in out
    assert "the note is marked :lock:" in out
    assert "only Dana sees" in out and "opted out" in out
    # Discord
    assert "#sms-leads: forum post “+14155550123 · Sales”, tagged Needs response" in out
    assert "in the post, as +14155550123: “Hi, can I get a quote for a roof repair?”" in out
    assert "the note is marked 🔒" in out
    assert "now tagged Needs response, Opted out" in out
    assert "sent as SMS to +14155550123 by Dana  ✅" in out
    # AI draft: requested, edited, sent
    assert "only Dana sees the draft" in out
    assert "history and notes included: True" in out
    assert "received the AI-assisted reply: “Hi! Thanks for the photo. Tuesday at 9" in out
    assert "AI-assisted" in out.split("the thread now reads:")[1]
    assert "2 SMS sent in all" in out
    # Automations and the report
    assert "the night lead got 1 automatic text: “Thanks! We're closed now" in out
    assert "New conversations: 2" in out and "Answered within 15 min" in out
    assert "-byte PNG" in out
