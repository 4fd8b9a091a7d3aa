"""The deploy manifests agree with the code: app.json's process types are the Procfile's,
its database is PostgreSQL (Heroku's disk is wiped at each restart), compose.yaml runs one
Discord gateway and migrates before anything serves."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def procfile_types() -> set[str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {line.split(":", 1)[0] for line in lines if line and not line.startswith("#")}


def test_app_json_uses_postgresql_and_the_procfile_process_types() -> None:
    app = json.loads((ROOT / "app.json").read_text())
    assert [a["plan"].split(":")[0] for a in app["addons"]] == ["heroku-postgresql"]
    assert set(app["formation"]) <= procfile_types()
    assert "SMSBRIDGE_PUBLIC_URL" in app["env"]


def test_buildpacks_install_the_lock_and_the_package() -> None:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    assert [x for x in lines if x and not x.startswith("#")] == ["-r requirements.lock", "."]


def test_compose_runs_one_discord_gateway_after_the_migration() -> None:
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    assert services["discord"]["deploy"]["replicas"] == 1
    assert services["web"]["environment"]["DISCORD_BOT_TOKEN"] == ""
    assert services["web"]["environment"]["SMSBRIDGE_CHAT_PLATFORMS"] == "discord"
    for name in ("web", "discord"):
        wait = services[name]["depends_on"]["migrate"]["condition"]
        assert wait == "service_completed_successfully"
    assert services["migrate"]["command"] == ["smsbridge", "db", "upgrade"]
