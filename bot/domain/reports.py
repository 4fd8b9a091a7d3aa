"""Report figures from one row per conversation: how many new conversations, how fast the
team first answered (median, 90th percentile, share within the target), how long until
closed, the busiest hours, per member and per line, and first response by day.

Pure: the service reads the rows with one indexed query (bot/services/reports.py); this
module turns them into figures, text, CSV and JSON, so the sums are checked by hand in
tests."""

from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["Figures", "Row", "as_csv", "as_json", "as_text", "compute", "percentile"]


# A conversation started in the period, as the database gives it (a plain tuple: reports
# read 100,000 of them): its line, when the lead first texted (seconds since 1970, None if
# they never did), minutes to the first reply by a member (None: not answered yet), and
# who wrote that reply.
Row = tuple[str, float | None, float | None, str | None]


@dataclass(frozen=True)
class Group:
    name: str
    conversations: int
    answered: int
    median_minutes: float | None


@dataclass(frozen=True)
class Day:
    day: date
    answered: int
    median_minutes: float | None


@dataclass(frozen=True)
class Figures:
    since: datetime
    until: datetime
    timezone: str
    new_conversations: int
    waiting_for_first_reply: int  # the lead texted, nobody answered yet
    answered: int
    first_response_median: float | None  # minutes
    first_response_p90: float | None
    target_minutes: int
    within_target: int
    closed: int
    close_median: float | None  # minutes from start to close
    busiest_hours: list[tuple[int, int]] = field(default_factory=list)  # (local hour, texts)
    per_member: list[Group] = field(default_factory=list)
    per_line: list[Group] = field(default_factory=list)
    by_day: list[Day] = field(default_factory=list)

    @property
    def within_target_share(self) -> float | None:
        asked = self.answered + self.waiting_for_first_reply
        return None if not asked else self.within_target / asked


EPOCH_DAY = date(1970, 1, 1)


def percentile(values: list[float], p: float) -> float | None:
    """Linear interpolation between the closest ranks (numpy's default); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low, high = math.floor(k), math.ceil(k)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def compute(
    rows: list[Row],
    close_minutes: list[float],
    *,
    since: datetime,
    until: datetime,
    timezone: str,
    target_minutes: int = 0,
) -> Figures:
    """Figures of the conversations started in [since, until) (`rows`) and of the
    durations of those closed in it (`close_minutes`)."""
    zone = ZoneInfo(timezone)
    responses: list[float] = []
    waiting = within = 0
    hours: Counter[int] = Counter()
    members: dict[str, list[float]] = defaultdict(list)
    lines: dict[str, list[float]] = defaultdict(list)
    line_counts: Counter[str] = Counter()
    days: dict[int, list[float]] = defaultdict(list)
    offsets: dict[int, float] = {}  # UTC offset per hour: zones change it on the hour
    for line, first_text_at, minutes, responder in rows:
        line_counts[line] += 1
        if first_text_at is None:
            continue
        hour = int(first_text_at // 3600)
        offset = offsets.get(hour)
        if offset is None:
            at = datetime.fromtimestamp(hour * 3600, UTC).astimezone(zone)
            offset = offsets[hour] = at.utcoffset().total_seconds()  # type: ignore[union-attr]
        local = first_text_at + offset  # seconds since 1970 on the local wall clock
        hours[int(local // 3600) % 24] += 1
        if minutes is None:
            waiting += 1
            continue
        responses.append(minutes)
        within += bool(target_minutes) and minutes <= target_minutes
        members[responder or "?"].append(minutes)
        lines[line].append(minutes)
        days[int(local // 86400)].append(minutes)
    return Figures(
        since=since,
        until=until,
        timezone=timezone,
        new_conversations=len(rows),
        waiting_for_first_reply=waiting,
        answered=len(responses),
        first_response_median=percentile(responses, 50),
        first_response_p90=percentile(responses, 90),
        target_minutes=target_minutes,
        within_target=within,
        closed=len(close_minutes),
        close_median=percentile(close_minutes, 50),
        busiest_hours=sorted(hours.items(), key=lambda kv: (-kv[1], kv[0]))[:3],
        per_member=[
            Group(name, len(v), len(v), percentile(v, 50)) for name, v in sorted(members.items())
        ],
        per_line=[
            Group(name, n, len(lines[name]), percentile(lines[name], 50))
            for name, n in sorted(line_counts.items())
        ],
        by_day=[
            Day(EPOCH_DAY + timedelta(days=d), len(v), percentile(v, 50))
            for d, v in sorted(days.items())
        ],
    )


def duration(minutes: float | None) -> str:
    if minutes is None:
        return "—"
    if minutes < 90:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"


def as_text(f: Figures, title: str = "Report") -> str:
    zone = ZoneInfo(f.timezone)
    span = f"{f.since.astimezone(zone):%a %d %b %H:%M} – {f.until.astimezone(zone):%a %d %b %H:%M}"
    lines = [
        f"*{title}* · {span} ({f.timezone})",
        f"New conversations: {f.new_conversations}",
        f"First response: median {duration(f.first_response_median)}, "
        f"90th percentile {duration(f.first_response_p90)} "
        f"({f.answered} answered, {f.waiting_for_first_reply} still waiting)",
    ]
    share = f.within_target_share
    if f.target_minutes and share is not None:
        lines.append(f"Answered within {f.target_minutes} min: {f.within_target} ({share:.0%})")
    lines.append(f"Time to close: median {duration(f.close_median)} ({f.closed} closed)")
    if f.busiest_hours:
        busy = ", ".join(f"{h:02d}:00 ({n})" for h, n in f.busiest_hours)
        lines.append(f"Busiest hours: {busy}")
    for label, groups in (("Per member", f.per_member), ("Per line", f.per_line)):
        if groups:
            lines.append(f"{label}:")
            lines += [
                f"• {g.name}: {g.conversations} conversation(s), {g.answered} answered, "
                f"median first response {duration(g.median_minutes)}"
                for g in groups
            ]
    return "\n".join(lines)


def as_json(f: Figures) -> dict[str, Any]:
    data = asdict(f)
    data["since"], data["until"] = f.since.isoformat(), f.until.isoformat()
    data["by_day"] = [{**asdict(d), "day": d.day.isoformat()} for d in f.by_day]
    data["within_target_share"] = f.within_target_share
    return data


def as_csv(f: Figures) -> str:
    """One figure per row (`scope, name, figure, value`): easy to pivot in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["scope", "name", "figure", "value"])
    for key in (
        "new_conversations",
        "answered",
        "waiting_for_first_reply",
        "first_response_median",
        "first_response_p90",
        "target_minutes",
        "within_target",
        "closed",
        "close_median",
    ):
        writer.writerow(["organization", "", key, _cell(getattr(f, key))])
    for hour, count in f.busiest_hours:
        writer.writerow(["hour", f"{hour:02d}:00", "first_texts", count])
    for scope, groups in (("member", f.per_member), ("line", f.per_line)):
        for g in groups:
            writer.writerow([scope, g.name, "conversations", g.conversations])
            writer.writerow([scope, g.name, "answered", g.answered])
            writer.writerow([scope, g.name, "first_response_median", _cell(g.median_minutes)])
    for d in f.by_day:
        writer.writerow(
            ["day", d.day.isoformat(), "first_response_median", _cell(d.median_minutes)]
        )
    return out.getvalue()


def _cell(value: float | None) -> str | float:
    return "" if value is None else round(value, 2)
