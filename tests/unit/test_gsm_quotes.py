"""Cost before sending: which character forces UCS-2, and the GSM-7 forms of curly quotes,
long dashes and the like (`gsm_smart_quotes = true`)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.segments import GSM7, UCS2, gsm_smart_quotes, segment_info, ucs2_characters

SMART = "‘’‚‛“”„‟–—…\u00a0«»"
GSM_TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ABC0123456789.,!?'\"-@£€{}\n")


def test_one_curly_quote_is_named_as_what_forced_ucs2() -> None:
    text = "It’s ready, see you at 9"
    assert segment_info(text).encoding == UCS2
    assert ucs2_characters(text) == ["’"]


def test_plain_text_has_no_character_forcing_ucs2() -> None:
    assert ucs2_characters("Hi Maria, it's ready: {see} €5") == []


def test_each_culprit_is_named_once_in_order_of_appearance() -> None:
    assert ucs2_characters("“Hi” 😀 “there” 😀") == ["“", "”", "😀"]


def test_smart_quotes_become_gsm_and_the_reply_shrinks_back_to_one_segment() -> None:
    text = "“Great” — we’ll be there at 9… " + "x" * 60
    assert segment_info(text).segments == 2
    plain = gsm_smart_quotes(text)
    assert plain.startswith('"Great" - we\'ll be there at 9... ')
    assert segment_info(plain).encoding == GSM7
    assert segment_info(plain).segments == 1


def test_emoji_and_letters_are_never_replaced() -> None:
    assert gsm_smart_quotes("Merci 😀 Ærø ç ñ") == "Merci 😀 Ærø ç ñ"


@given(GSM_TEXT)
def test_gsm_text_is_left_exactly_as_written(text: str) -> None:
    assert gsm_smart_quotes(text) == text


@given(st.text(alphabet=SMART + "ab '"))
def test_after_replacement_no_smart_punctuation_forces_ucs2(text: str) -> None:
    plain = gsm_smart_quotes(text)
    assert ucs2_characters(plain) == []
    assert segment_info(plain).encoding == GSM7


@given(st.text())
def test_replacement_is_idempotent(text: str) -> None:
    once = gsm_smart_quotes(text)
    assert gsm_smart_quotes(once) == once


@given(st.text())
def test_without_the_named_characters_a_text_is_gsm7(text: str) -> None:
    culprits = set(ucs2_characters(text))
    rest = "".join(c for c in text if c not in culprits)
    assert segment_info(rest).encoding == GSM7
    assert (segment_info(text).encoding == UCS2) == bool(culprits)
