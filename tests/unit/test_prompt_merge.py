"""Snippet merge fields."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.merge import MergeValues, first_name, merge_fields, unknown_fields

FULL = MergeValues("Jo Baker", "Sales", "Dana", "Acme Roofing")
EMPTY = MergeValues()


def test_all_fields_filled() -> None:
    text = "Hi {first_name} ({lead_name}), {member_name} from {line_label} here."
    assert merge_fields(text, FULL) == "Hi Jo (Jo Baker), Dana from Sales here."


def test_fallbacks_read_well() -> None:
    assert merge_fields("Hi {first_name}!", EMPTY) == "Hi there!"
    assert merge_fields("Hi {lead_name}!", EMPTY) == "Hi there!"
    assert merge_fields("{member_name} at {line_label}", EMPTY) == "our team at our team"
    no_label = MergeValues("Jo", "", "Dana", "Acme Roofing")
    assert merge_fields("{line_label}", no_label) == "Acme Roofing"


def test_unknown_fields_stay_visible() -> None:
    text = "Order {order_id} for {first_name}, {Unknown Thing} {}"
    assert merge_fields(text, FULL) == "Order {order_id} for Jo, {Unknown Thing} {}"
    assert unknown_fields(text + " {order_id} {FIRST_NAME}") == ["order_id"]


def test_fields_ignore_case_and_inner_spaces() -> None:
    assert merge_fields("Hi { First_Name }", FULL) == "Hi Jo"


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("Jo Baker", "Jo"),
        ("Dr. Jane Smith", "Jane"),
        ("Mrs Ana de la Cruz", "Ana"),
        ("Baker, Jo", "Baker"),
        ("  ", None),
        ("jo@example.com", None),
        ("+1 415 555 0100", None),
        (None, None),
    ],
)
def test_first_name(name: str | None, first: str | None) -> None:
    assert first_name(name) == first


def test_a_name_that_is_a_number_falls_back() -> None:
    values = MergeValues("4155550100", "Sales", "Dana")
    assert merge_fields("Hi {lead_name} / {first_name}", values) == "Hi there / there"


def test_merge_values_are_not_merged_again() -> None:
    values = MergeValues("{member_name}", "Sales", "Dana")
    assert merge_fields("{lead_name}", values) == "there"
    values = MergeValues("Jo {member_name}", "Sales", "Dana")
    assert merge_fields("{lead_name}", values) == "Jo {member_name}"


@given(st.text(alphabet=st.characters(blacklist_characters="{}")))
def test_text_without_braces_is_unchanged(text: str) -> None:
    assert merge_fields(text, FULL) == text


@given(st.from_regex(r"\{[a-z_]{1,12}\}", fullmatch=True))
def test_only_known_fields_change(field: str) -> None:
    merged = merge_fields(field, FULL)
    known = field.strip("{}") in ("first_name", "lead_name", "line_label", "member_name")
    assert (merged != field) is known
