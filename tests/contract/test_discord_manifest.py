"""manifests/discord.json holds the `/sms` command definitions the bot syncs."""

from __future__ import annotations

import json
from pathlib import Path

from bridges.discord.manifest import definitions

MANIFEST = Path(__file__).resolve().parents[2] / "manifests" / "discord.json"


def test_manifest_matches_the_command_tree() -> None:
    assert json.loads(MANIFEST.read_text()) == definitions()


def test_manifest_has_every_subcommand_within_discord_limits() -> None:
    (sms,) = json.loads(MANIFEST.read_text())
    names = {option["name"] for option in sms["options"]}
    assert names == {
        "assign", "unassign", "close", "reopen", "optout", "optin", "cancel", "draft", "note",
        "tag", "snippet", "new", "search", "name", "contacts", "inbox", "member", "route",
        "block", "unblock", "blocked", "report", "audit", "settings", "help",
    }  # fmt: skip
    assert len(sms["options"]) <= 25
    for option in sms["options"]:
        assert 1 <= len(option["description"]) <= 100
        for arg in option.get("options", []):
            assert 1 <= len(arg["description"]) <= 100
    member = sms["options"][0]["options"][0]
    assert (member["name"], member["type"]) == ("member", 6)  # a member picker
