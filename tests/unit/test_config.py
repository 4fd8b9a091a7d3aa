"""The configuration contract: defaults, platforms off without credentials, and errors
that name the variable or TOML key."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.config import ConfigError, load_settings
from bot.directory_file import parse_directory


def settings(**env: str):  # type: ignore[no-untyped-def]
    return load_settings(env, read_dotenv=False)


def test_defaults_and_platforms_off() -> None:
    s = settings()
    assert s.database_url == "sqlite+aiosqlite:///smsbridge.db"
    assert s.public_url == "http://localhost:8080"
    assert (s.host, s.port, s.undo_seconds) == ("0.0.0.0", 8080, 5.0)
    assert s.bridges == {}
    assert "slack: off (no credentials)" in s.platforms_report()


def test_port_falls_back_to_port_variable() -> None:
    assert settings(PORT="9000").port == 9000
    assert settings(PORT="9000", SMSBRIDGE_PORT="9100").port == 9100


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"TWILIO_ACCOUNT_SID": "AC1"}, "TWILIO_AUTH_TOKEN"),
        ({"TWILIO_AUTH_TOKEN": "x"}, "TWILIO_ACCOUNT_SID"),
        ({"SLACK_BOT_TOKEN": "xoxb"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        ({"DISCORD_API_URL": "http://x"}, "DISCORD_BOT_TOKEN"),
        ({"SMSBRIDGE_PORT": "eighty"}, "SMSBRIDGE_PORT"),
        ({"SMSBRIDGE_UNDO_SECONDS": "-1"}, "SMSBRIDGE_UNDO_SECONDS"),
        ({"SMSBRIDGE_PUBLIC_URL": "example.com"}, "SMSBRIDGE_PUBLIC_URL"),
        ({"SMSBRIDGE_CONFIG": "/nonexistent.toml"}, "SMSBRIDGE_CONFIG"),
    ],
)
def test_half_configured_is_an_error_naming_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        settings(**env)


def test_socket_mode_needs_no_signing_secret() -> None:
    s = settings(SLACK_BOT_TOKEN="xoxb", SLACK_APP_TOKEN="xapp")
    assert s.bridges["slack"].app_token == "xapp"
    assert "slack: on (Socket Mode)" in s.platforms_report()


def test_toml_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "smsbridge.toml"
    path.write_text(
        '[organizations.acme]\nname = "Acme"\ntimezone = "America/Chicago"\n'
        'quiet_hours = ["21:00", "08:00"]\n'
        '[lines."+1 (500) 555-0006"]\norganization = "acme"\nslack_channel = "C1"\n'
        '[members.dana]\norganization = "acme"\nname = "Dana"\nrole = "admin"\n'
    )
    s = settings(SMSBRIDGE_CONFIG=str(path))
    assert s.directory.lines[0].phone == "+15005550006"
    assert s.directory.organizations[0].quiet_hours == ["21:00", "08:00"]


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"organizations": {"a": {"timezone": "Mars/Base"}}}, "organizations.a.timezone"),
        ({"organizations": {"a": {"quiet_hours": ["25:00", "8"]}}}, "organizations.a.quiet_hours"),
        ({"lines": {"+15005550006": {}}}, "organization is required"),
        ({"organizations": {"a": {}}, "lines": {"12": {"organization": "a"}}}, 'lines."12"'),
        (
            {"organizations": {"a": {}}, "members": {"m": {"organization": "a", "role": "boss"}}},
            "members.m.role",
        ),
        (
            {"organizations": {"a": {}}, "lines": {"+15005550006": {"organization": "b"}}},
            "no [organizations.b]",
        ),
        (
            {
                "organizations": {"a": {}},
                "lines": {"+15005550006": {"organization": "a", "default_assignee": "zed"}},
            },
            "default_assignee",
        ),
        ({"organisations": {}}, "unknown TOML table"),
        (
            {"organizations": {"a": {"remind_after_minutes": "30"}}},
            "organizations.a.remind_after_minutes",
        ),
        ({"organizations": {"a": {"remind_after_minutes": -5}}}, "remind_after_minutes"),
        ({"organizations": {"a": {"region": "England"}}}, "organizations.a.region"),
        ({"organizations": {"a": {"quiet_hours_zone": "team"}}}, "quiet_hours_zone"),
        ({"organizations": {"a": {"gsm_smart_quotes": "yes"}}}, "gsm_smart_quotes"),
        ({"organizations": {"a": {"time_zone": "UTC"}}}, "organizations.a.time_zone"),
        (
            {"organizations": {"a": {}}, "members": {"m": {"organization": "a", "slak_user": "U"}}},
            "members.m.slak_user",
        ),
        (
            {
                "organizations": {"a": {}},
                "lines": {"+15005550006": {"organization": "a", "slack_chanel": "C1"}},
            },
            'lines."+15005550006".slack_chanel',
        ),
        (
            {
                "organizations": {"a": {}},
                "members": {
                    "m": {"organization": "a", "slack_user": "U1"},
                    "n": {"organization": "a", "slack_user": "U1"},
                },
            },
            "members.n.slack_user",
        ),
    ],
)
def test_toml_errors_name_the_key(data: dict, named: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(named)):
        parse_directory(data)


def test_a_line_written_without_plus_is_read_in_its_organizations_region() -> None:
    d = parse_directory(
        {
            "organizations": {"uk": {"region": "gb", "quiet_hours_zone": "lead"}},
            "lines": {"07911 123456": {"organization": "uk"}},
        }
    )
    assert d.lines[0].phone == "+447911123456"
    assert (d.organizations[0].region, d.organizations[0].quiet_hours_zone) == ("GB", "lead")


def _acme(**org: Any) -> dict[str, Any]:
    return {"organizations": {"acme": {"name": "Acme", **org}}}


def test_automations_and_report_settings_are_read() -> None:
    directory = parse_directory(
        {
            **_acme(
                timezone="America/Chicago",
                block_keywords=["crypto"],
                response_target_minutes=60,
                reports_channel={"slack": "C0REPORTS"},
                automations={
                    "business_hours": ["Mon-Fri 08:00-18:00"],
                    "away_message": "Closed now.",
                    "escalate_after_minutes": 60,
                    "escalate_to": ["dana"],
                },
            ),
            "members": {"dana": {"organization": "acme", "notify": "all"}},
        }
    )
    settings = directory.organizations[0].automations
    assert settings["business_hours"] == ["Mon-Fri 08:00-18:00"]
    assert settings["reports_channel"] == {"slack": "C0REPORTS"}
    assert settings["response_target_minutes"] == 60
    assert directory.members[0].notify == "all"


@pytest.mark.parametrize(
    ("org", "named"),
    [
        ({"automations": {"away_mesage": "x"}}, "automations.away_mesage: unknown key"),
        ({"automations": {"away_message": "x"}}, "away_message needs business_hours"),
        ({"automations": {"business_hours": ["Mon 9-5"]}}, "automations.business_hours"),
        ({"automations": {"escalate_to": ["nobody"]}}, "escalate_to: no member 'nobody'"),
        ({"automations": {"escalate_after_minutes": 30}}, "needs escalate_to"),
        ({"automations": {"auto_close_after_days": -1}}, "auto_close_after_days"),
        ({"block_keywords": "crypto"}, "block_keywords"),
        ({"reports_channel": "C0REPORTS"}, "reports_channel"),
        ({"reports_channel": {"slak": "C0REPORTS"}}, "reports_channel.slak: not a chat platform"),
        ({"response_target_minutes": "1h"}, "response_target_minutes"),
    ],
)
def test_a_bad_automation_setting_is_an_error_naming_the_key(
    org: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(named)):
        parse_directory(_acme(**org))


def test_a_bad_notify_setting_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"members\.dana\.notify"):
        parse_directory({**_acme(), "members": {"dana": {"organization": "acme", "notify": "x"}}})


def test_chat_accounts_and_routes_are_keyed_by_platform_name() -> None:
    directory = parse_directory(
        {
            "organizations": {"a": {}},
            "members": {"m": {"organization": "a", "slack_user": "U1", "discord_user": "11"}},
            "lines": {"+15005550006": {"organization": "a", "discord_channel": "12"}},
        }
    )
    assert directory.members[0].identities == {"slack": "U1", "discord": "11"}
    assert directory.lines[0].routes == {"discord": "12"}


def test_a_registered_chat_platform_brings_its_own_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.directory_file.chat_platforms", lambda: ("discord", "matrix", "slack"))
    directory = parse_directory(
        {
            "organizations": {"a": {}},
            "members": {"m": {"organization": "a", "matrix_user": "@m:example.org"}},
            "lines": {"+15005550006": {"organization": "a", "matrix_channel": "!room"}},
        }
    )
    assert directory.members[0].identities == {"matrix": "@m:example.org"}
    assert directory.lines[0].routes == {"matrix": "!room"}


def test_every_key_the_example_file_documents_is_accepted() -> None:
    example = (Path(__file__).parents[2] / "smsbridge.example.toml").read_text()
    # Optional keys are shown commented out: turn them on too.
    text = re.sub(r"^# (\w+ = )", r"\1", example, flags=re.M)
    directory = parse_directory(tomllib.loads(text))
    assert directory.members[0].identities == {"slack": "U0DANA", "discord": "1100000000000000001"}
    assert directory.lines[0].routes == {"slack": "C0SALES", "discord": "1200000000000000001"}
