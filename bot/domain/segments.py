"""SMS segment counting, so people see what a reply will cost before it is sent.

Carriers bill per segment. GSM-7 text fits 160 septets in one SMS or 153 per part of a
long (concatenated) SMS; anything outside the GSM 03.38 alphabet forces UCS-2: 70 UTF-16
code units alone or 67 per part. Parts are packed greedily and a character is never cut
in half: a GSM extension character (two septets) or a UTF-16 surrogate pair (an emoji)
that does not fit moves whole to the next part, as phones and Twilio do.

One curly quote pasted from a word processor turns a whole reply into UCS-2 (70 chars a
segment instead of 160): ``ucs2_characters`` names the culprits so the author can see
them, and ``gsm_smart_quotes`` swaps typographic punctuation for its plain GSM-7 form
when an organization asks for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "GSM7",
    "UCS2",
    "SegmentInfo",
    "gsm_smart_quotes",
    "segment_info",
    "ucs2_characters",
]

GSM7 = "GSM-7"
UCS2 = "UCS-2"

# GSM 03.38 basic character set, in table order (0x1B, the escape code, left out: it is
# not a character a person can type). "\n" and "\r" are part of the set.
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: sent as ESC + code, so each costs two septets.
_GSM_EXTENDED = frozenset("\f^{}\\[~]|€")

_GSM_SINGLE, _GSM_PART = 160, 153
_UCS_SINGLE, _UCS_PART = 70, 67


@dataclass(frozen=True)
class SegmentInfo:
    """How a text will travel as SMS.

    ``characters`` counts characters as a person sees them in Python (code points), not
    septets or UTF-16 units. ``per_segment`` is the capacity of each part: 160/70 when
    the text fits one SMS, 153/67 once it is split.
    """

    encoding: str  # "GSM-7" or "UCS-2"
    segments: int
    characters: int
    per_segment: int

    def describe(self) -> str:
        """Short label for chat, e.g. "2 segments · GSM-7 · 200 chars"."""
        seg = "segment" if self.segments == 1 else "segments"
        chars = "char" if self.characters == 1 else "chars"
        return f"{self.segments} {seg} · {self.encoding} · {self.characters} {chars}"


def _is_gsm(text: str) -> bool:
    return all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text)


def _pack(sizes: Iterable[int], single: int, part: int) -> int:
    """Segments needed for units of the given sizes, never splitting a unit."""
    sizes = list(sizes)
    if sum(sizes) <= single:
        return 1
    segments, used = 1, 0
    for size in sizes:
        if used + size > part:
            segments += 1
            used = 0
        used += size
    return segments


def segment_info(text: str) -> SegmentInfo:
    """Encoding and segment count of ``text`` as an SMS.

    Empty text counts as 1 segment: Twilio bills a message with an empty body (for
    example MMS with media only) as one segment, and a 0 would read as "free".
    """
    if _is_gsm(text):
        sizes = [2 if c in _GSM_EXTENDED else 1 for c in text]
        segments = _pack(sizes, _GSM_SINGLE, _GSM_PART)
        per = _GSM_SINGLE if segments == 1 else _GSM_PART
        return SegmentInfo(GSM7, segments, len(text), per)
    # Characters beyond the Basic Multilingual Plane take a surrogate pair (2 units).
    sizes = [2 if ord(c) > 0xFFFF else 1 for c in text]
    segments = _pack(sizes, _UCS_SINGLE, _UCS_PART)
    per = _UCS_SINGLE if segments == 1 else _UCS_PART
    return SegmentInfo(UCS2, segments, len(text), per)


# Typographic characters word processors and phones put in, with the GSM-7 text a reader
# takes to mean the same. Only punctuation and spacing: letters are never changed.
_SMART = {
    "\u2018": "'",  # ‘
    "\u2019": "'",  # ’
    "\u201a": "'",  # ‚
    "\u201b": "'",  # ‛
    "\u2032": "'",  # ′
    "\u00b4": "'",  # ´
    "\u0060": "'",  # `
    "\u201c": '"',  # “
    "\u201d": '"',  # ”
    "\u201e": '"',  # „
    "\u201f": '"',  # ‟
    "\u2033": '"',  # ″
    "\u00ab": '"',  # «
    "\u00bb": '"',  # »
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2015": "-",  # horizontal bar
    "\u2212": "-",  # minus sign
    "\u2026": "...",  # ellipsis
    "\u00a0": " ",  # no-break space
    "\u2002": " ",
    "\u2003": " ",
    "\u2009": " ",  # thin space
    "\u202f": " ",  # narrow no-break space
    "\u200b": "",  # zero-width space
    "\u2022": "-",  # bullet
}
_SMART_TABLE = str.maketrans(_SMART)


def gsm_smart_quotes(text: str) -> str:
    """``text`` with curly quotes, long dashes, ellipses and odd spaces in GSM-7 form."""
    return text.translate(_SMART_TABLE)


def ucs2_characters(text: str) -> list[str]:
    """The characters that force UCS-2, in order of first appearance, once each; empty
    when the text travels as GSM-7."""
    seen: dict[str, None] = {}
    for c in text:
        if c not in _GSM_BASIC and c not in _GSM_EXTENDED:
            seen.setdefault(c, None)
    return list(seen)
