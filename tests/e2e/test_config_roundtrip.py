"""`smsbridge config export` / `config import`: the setup (organizations, lines with
routes, members with chat accounts, settings and automations, also those set from chat)
written as TOML and reproduced exactly in an empty database; a typo in the file exits 2
naming the key."""

from __future__ import annotations

import os
import tomllib
from dataclasses import replace
from pathlib import Path

from bot.app import Options, SmsBridge
from bot.config_cli import export_text, import_directory
from bot.directory_file import Directory, parse_directory
from bot.facade import Facade
from bot.types import Actor, ChatRef
from tests.conftest import LINE, make_settings
from tests.e2e.test_cli import smsbridge


async def test_export_then_import_into_an_empty_database_gives_the_same_state(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    app = SmsBridge(settings, Options(run_workers=False))
    await app.start()
    try:
        assert app.core is not None
        facade, dana = Facade(app.core), Actor("slack", "U0DANA")
        added = await facade.command(
            dana, ChatRef("slack", "C0SALES"), "member add <@U0PAT|Pat Lee> limited"
        )
        assert added.ok, added.text
        for text in ("business_hours Mon-Fri 08:00-18:00", "away_message Closed now",
                     "ack_message off", "block_keywords crypto"):  # fmt: skip
            said = await facade.command(dana, ChatRef("slack", "C0SALES"), f"settings {text}")
            assert said.ok, said.text
    finally:
        await app.stop()

    first = await export_text(settings)
    data = tomllib.loads(first)
    assert data["members"]["pat-lee"] == {
        "organization": "acme",
        "name": "Pat Lee",
        "role": "limited",
        "notify": "mentions",
        "slack_user": "U0PAT",
    }
    assert data["lines"][LINE]["slack_channel"] == "C0SALES"
    assert data["organizations"]["acme"]["name"] == "Acme Roofing"
    assert data["organizations"]["acme"]["block_keywords"] == ["crypto"]
    automations = data["organizations"]["acme"]["automations"]
    assert automations["away_message"] == "Closed now" and "ack_message" not in automations

    empty = tmp_path / "empty"
    empty.mkdir()
    other = make_settings(empty, directory=Directory())
    await import_directory(other, replace(parse_directory(data), declared=False))
    assert await export_text(other) == first


async def test_import_of_a_file_with_a_typo_exits_2_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "setup.toml"
    bad.write_text('[organizations.acme]\nname = "Acme"\ntimezon = "UTC"\n')
    env = {
        **os.environ,
        "SMSBRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        "SMSBRIDGE_LOG_LEVEL": "WARNING",
    }
    env.pop("SMSBRIDGE_CONFIG", None)
    code, out = await smsbridge(env, "config", "import", str(bad))
    assert code == 2 and "organizations.acme.timezon" in out
    code, out = await smsbridge(env, "config", "export")
    assert code == 0 and out == ""
