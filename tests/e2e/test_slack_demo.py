"""`make demo` shows the Slack side of the scripted conversation and succeeds."""

from __future__ import annotations

import pytest

from bot.demo import run_demo


async def test_demo_shows_the_slack_thread(capsys: pytest.CaptureFixture[str]) -> None:
    assert await run_demo() == 0
    out = capsys.readouterr().out
    assert "#sales: header card" in out
    assert "the reply is marked :hourglass_flowing_sand:" in out
    assert "the note is marked :lock:" in out
    assert "only Dana sees" in out and "opted out" in out
    assert "1 SMS sent in all" in out
