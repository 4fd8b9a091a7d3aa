"""`make demo` runs the scripted conversation end to end and shows every side of it."""

from __future__ import annotations

import re

import pytest

from standins.demo import run_demo


async def test_demo_shows_sms_slack_discord_and_ai_draft(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await run_demo() == 0
    out = capsys.readouterr().out
    # A named lead, and their local time
    assert "1 row: 1 lead added" in out
    assert "header card “SMS conversation with Maria Lopez (Needs response)”" in out
    assert re.search(
        r"the card: ML  Maria Lopez  ·  \+14155550123  ·  🕘 \d+:\d\d [AP]M for them", out
    )
    # Slack
    assert "#sales: header card" in out
    assert "the reply is marked :hourglass_flowing_sand:" in out
    assert "the note is marked :lock:" in out
    assert "only Dana sees" in out and "opted out" in out
    # Discord
    assert "#sms-leads: forum post “Maria Lopez · Sales”, tagged Needs response" in out
    assert "as Maria Lopez (+14155550123): “Hi, can I get a quote for a roof repair?”" in out
    assert "the note is marked 🔒" in out
    assert "now tagged Open, Opted out" in out  # STOP leaves nothing to answer
    assert "sent as SMS to Maria Lopez by Dana  ✅" in out
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
