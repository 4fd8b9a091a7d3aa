"""Business hours of an organization, read on its own wall clock.

The TOML gives spans like ``"Mon-Fri 08:00-18:00"``; the away message goes out when an
SMS arrives outside all of them. The wall clock (not UTC offsets) decides, so a span
means the same local hours on both sides of a DST change: "08:00-18:00" on the day the
clocks go back is eleven hours long, and an hour skipped by spring-forward is simply
not there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["DAYS", "BusinessHours", "Span", "is_open", "parse_business_hours"]

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY = {d.lower(): i for i, d in enumerate(DAYS)}
_SPAN = re.compile(
    r"\s*(?P<days>[A-Za-z]{3}(?:\s*[-,]\s*[A-Za-z]{3})*)\s+"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*"
)
_EXAMPLE = '"Mon-Fri 08:00-18:00"'


@dataclass(frozen=True)
class Span:
    """Open on these weekdays (0 = Monday) from `start` to `end` minutes after local
    midnight, end excluded (1440 = midnight at the end of the day)."""

    days: frozenset[int]
    start: int
    end: int

    def __str__(self) -> str:
        days = ",".join(DAYS[d] for d in sorted(self.days))
        return f"{days} {_hhmm(self.start)}-{_hhmm(self.end)}"


@dataclass(frozen=True)
class BusinessHours:
    spans: tuple[Span, ...]
    timezone: str

    def describe(self) -> list[str]:
        return [str(s) for s in self.spans]


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(text: str, *, end: bool) -> int:
    hours, minutes = (int(p) for p in text.split(":"))
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not end)):
        raise ValueError(f"{text!r} is not a time of day: use 24-hour HH:MM, like {_EXAMPLE}.")
    return hours * 60 + minutes


def _days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in re.split(r"\s*,\s*", text.strip()):
        ends = [p.strip().lower() for p in part.split("-")]
        if any(e not in _DAY for e in ends) or len(ends) > 2:
            raise ValueError(f"{part!r} is not a day or a range of days (Mon, Mon-Fri, Sat,Sun).")
        first, last = _DAY[ends[0]], _DAY[ends[-1]]
        # A range may wrap the week: "Fri-Mon" is Fri, Sat, Sun, Mon.
        days.update((first + i) % 7 for i in range((last - first) % 7 + 1))
    return frozenset(days)


def parse_business_hours(value: object, timezone: str) -> BusinessHours:
    """Read ``["Mon-Fri 08:00-18:00", "Sat 09:00-13:00"]``. Raises ValueError saying
    what is wrong and how to write it, so a typo fails at start-up."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"timezone {timezone!r} is not known") from None
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f'must be a list of spans like [{_EXAMPLE}, "Sat 09:00-13:00"].')
    spans = []
    for text in value:
        m = _SPAN.fullmatch(text)
        if m is None:
            raise ValueError(f"{text!r} is not a span: write days and hours, like {_EXAMPLE}.")
        start, end = _minutes(m["start"], end=False), _minutes(m["end"], end=True)
        if start >= end:
            raise ValueError(
                f"{text!r} ends before it starts; a span stays within one day "
                '(split a night shift: "Fri 22:00-24:00", "Sat 00:00-02:00").'
            )
        spans.append(Span(_days(m["days"]), start, end))
    return BusinessHours(tuple(spans), timezone)


def is_open(hours: BusinessHours | None, now: datetime) -> bool:
    """Whether `now` (aware) falls in a span on the organization's wall clock. No
    business hours configured means always open (no away message)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (UTC)")
    if hours is None:
        return True
    local = now.astimezone(ZoneInfo(hours.timezone))
    minute = local.hour * 60 + local.minute
    weekday = local.weekday()
    return any(weekday in s.days and s.start <= minute < s.end for s in hours.spans)
