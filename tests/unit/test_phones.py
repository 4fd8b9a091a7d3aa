"""Phone parsing: what people type becomes E.164 or a clear refusal."""

from __future__ import annotations

import re

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.phones import (
    InvalidPhone,
    InvalidSender,
    looks_like_phone,
    mask_phone,
    normalize_phone,
    normalize_sender,
)


@pytest.mark.parametrize(
    "raw",
    [
        "+1 (415) 555-0100",
        "+14155550100",
        "415-555-0100",
        "(415) 555-0100",
        "415.555.0100",
        "tel:+14155550100",
        "TEL:+1-415-555-0100",
        "  +1 415 555 0100\n",
        "1 415 555 0100",
    ],
)
def test_us_numbers_in_many_shapes_become_e164(raw: str) -> None:
    assert normalize_phone(raw) == "+14155550100"


def test_international_numbers_keep_their_country() -> None:
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"
    assert normalize_phone("+49 30 901820") == "+4930901820"


def test_default_region_reads_national_numbers() -> None:
    assert normalize_phone("020 7946 0958", default_region="GB") == "+442079460958"


@pytest.mark.parametrize("digit", range(10))
def test_twilio_magic_test_numbers_are_accepted(digit: int) -> None:
    assert normalize_phone(f"+1500555000{digit}") == f"+1500555000{digit}"
    assert normalize_phone(f"(500) 555-000{digit}") == f"+1500555000{digit}"


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("", "needed"),
        ("   ", "needed"),
        ("tel:", "needed"),
        ("+1 555", "not a complete phone number"),
        ("555", "not a complete phone number"),
        ("abc", "not a phone number"),
        ("1-800-FLOWERS", "not a phone number"),
        ("+1 415 555 0100 x12", "not a phone number"),
        ("+1 415 555 0100 10", "too long"),
        ("+999 1234567", "country code"),
        ("5555555555", "not a valid phone number"),
        ("+()-", "no digits"),
    ],
)
def test_bad_numbers_are_refused_with_a_helpful_message(raw: str, says: str) -> None:
    with pytest.raises(InvalidPhone) as info:
        normalize_phone(raw)
    message = str(info.value)
    assert says in message
    assert "+15551234567" in message  # always shows how to write it right


def test_partial_number_message_matches_the_house_style() -> None:
    with pytest.raises(InvalidPhone, match=re.escape("'+1 555' is not a complete phone number.")):
        normalize_phone("+1 555")


def test_invalid_phone_is_a_value_error() -> None:
    assert issubclass(InvalidPhone, ValueError)


def test_message_does_not_echo_a_huge_paste() -> None:
    with pytest.raises(InvalidPhone) as info:
        normalize_phone("x" * 5000)
    assert len(str(info.value)) < 200


@settings(max_examples=300)
@given(st.text())
def test_normalize_never_raises_anything_but_invalid_phone(raw: str) -> None:
    try:
        result = normalize_phone(raw)
    except InvalidPhone:
        return
    assert re.fullmatch(r"\+[1-9]\d{6,14}", result)


@settings(max_examples=200)
@given(st.text(alphabet="0123456789+()-. tel:", max_size=30))
def test_normalize_phone_like_noise_never_crashes(raw: str) -> None:
    try:
        result = normalize_phone(raw)
    except InvalidPhone:
        return
    assert result.startswith("+")
    # Whatever it returned must itself be a fixed point.
    assert normalize_phone(result) == result


@pytest.mark.parametrize("region", ["US", "GB", "DE", "FR", "AU", "BR", "IN", "JP"])
def test_example_numbers_round_trip(region: str) -> None:
    example = phonenumbers.example_number(region)
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    assert normalize_phone(e164) == e164
    assert normalize_phone(national, default_region=region) == e164


def test_mask_keeps_country_code_and_last_two_digits() -> None:
    assert mask_phone("+14155550100") == "+1********00"
    assert mask_phone("+442079460958") == "+44********58"


@pytest.mark.parametrize("value", ["", "garbage", "12", "12345", "+1", "+", "tel:??", "☎"])
def test_mask_never_raises_on_odd_input(value: str) -> None:
    masked = mask_phone(value)
    assert isinstance(masked, str)


def test_mask_hides_short_digit_strings_entirely() -> None:
    assert mask_phone("12345") == "*****"


@settings(max_examples=200)
@given(st.text())
def test_mask_never_raises_and_never_shows_more_than_a_few_digits(value: str) -> None:
    masked = mask_phone(value)
    digits = [c for c in value if c in "0123456789"]
    shown = [c for c in masked if c in "0123456789"]
    # Only the country code (at most 3 digits) and the last two ever survive.
    assert len(shown) <= 5
    if len(digits) >= 6:
        assert len(shown) < len(digits)


@settings(max_examples=200)
@given(st.from_regex(r"\+1[2-9][0-9]{2}[2-9][0-9]{6}", fullmatch=True))
def test_mask_of_a_full_number_hides_the_subscriber_part(e164: str) -> None:
    masked = mask_phone(e164)
    assert masked.startswith("+1")
    assert masked.endswith(e164[-2:])
    assert e164[2:-2] not in masked
    assert len(masked) == len(e164)


@pytest.mark.parametrize(
    "text", ["+15551234567", "555-0100", "(415) 555", "415", "tel:+1415", " 1 2 3 "]
)
def test_looks_like_phone_for_number_searches(text: str) -> None:
    assert looks_like_phone(text)


@pytest.mark.parametrize("text", ["Dana", "dana 555", "12", "", "   ", "+1", "ACME-42", "😀123"])
def test_looks_like_phone_false_for_names(text: str) -> None:
    assert not looks_like_phone(text)


@settings(max_examples=200)
@given(st.text())
def test_looks_like_phone_is_total(text: str) -> None:
    assert looks_like_phone(text) in (True, False)


@given(st.text(max_size=400))
@settings(max_examples=400)
def test_a_sender_is_short_and_stable_or_refused_in_a_short_sentence(raw: str) -> None:
    try:
        sender = normalize_sender(raw)
    except InvalidSender as exc:
        assert len(str(exc)) < 160
        return
    assert 0 < len(sender) <= 16
    assert normalize_sender(sender) == sender


@pytest.mark.parametrize(
    "raw", ["whatsapp:+14155550210", "WhatsApp:+14155550210", "messenger:123", "+1" + "5" * 40]
)
def test_channel_prefixed_and_overlong_senders_are_refused(raw: str) -> None:
    with pytest.raises(InvalidSender):
        normalize_sender(raw)
