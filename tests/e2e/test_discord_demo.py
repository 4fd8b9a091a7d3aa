"""`make demo` shows the Discord side of the scripted conversation as well."""

from __future__ import annotations

import pytest

from bot.demo import run_demo


async def test_demo_shows_the_discord_forum_post(capsys: pytest.CaptureFixture[str]) -> None:
    assert await run_demo() == 0
    out = capsys.readouterr().out
    assert "#sms-leads: forum post “+14155550123 · Sales”, tagged Needs response" in out
    assert "in the post, as +14155550123: “Hi, can I get a quote for a roof repair?”" in out
    assert "the note is marked 🔒" in out
    assert "now tagged Needs response, Opted out" in out
    assert "sent as SMS to +14155550123 by Dana  ✅" in out
