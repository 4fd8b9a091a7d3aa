"""SMS segment counting, so people see what a reply will cost before it is sent.

Carriers bill per segment. GSM-7 text fits 160 septets in one SMS or 153 per part of a
long (concatenated) SMS; anything outside the GSM 03.38 alphabet forces UCS-2: 70 UTF-16
code units alone or 67 per part. Parts are packed greedily and a character is never cut
in half: a GSM extension character (two septets) or a UTF-16 surrogate pair (an emoji)
that does not fit moves whole to the next part, as phones and Twilio do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["GSM7", "UCS2", "SegmentInfo", "segment_info"]

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
