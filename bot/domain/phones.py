"""Phone numbers: parse what people type into E.164, and hide numbers in logs.

Everything that crosses into storage or Twilio is E.164 (``+15551234567``). People
type numbers in many shapes, so parsing is forgiving about punctuation but strict about
the digits: a send to a half-typed number is worse than a clear refusal.
"""

from __future__ import annotations

import functools

import phonenumbers
from phonenumbers import NumberParseException, ValidationResult

__all__ = [
    "InvalidPhone",
    "InvalidSender",
    "looks_like_phone",
    "mask_phone",
    "normalize_phone",
    "normalize_sender",
]

# Twilio's magic test numbers (+15005550000..+15005550009) are not valid per the
# numbering plan, yet tests and the demo configuration rely on them.
_TWILIO_MAGIC = frozenset(f"+1500555000{d}" for d in range(10))

# Characters people use to format a number. Anything else (letters, extensions like
# "x12", emoji) is refused rather than guessed at: phonenumbers would happily turn
# vanity letters into digits, and a wrong lead is worse than an error.
_FORMATTING = frozenset("+()-./ \t")
_DIGITS = frozenset("0123456789")
_EXAMPLE = "Write it in international form, like +15551234567."
_MAX_SHOWN = 40  # keep error messages short even for pasted paragraphs


class InvalidPhone(ValueError):
    """A phone number that cannot be used; the message tells the user how to fix it."""


def _shown(raw: str) -> str:
    text = raw.strip()
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 1] + "…"
    return text


def _strip_tel(raw: str) -> str:
    text = raw.strip()
    if text[:4].lower() == "tel:":
        text = text[4:].strip()
    return text


@functools.lru_cache(maxsize=8192)
def normalize_phone(raw: str, default_region: str = "US") -> str:
    """Return ``raw`` as E.164, or raise :class:`InvalidPhone` saying what is wrong.

    Numbers without a leading ``+`` are read in ``default_region`` (so "415-555-0100"
    works for a US team). Never raises anything but InvalidPhone for a str input.
    Cached: every inbound SMS parses its line's and lead's numbers (~35 us each).
    """
    text = _strip_tel(raw)
    if not text:
        raise InvalidPhone(f"A phone number is needed. {_EXAMPLE}")
    shown = _shown(raw)
    if any(c not in _DIGITS and c not in _FORMATTING and not c.isspace() for c in text):
        raise InvalidPhone(
            f"'{shown}' is not a phone number: only digits, spaces and + ( ) - . are"
            f" allowed. {_EXAMPLE}"
        )
    digits = sum(c in _DIGITS for c in text)
    if digits == 0:
        raise InvalidPhone(f"'{shown}' has no digits. {_EXAMPLE}")
    try:
        number = phonenumbers.parse(text, default_region)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            raise InvalidPhone(
                f"'{shown}' has no country code I know. Start it with + and the country"
                f" code, like +15551234567."
            ) from None
        if exc.error_type == NumberParseException.TOO_LONG:
            raise InvalidPhone(f"'{shown}' is too long for a phone number. {_EXAMPLE}") from None
        raise InvalidPhone(f"'{shown}' is not a complete phone number. {_EXAMPLE}") from None

    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if e164 in _TWILIO_MAGIC:
        return e164
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason in (ValidationResult.TOO_SHORT, ValidationResult.INVALID_LENGTH):
        raise InvalidPhone(f"'{shown}' is not a complete phone number. {_EXAMPLE}")
    if reason == ValidationResult.TOO_LONG:
        raise InvalidPhone(f"'{shown}' is too long for a phone number. {_EXAMPLE}")
    if reason == ValidationResult.INVALID_COUNTRY_CODE:
        raise InvalidPhone(
            f"'{shown}' has no country code I know. Start it with + and the country"
            f" code, like +15551234567."
        )
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"'{shown}' is not a valid phone number; check the digits. {_EXAMPLE}")
    return e164


class InvalidSender(InvalidPhone):
    """An inbound From that cannot be a lead's sender. The message never repeats the
    value, so it may be logged and answered as it is."""


_SENDER_MAX = 32  # raw text; stored senders are at most 16 (E.164) or 11 (alphanumeric)
_SHORT_CODE = range(3, 9)  # digits of a short code
_ALPHANUMERIC_MAX = 11  # an alphanumeric sender id


def normalize_sender(raw: str) -> str:
    """An inbound SMS's From as stored on the lead: E.164 for a phone number, the digits
    of a short code, an alphanumeric sender id as sent; InvalidSender otherwise (a
    channel prefix such as `whatsapp:`, too long, or the wrong shape)."""
    text = raw.strip()
    head, colon, _ = text.partition(":")
    if colon and head.isalpha() and head.lower() != "tel":
        if head.lower() == "whatsapp":
            raise InvalidSender(
                "WhatsApp senders (whatsapp:...) are not supported: smsbridge bridges SMS "
                "only. Point the WhatsApp sender's webhook elsewhere."
            )
        raise InvalidSender(
            f"'{head[:16].lower()}:' senders are not supported: smsbridge bridges SMS only."
        )
    if len(text) > _SENDER_MAX:
        raise InvalidSender(f"From is too long to be a sender ({len(text)} characters).")
    if text.isdigit() and len(text) in _SHORT_CODE:
        return text
    alphanumeric = text.replace(" ", "")
    if (
        alphanumeric.isascii()
        and alphanumeric.isalnum()
        and any(c.isalpha() for c in alphanumeric)
        and len(text) <= _ALPHANUMERIC_MAX
    ):
        return text
    try:
        return normalize_phone(text)
    except InvalidPhone as exc:
        too_long = "too long" in str(exc)
        raise InvalidSender(
            "From is too long for a phone number."
            if too_long
            else "From cannot be a sender: it is not a phone number, a short code or an "
            "alphanumeric sender id."
        ) from None


def _country_code(e164: str) -> str:
    """The calling code of an E.164 string, or "" when it cannot be told."""
    if not e164.startswith("+"):
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except Exception:  # masking is for logs: it must never raise
        return ""
    return str(number.country_code or "")


def mask_phone(e164: str) -> str:
    """Hide a phone number for logs: "+14155550100" -> "+1********00".

    Keeps the country code and the last two digits only, so log lines can still be told
    apart without leaking the number. Accepts any string; never raises.
    """
    digits = "".join(c for c in e164 if c in _DIGITS)
    if not digits:
        return "***" if e164 else ""
    cc = _country_code(e164)
    if cc and digits.startswith(cc) and len(digits) - len(cc) >= 4:
        hidden = len(digits) - len(cc) - 2
        return f"+{cc}{'*' * hidden}{digits[-2:]}"
    if len(digits) >= 6:
        return f"{'*' * (len(digits) - 2)}{digits[-2:]}"
    # Too short to show any digit without giving most of it away.
    return "*" * len(digits)


def looks_like_phone(text: str) -> bool:
    """Cheap guess used by search: does ``text`` look like a phone number, not a name?

    True when it is only digits and phone punctuation (+ ( ) - . spaces, optional
    "tel:") and holds at least 3 digits; "555-01" is a phone search, "Dana" is a name.
    """
    body = _strip_tel(text)
    if not body:
        return False
    if any(c not in _DIGITS and c not in _FORMATTING and not c.isspace() for c in body):
        return False
    return sum(c in _DIGITS for c in body) >= 3
