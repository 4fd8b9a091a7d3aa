"""SMS segments: what a reply costs, matching carrier and Twilio counting."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.segments import GSM7, UCS2, SegmentInfo, segment_info

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = "\f^{}\\[~]|€"
EMOJI = "😀"


def test_short_plain_text_is_one_gsm_segment() -> None:
    info = segment_info("Hi Dana, your roof quote is ready.")
    assert info == SegmentInfo(GSM7, 1, 34, 160)


def test_160_gsm_chars_fit_one_segment_and_161_need_two() -> None:
    assert segment_info("a" * 160).segments == 1
    info = segment_info("a" * 161)
    assert (info.encoding, info.segments, info.per_segment) == (GSM7, 2, 153)


def test_long_gsm_text_splits_in_153_char_parts() -> None:
    assert segment_info("a" * 306).segments == 2
    assert segment_info("a" * 307).segments == 3
    assert segment_info("a" * 459).segments == 3
    assert segment_info("a" * 460).segments == 4


def test_extension_characters_count_twice() -> None:
    assert segment_info("€" * 80).segments == 1  # 160 septets
    assert segment_info("€" * 80 + "a").segments == 2
    info = segment_info("a" * 159 + "{")  # 161 septets
    assert (info.encoding, info.segments, info.characters) == (GSM7, 2, 160)


def test_extension_character_is_not_split_across_parts() -> None:
    # 152 septets then "€" (2): it cannot straddle parts, so it opens part two.
    assert segment_info("a" * 152 + "€" + "a" * 152).segments == 3
    # Without the split rule this would be 2 parts of 153 septets.
    assert segment_info("a" * 151 + "€" + "a" * 153).segments == 2


def test_gsm_accented_letters_stay_gsm() -> None:
    assert segment_info("Ça va à Zürich? ¡5€! Ñandú").encoding == UCS2  # "ú" is not GSM
    assert segment_info("Ça va à Zürich? ¡5€! Ñandu").encoding == GSM7


@pytest.mark.parametrize("char", ["’", "“", "”", "`", EMOJI, "é" + "\u0301", "ç", "\x1b", "\t"])
def test_non_gsm_characters_switch_to_ucs2(char: str) -> None:
    info = segment_info("Thanks" + char)
    assert info.encoding == UCS2
    assert info.per_segment == 70


def test_curly_quote_from_a_phone_keyboard_makes_ucs2() -> None:
    assert segment_info("We’ll be there at 9").encoding == UCS2


def test_70_ucs2_units_are_one_segment_71_are_two() -> None:
    assert segment_info("’" * 70).segments == 1
    info = segment_info("’" * 71)
    assert (info.encoding, info.segments, info.per_segment) == (UCS2, 2, 67)
    assert segment_info("’" * 134).segments == 2
    assert segment_info("’" * 135).segments == 3


def test_70_chars_with_one_emoji_is_two_ucs2_segments() -> None:
    # 69 letters + one emoji = 70 characters but 71 UTF-16 units.
    info = segment_info("a" * 69 + EMOJI)
    assert (info.encoding, info.segments, info.characters) == (UCS2, 2, 70)


def test_emoji_count_two_units() -> None:
    assert segment_info(EMOJI * 35).segments == 1  # 70 units
    assert segment_info(EMOJI * 36).segments == 2  # 72 units


def test_surrogate_pair_is_not_split_across_parts() -> None:
    # 66 units then an emoji (2 units) cannot share part one: it opens part two.
    assert segment_info("a" * 66 + EMOJI + "a" * 66).segments == 3
    assert segment_info("a" * 65 + EMOJI + "a" * 67).segments == 2


def test_empty_text_is_billed_as_one_segment() -> None:
    info = segment_info("")
    assert (info.encoding, info.segments, info.characters) == (GSM7, 1, 0)


def test_describe_reads_well() -> None:
    assert segment_info("hi").describe() == "1 segment · GSM-7 · 2 chars"
    assert segment_info("a" * 200).describe() == "2 segments · GSM-7 · 200 chars"
    assert segment_info("’" * 150).describe() == "3 segments · UCS-2 · 150 chars"
    assert segment_info("a").describe() == "1 segment · GSM-7 · 1 char"


def test_segment_info_is_frozen() -> None:
    info = segment_info("hi")
    with pytest.raises(AttributeError):
        info.segments = 5  # type: ignore[misc]


gsm_text = st.text(alphabet=GSM_BASIC + GSM_EXTENDED)


@settings(max_examples=200)
@given(st.text(), st.text(min_size=1, max_size=5))
def test_appending_never_reduces_segments(text: str, more: str) -> None:
    assert segment_info(text + more).segments >= segment_info(text).segments


@settings(max_examples=200)
@given(st.text(alphabet=GSM_BASIC, max_size=160))
def test_basic_gsm_text_up_to_160_is_one_segment(text: str) -> None:
    info = segment_info(text)
    assert (info.encoding, info.segments) == (GSM7, 1)


@settings(max_examples=200)
@given(st.integers(min_value=161, max_value=2000), st.sampled_from("abcXYZ"))
def test_ascii_letters_over_160_need_ceil_n_over_153(n: int, letter: str) -> None:
    assert segment_info(letter * n).segments == math.ceil(n / 153)


@settings(max_examples=200)
@given(st.text(alphabet=st.characters(codec="ascii", categories=["L"]), min_size=161))
def test_mixed_ascii_letters_over_160_need_ceil_n_over_153(text: str) -> None:
    assert segment_info(text).segments == math.ceil(len(text) / 153)


@settings(max_examples=200)
@given(st.text(), st.characters().filter(lambda c: c not in GSM_BASIC + GSM_EXTENDED), st.text())
def test_any_non_gsm_character_makes_ucs2(before: str, odd: str, after: str) -> None:
    info = segment_info(before + odd + after)
    assert info.encoding == UCS2
    assert info.characters == len(before) + len(odd) + len(after)


@settings(max_examples=200)
@given(gsm_text)
def test_gsm_segments_stay_within_septet_bounds(text: str) -> None:
    info = segment_info(text)
    septets = sum(2 if c in GSM_EXTENDED else 1 for c in text)
    assert info.encoding == GSM7
    if septets <= 160:
        assert info.segments == 1
    else:
        # Greedy packing wastes at most one septet per part (a split extension char).
        assert math.ceil(septets / 153) <= info.segments <= math.ceil(septets / 152)


@settings(max_examples=200)
@given(st.text(min_size=1).filter(lambda t: any(c not in GSM_BASIC + GSM_EXTENDED for c in t)))
def test_ucs2_segments_stay_within_unit_bounds(text: str) -> None:
    info = segment_info(text)
    units = len(text.encode("utf-16-le")) // 2
    if units <= 70:
        assert info.segments == 1
    else:
        assert math.ceil(units / 67) <= info.segments <= math.ceil(units / 66)
