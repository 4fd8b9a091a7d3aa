"""The /sms command parser shared by Slack and Discord."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.commands import (
    COMMANDS,
    HELP_TEXT,
    INBOX_FILTERS,
    Command,
    CommandError,
    parse_command,
)


def cmd(command: str, /, **args: str) -> Command:
    return Command(command, args)


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP", " Help ", "?", "help me"])
def test_help_and_empty_text(text: str) -> None:
    assert parse_command(text) == cmd("help")


# --- assign -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "member"),
    [
        ("assign <@U0DANA|dana>", "U0DANA"),
        ("assign <@U0DANA>", "U0DANA"),
        ("assign <@W0DANA|dana>", "W0DANA"),
        ("assign <@1100000000000000001>", "1100000000000000001"),
        ("assign <@!1100000000000000001>", "1100000000000000001"),
        ("assign @dana", "dana"),
        ("ASSIGN dana", "dana"),
        ("assign   Dana Smith ", "Dana Smith"),
    ],
)
def test_assign_reads_mentions_and_names(text: str, member: str) -> None:
    assert parse_command(text) == cmd("assign", member=member)


def test_assign_from_a_slack_channel_takes_a_phone_after_the_teammate() -> None:
    assert parse_command("assign <@U0DANA|dana> +1 415 555 0100") == cmd(
        "assign", member="U0DANA", phone="+1 415 555 0100"
    )
    assert parse_command("assign dana 4155550100") == cmd(
        "assign", member="dana", phone="4155550100"
    )


@pytest.mark.parametrize("text", ["assign", "assign   ", "assign @"])
def test_assign_without_a_teammate_explains_how(text: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_command(text)
    assert str(info.value) == "`/sms assign` needs a teammate: `/sms assign @dana`"


def test_assign_a_role_is_refused() -> None:
    with pytest.raises(CommandError, match="not a role"):
        parse_command("assign <@&1200>")


# --- conversation actions ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["unassign", "close", "reopen", "optout", "optin", "cancel"])
def test_actions_take_no_args_or_a_phone(name: str) -> None:
    assert parse_command(name) == cmd(name)
    assert parse_command(f"{name.upper()} +15551234567") == cmd(name, phone="+15551234567")
    assert parse_command(f"{name} (415) 555-0100") == cmd(name, phone="(415) 555-0100")


@pytest.mark.parametrize("name", ["close", "optout"])
def test_actions_refuse_other_text(name: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_command(f"{name} please")
    assert f"`/sms {name} +15551234567`" in str(info.value)


def test_slack_tel_links_are_unwrapped() -> None:
    text = "close <tel:+14155550100|+1 415 555 0100>"
    assert parse_command(text) == cmd("close", phone="+14155550100")


def test_aliases() -> None:
    assert parse_command("opt-out") == cmd("optout")
    assert parse_command("Opt-In") == cmd("optin")


# --- text commands ----------------------------------------------------------------------


def test_draft_instructions_are_optional_and_keep_line_breaks() -> None:
    assert parse_command("draft") == cmd("draft", instructions="")
    assert parse_command("draft be brief\nmention Monday") == cmd(
        "draft", instructions="be brief\nmention Monday"
    )


def test_note_requires_text() -> None:
    assert parse_command("note  Called, no answer ") == cmd("note", text="Called, no answer")
    with pytest.raises(CommandError, match="`/sms note` needs the note text"):
        parse_command("note")


def test_search_requires_a_query() -> None:
    assert parse_command("search Dana S") == cmd("search", query="Dana S")
    assert parse_command("search 555-01") == cmd("search", query="555-01")
    with pytest.raises(CommandError, match="`/sms search`"):
        parse_command("search  ")


# --- new --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phone", "body"),
    [
        ("new +15551234567", "+15551234567", ""),
        ("new +14155550100 Hi Dana!", "+14155550100", "Hi Dana!"),
        ("new +1 415 555 0100 Your quote is ready", "+1 415 555 0100", "Your quote is ready"),
        ("new +1 415 555 0100 10 windows, $900", "+1 415 555 0100", "10 windows, $900"),
        ("new (415) 555-0100 hi\nthere", "(415) 555-0100", "hi\nthere"),
        ("new tel:+14155550100 yo", "tel:+14155550100", "yo"),
        ("new 555 hi", "555", "hi"),  # not valid, but the service says why
        ("new +1 555", "+1 555", ""),
    ],
)
def test_new_takes_a_phone_then_optional_text(text: str, phone: str, body: str) -> None:
    assert parse_command(text) == cmd("new", phone=phone, text=body)


@pytest.mark.parametrize("text", ["new", "new dana hello", "new +", "new ()"])
def test_new_without_a_phone_explains_how(text: str) -> None:
    with pytest.raises(CommandError, match="needs the lead's phone number"):
        parse_command(text)


# --- inbox ------------------------------------------------------------------------------


def test_inbox_defaults_to_open() -> None:
    assert parse_command("inbox") == cmd("inbox", filter="open")


@pytest.mark.parametrize("value", INBOX_FILTERS)
def test_inbox_filters(value: str) -> None:
    assert parse_command(f"inbox {value.upper()}") == cmd("inbox", filter=value)


def test_unknown_inbox_filter_lists_the_allowed_ones() -> None:
    with pytest.raises(CommandError) as info:
        parse_command("inbox starred")
    for value in INBOX_FILTERS:
        assert f"`{value}`" in str(info.value)


# --- tag --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tag add hot-lead", cmd("tag", action="add", tag="hot-lead")),
        ("tag Hot_Lead", cmd("tag", action="add", tag="hot_lead")),
        ("tag #VIP", cmd("tag", action="add", tag="vip")),
        ("tag REMOVE vip", cmd("tag", action="remove", tag="vip")),
        ("tag list", cmd("tag", action="list", tag="")),
        ("tag add list", cmd("tag", action="add", tag="list")),
        ("tag " + "a" * 32, cmd("tag", action="add", tag="a" * 32)),
    ],
)
def test_tag_forms(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("tag", "needs a tag"),
        ("tag add", "needs a tag"),
        ("tag remove", "needs a tag"),
        ("tag hot lead", "one tag at a time"),
        ("tag bad!", "not a valid tag name"),
        ("tag " + "a" * 33, "not a valid tag name"),
        ("tag \u212aelvin", "not a valid tag name"),  # Kelvin sign lowercases to "k"
        ("tag list all", "takes nothing more"),
    ],
)
def test_tag_mistakes(text: str, says: str) -> None:
    with pytest.raises(CommandError, match=says):
        parse_command(text)


# --- snippet ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "snippet add Hours We are open 9-5.\nClosed Sundays.",
            cmd("snippet", action="add", name="hours", text="We are open 9-5.\nClosed Sundays."),
        ),
        ("snippet remove HOURS", cmd("snippet", action="remove", name="hours", text="")),
        ("snippet list", cmd("snippet", action="list", name="", text="")),
        ("snippet Hours", cmd("snippet", action="use", name="hours", text="")),
    ],
)
def test_snippet_forms(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("snippet", "needs a name"),
        ("snippet add", "needs a name"),
        ("snippet add hours", "needs the text to save"),
        ("snippet remove", "needs a name"),
        ("snippet remove hours now", "takes only a name"),
        ("snippet hours now", "takes only a name"),
        ("snippet add bad.name text", "not a valid snippet name"),
    ],
)
def test_snippet_mistakes(text: str, says: str) -> None:
    with pytest.raises(CommandError, match=says):
        parse_command(text)


# --- unknown, help text, convenience ----------------------------------------------------


def test_unknown_command_is_named_and_the_commands_listed() -> None:
    with pytest.raises(CommandError) as info:
        parse_command("frobnicate now")
    message = str(info.value)
    assert "`/sms frobnicate`" in message
    for name in COMMANDS:
        assert name in message


def test_unknown_command_echo_cannot_break_markdown() -> None:
    with pytest.raises(CommandError) as info:
        parse_command("`" * 200)
    assert "``" not in str(info.value).replace("`/sms ", "")
    assert len(str(info.value)) < 300


def test_help_text_mentions_every_command() -> None:
    for name in COMMANDS:
        assert f"`/sms {name}" in HELP_TEXT
    assert "note:" in HELP_TEXT


def test_command_convenience_accessors() -> None:
    close = parse_command("close +15551234567")
    assert close.phone == "+15551234567"
    assert close.get("missing") == ""
    assert parse_command("close").phone is None


def test_command_error_is_a_value_error() -> None:
    assert issubclass(CommandError, ValueError)


words = st.sampled_from([*COMMANDS, "add", "remove", "list", "@dana", "<@U1|d>", "+1", "555"])


@settings(max_examples=300)
@given(st.text())
def test_parse_never_raises_anything_but_command_error(text: str) -> None:
    try:
        command = parse_command(text)
    except CommandError as error:
        assert str(error)
        return
    assert command.name in COMMANDS
    assert all(isinstance(v, str) for v in command.args.values())


@settings(max_examples=300)
@given(st.lists(st.one_of(words, st.text(max_size=8)), max_size=6))
def test_parse_command_like_text_never_crashes(parts: list[str]) -> None:
    try:
        command = parse_command(" ".join(parts))
    except CommandError:
        return
    assert command.name in COMMANDS


@pytest.mark.parametrize(
    ("text", "args"),
    [
        ("name Maria Lopez", {"name": "Maria Lopez"}),
        ("name +1 415 555 0123 Maria Lopez", {"phone": "+1 415 555 0123", "name": "Maria Lopez"}),
        ("name (415) 555-0123 Maria", {"phone": "(415) 555-0123", "name": "Maria"}),
        ("name 555 Bakery", {"name": "555 Bakery"}),
    ],
)
def test_name_takes_the_new_name_and_in_a_channel_the_number_first(
    text: str, args: dict[str, str]
) -> None:
    assert parse_command(text) == Command("name", args)


@pytest.mark.parametrize("text", ["name", "name +14155550123", "name " + "x" * 201])
def test_name_without_a_usable_name_says_how_to_write_it(text: str) -> None:
    with pytest.raises(CommandError, match="name"):
        parse_command(text)


def test_contacts_export_is_the_one_contacts_command_in_chat() -> None:
    assert parse_command("contacts export") == Command("contacts", {"action": "export"})
    with pytest.raises(CommandError, match="smsbridge contacts import"):
        parse_command("contacts import")
