"""Notes vs replies: an internal note must never be mistaken for an SMS."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.notes import NOTE_PREFIXES, classify_thread_text, split_note


@pytest.mark.parametrize(
    ("text", "body"),
    [
        ("note: call back", "call back"),
        ("Note: call back", "call back"),
        ("NOTE:x", "x"),
        ("  // hi", "hi"),
        (";;x", "x"),
        ("\n\tnOtE:   spaced out  ", "spaced out"),
        ("//", ""),
        ("note:\nline one\nline two", "line one\nline two"),
    ],
)
def test_note_prefixes_any_case_after_leading_whitespace(text: str, body: str) -> None:
    assert split_note(text) == (True, body)


@pytest.mark.parametrize(
    "text",
    ["call back tomorrow", "notes: plural", "note - dash", "/ single slash", "; one", "a // b", ""],
)
def test_text_without_a_prefix_is_not_a_note_and_is_unchanged(text: str) -> None:
    assert split_note(text) == (False, text)


def test_prefixes_are_the_documented_ones() -> None:
    assert NOTE_PREFIXES == ("note:", "//", ";;")


# --- direct mode: replies unless marked as notes ----------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi Dana, the crew comes Monday.", ("reply", "Hi Dana, the crew comes Monday.")),
        ("  Sure!  ", ("reply", "Sure!")),
        ("note: she prefers mornings", ("note", "she prefers mornings")),
        ("// internal", ("note", "internal")),
        (";;internal", ("note", "internal")),
        ("> quoted", ("reply", "> quoted")),
        ("", ("empty", "")),
        ("   \n ", ("empty", "")),
        ("note:", ("empty", "")),
        ("//   ", ("empty", "")),
    ],
)
def test_direct_mode(text: str, expected: tuple[str, str]) -> None:
    assert classify_thread_text(text, "direct") == expected


# --- explicit mode: notes unless marked as replies --------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("> Hi Dana, Monday works.", ("reply", "Hi Dana, Monday works.")),
        (">Hi", ("reply", "Hi")),
        ("   > indented", ("reply", "indented")),
        (">  two spaces", ("reply", "two spaces")),
        ("> // not a note once quoted", ("reply", "// not a note once quoted")),
        ("Hi Dana", ("note", "Hi Dana")),
        ("note: internal", ("note", "internal")),
        ("// internal", ("note", "internal")),
        ("a > b", ("note", "a > b")),
        (">", ("empty", "")),
        ("> ", ("empty", "")),
        ("", ("empty", "")),
        ("note:  ", ("empty", "")),
    ],
)
def test_explicit_mode(text: str, expected: tuple[str, str]) -> None:
    assert classify_thread_text(text, "explicit") == expected


def test_unknown_reply_mode_is_an_error() -> None:
    with pytest.raises(ValueError, match="reply_mode"):
        classify_thread_text("hi", "sometimes")


@settings(max_examples=200)
@given(st.text(), st.sampled_from(["direct", "explicit"]))
def test_classify_is_total_and_bodies_are_trimmed(text: str, mode: str) -> None:
    kind, body = classify_thread_text(text, mode)
    assert kind in ("note", "reply", "empty")
    assert body == body.strip()
    assert (kind == "empty") == (body == "")


@settings(max_examples=200)
@given(st.sampled_from(NOTE_PREFIXES), st.text(), st.sampled_from(["direct", "explicit"]))
def test_a_note_prefix_never_becomes_a_reply(prefix: str, rest: str, mode: str) -> None:
    kind, _ = classify_thread_text(prefix.upper() + rest, mode)
    assert kind != "reply"


@settings(max_examples=200)
@given(st.text())
def test_explicit_mode_never_replies_without_the_marker(text: str) -> None:
    kind, _ = classify_thread_text(text, "explicit")
    if not text.lstrip().startswith(">"):
        assert kind != "reply"
