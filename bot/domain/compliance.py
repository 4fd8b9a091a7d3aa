"""Messaging compliance: opt-out/opt-in/help keywords and quiet hours.

Carriers require honouring STOP at once, so keyword matching follows Twilio's rules
(the whole message must be the keyword) to agree with what Twilio itself blocks.
Quiet hours keep sends out of the organization's night, in its own time zone.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "HELP_KEYWORDS",
    "OPT_IN_KEYWORDS",
    "OPT_OUT_KEYWORDS",
    "Keyword",
    "QuietHours",
    "classify_keyword",
    "in_quiet_hours",
    "parse_quiet_hours",
    "quiet_hours_end",
]

OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})


class Keyword(enum.StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


# Twilio's OptOutType form field, sent when its Advanced Opt-Out matched the body.
_OPT_OUT_TYPES = {"STOP": Keyword.OPT_OUT, "START": Keyword.OPT_IN, "HELP": Keyword.HELP}


def _is_trim(c: str) -> bool:
    # Whitespace, punctuation ("Stop.", "STOP!") and invisible format characters such
    # as zero-width spaces that some phones add.
    return c.isspace() or unicodedata.category(c)[0] == "P" or unicodedata.category(c) == "Cf"


def classify_keyword(body: str, opt_out_type: str | None = None) -> Keyword | None:
    """Which compliance keyword an inbound SMS is, if any.

    Twilio's ``OptOutType`` wins when present, since Twilio already acted on it. Else
    the body, trimmed of surrounding whitespace and punctuation, must be exactly one
    keyword, case-insensitive: "Stop." opts out, "stop texting me" does not.
    """
    if opt_out_type and opt_out_type.strip():
        known = _OPT_OUT_TYPES.get(opt_out_type.strip().upper())
        if known is not None:
            return known
        # An OptOutType we do not know: fall back to reading the body ourselves.
    start, end = 0, len(body)
    while start < end and _is_trim(body[start]):
        start += 1
    while end > start and _is_trim(body[end - 1]):
        end -= 1
    word = body[start:end]
    # ASCII only: str.upper() maps look-alikes ("ſtop") onto keywords Twilio ignores.
    if not (word.isascii() and word.isalpha()):
        return None
    word = word.upper()
    if word in OPT_OUT_KEYWORDS:
        return Keyword.OPT_OUT
    if word in OPT_IN_KEYWORDS:
        return Keyword.OPT_IN
    if word in HELP_KEYWORDS:
        return Keyword.HELP
    return None


@dataclass(frozen=True)
class QuietHours:
    """Local times between which nothing is sent; ``start > end`` wraps midnight."""

    start: time
    end: time
    timezone: str  # IANA name, e.g. "America/Chicago"


_HHMM = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def _parse_time(value: object) -> time:
    if not isinstance(value, str) or not (m := _HHMM.fullmatch(value.strip())):
        raise ValueError(
            f'quiet_hours time {value!r} is not valid: use 24-hour HH:MM, like "21:00".'
        )
    return time(int(m.group(1)), int(m.group(2)))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(
            f'timezone {name!r} is not known: use an IANA name like "America/Chicago".'
        ) from None


def parse_quiet_hours(value: list[str] | None, timezone: str) -> QuietHours | None:
    """Read the TOML ``quiet_hours = ["21:00", "08:00"]`` setting; None means none.

    Raises ValueError naming the bad value, so a config mistake fails at start-up.
    """
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(
            f'quiet_hours {value!r} must be two times, start and end: ["21:00", "08:00"].'
        )
    start, end = _parse_time(value[0]), _parse_time(value[1])
    _zone(timezone)
    return QuietHours(start=start, end=end, timezone=timezone)


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (UTC)")


def in_quiet_hours(qh: QuietHours | None, now: datetime) -> bool:
    """Whether ``now`` (aware) falls in the quiet window, read on the local wall clock.

    The window is [start, end): 21:00-08:00 is quiet at 21:00 and at 07:59, not at
    08:00. start == end means no quiet hours at all (not "always quiet").
    """
    _require_aware(now)
    if qh is None or qh.start == qh.end:
        return False
    local = now.astimezone(_zone(qh.timezone)).time().replace(tzinfo=None)
    if qh.start < qh.end:
        return qh.start <= local < qh.end
    return local >= qh.start or local < qh.end


def _wall_end_instants(day: date, end: time, tz: ZoneInfo) -> list[datetime]:
    """UTC instants at which the local clock reaches ``end`` on ``day``.

    Twice on a fall-back day (the hour repeats), once normally, and on a spring-forward
    day where ``end`` does not exist, the moment the clock jumps past it.
    """
    first = datetime.combine(day, end, tzinfo=tz).astimezone(UTC)
    second = datetime.combine(day, end, tzinfo=tz).replace(fold=1).astimezone(UTC)
    wall = datetime.combine(day, end)
    if first.astimezone(tz).replace(tzinfo=None) == wall:
        return sorted({first, second})
    # In a gap: fold=1 maps before the jump, fold=0 after it. Find the jump by
    # bisection on the local wall clock, which only moves forward across a gap.
    lo, hi = int(min(first, second).timestamp()), int(max(first, second).timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    return [datetime.fromtimestamp(hi, UTC)]


def quiet_hours_end(qh: QuietHours, now: datetime) -> datetime:
    """The UTC instant a send held by quiet hours may go out.

    When ``now`` is inside the window, this is the next moment the window ends (DST
    safe: a repeated hour or a skipped one is handled by the zone rules). When ``now`` is
    not in quiet hours, it is ``now`` itself, so a caller can always hold until it.
    """
    _require_aware(now)
    now_utc = now.astimezone(UTC)
    if not in_quiet_hours(qh, now_utc):
        return now_utc
    tz = _zone(qh.timezone)
    day = now_utc.astimezone(tz).date() - timedelta(days=1)
    # A few days is plenty: even a zone skipping a whole day ends the window by then.
    for offset in range(5):
        for instant in _wall_end_instants(day + timedelta(days=offset), qh.end, tz):
            if instant > now_utc and not in_quiet_hours(qh, instant):
                return instant
    raise AssertionError("quiet hours never end")  # pragma: no cover - unreachable
