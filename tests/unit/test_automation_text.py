"""Automation settings typed in chat: read, shown, typed back the same, checked together."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.automation_text import KEYS, OFF, parse, problem, typed

# A lone "off" or "none" is how a person turns a list off, so it is not a word here.
WORD = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz-_"), min_size=1, max_size=12).filter(
    lambda word: word not in OFF
)


@pytest.mark.parametrize(
    ("key", "text", "stored"),
    [
        ("business_hours", "Mon-Fri 08:00-18:00; Sat 09:00-13:00",
         ["Mon-Fri 08:00-18:00", "Sat 09:00-13:00"]),
        ("business_hours", "off", []),
        ("away_message", "Back at 8am.", "Back at 8am."),
        ("ack_message", "none", ""),
        ("auto_close_after_days", "7", 7),
        ("escalate_after_minutes", "off", 0),
        ("escalate_to", "@dana, sam sam", ["dana", "sam"]),
        ("block_keywords", "crypto, loan approved", ["crypto", "loan approved"]),
        ("block_keywords", "none", []),
    ],
)  # fmt: skip
def test_each_setting_is_read_from_what_a_person_types(key: str, text: str, stored: object) -> None:
    assert parse(key, text, "America/Chicago")[0] == stored


@given(
    st.sampled_from(KEYS[-2:]),
    st.lists(WORD, min_size=1, max_size=5, unique=True),
)
def test_a_setting_typed_back_from_the_form_reads_the_same(key: str, words: list[str]) -> None:
    value, _ = parse(key, ", ".join(words), "UTC")
    assert parse(key, typed({key: value}, key), "UTC")[0] == value == words


@pytest.mark.parametrize(
    ("key", "text", "says"),
    [
        ("business_hours", "weekdays", "Example:"),
        ("auto_close_after_days", "a week", "whole number of days"),
        ("escalate_after_minutes", "99999", "0 (off) to 10080"),
        ("away_message", "x" * 321, "at most 320"),
    ],
)
def test_a_setting_that_cannot_be_read_says_how_to_write_it(key: str, text: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        parse(key, text, "UTC")


def test_settings_that_do_not_hold_together_name_the_one_to_fix() -> None:
    assert problem({"away_message": "Closed"}, set())[0] == "away_message"  # type: ignore[index]
    assert problem({"escalate_after_minutes": 60}, {"dana"})[0] == "escalate_after_minutes"  # type: ignore[index]
    assert problem({"escalate_to": ["zed"]}, {"dana"})[0] == "escalate_to"  # type: ignore[index]
    hours = ["Mon-Fri 08:00-18:00"]
    assert problem({"away_message": "Closed", "business_hours": hours}, set()) is None
