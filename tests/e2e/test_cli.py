"""The `smsbridge` command as a script author uses it: exit codes and reasons."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from standins.twilio import TwilioStandIn
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, LEAD, LINE, free_port, wait_for

REPO = Path(__file__).resolve().parents[2]
TOML = f"""
[organizations.acme]
name = "Acme Roofing"

[lines."{LINE}"]
organization = "acme"
"""


async def smsbridge(env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode()


def environment(tmp_path: Path, twilio: TwilioStandIn) -> dict[str, str]:
    (tmp_path / "smsbridge.toml").write_text(TOML)
    return {
        **os.environ,
        "SMSBRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "SMSBRIDGE_CONFIG": str(tmp_path / "smsbridge.toml"),
        "SMSBRIDGE_PUBLIC_URL": f"http://127.0.0.1:{free_port()}",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_URL": twilio.url,
        "SMSBRIDGE_LOG_LEVEL": "WARNING",
    }


async def test_send_then_refusals(tmp_path: Path, twilio: TwilioStandIn) -> None:
    env = environment(tmp_path, twilio)
    code, out = await smsbridge(env, "send", "--from", LINE, "--to", "(415) 555-0100", "Hi!")
    assert code == 0, out
    assert "status: queued" in out
    assert [m["to"] for m in twilio.messages] == [LEAD]

    code, out = await smsbridge(env, "send", "--from", LINE, "--to", "555-01", "Hi!")
    assert code == 1 and "phone number" in out

    code, out = await smsbridge(env, "send", "--from", "+15005550009", "--to", LEAD, "Hi!")
    assert code == 1 and "not a configured line" in out

    twilio.opted_out.add(LEAD)
    code, out = await smsbridge(env, "send", "--from", LINE, "--to", LEAD, "Again")
    assert code == 1 and "status: failed" in out
    code, out = await smsbridge(env, "send", "--from", LINE, "--to", LEAD, "Once more")
    assert code == 1 and "opted out" in out
    assert len(twilio.messages) == 1


async def test_check_names_the_bad_variable(tmp_path: Path, twilio: TwilioStandIn) -> None:
    env = environment(tmp_path, twilio)
    code, out = await smsbridge(env, "check")
    assert code == 0 and f"line {LINE}" in out and "twilio: on" in out
    env["SLACK_BOT_TOKEN"] = "xoxb-only"
    code, out = await smsbridge(env, "check")
    assert code == 2 and "SLACK_SIGNING_SECRET" in out


async def test_sms_in_posts_a_signed_webhook(tmp_path: Path, twilio: TwilioStandIn) -> None:
    from dataclasses import replace

    from bot.app import Options, SmsBridge
    from bot.config import load_settings

    env = environment(tmp_path, twilio)
    settings = load_settings(env, read_dotenv=False)
    port = int(settings.public_url.rsplit(":", 1)[1])
    async with SmsBridge(replace(settings, host="127.0.0.1", port=port), Options()) as app:
        code, out = await smsbridge(env, "sms-in", "--from", LEAD, "--to", LINE, "hello there")
        assert code == 0, out
        from sqlalchemy import select

        from storage.models import Message

        async def stored() -> str | None:
            async with app.db.session() as s:
                return await s.scalar(select(Message.body))

        assert await wait_for(stored) == "hello there"
