"""Report figures from conversation rows, checked against sums done by hand."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.reports import Row, as_csv, as_json, as_text, compute, percentile

T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday 08:00 in Chicago


def row(hours: float, answer_minutes: float | None, who: str | None = None, line: str = "Sales"):
    return (line, (T0 + timedelta(hours=hours)).timestamp(), answer_minutes, who)


ROWS: list[Row] = [
    row(0, 10, "Dana"),
    row(1, 30, "Sam"),
    row(1.5, 50, "Dana"),
    row(26, 90, "Sam", line="Support"),
    row(27, None),  # still waiting
    ("Sales", None, None, None),  # outbound only: the lead never texted
]


def figures():  # type: ignore[no-untyped-def]
    return compute(
        ROWS,
        [60.0, 180.0, 600.0],
        since=T0,
        until=T0 + timedelta(days=7),
        timezone="America/Chicago",
        target_minutes=45,
    )


def test_the_figures_equal_those_done_by_hand() -> None:
    f = figures()
    assert f.new_conversations == 6
    assert f.answered == 4 and f.waiting_for_first_reply == 1
    # First responses 10, 30, 50, 90: median (30 + 50) / 2, p90 50 + 0.7 * 40.
    assert f.first_response_median == 40
    assert f.first_response_p90 == 78
    assert f.within_target == 2 and f.within_target_share == 2 / 5
    assert f.closed == 3 and f.close_median == 180
    # Local (Chicago) hours of the first texts: 08, 09, 09, 10 (next day), 11.
    assert f.busiest_hours == [(9, 2), (8, 1), (10, 1)]
    assert [(g.name, g.answered, g.median_minutes) for g in f.per_member] == [
        ("Dana", 2, 30),
        ("Sam", 2, 60),
    ]
    assert [(g.name, g.conversations, g.answered) for g in f.per_line] == [
        ("Sales", 5, 3),
        ("Support", 1, 1),
    ]
    assert [(d.day.isoformat(), d.answered, d.median_minutes) for d in f.by_day] == [
        ("2026-11-23", 3, 30),
        ("2026-11-24", 1, 90),
    ]


def test_text_csv_and_json_say_the_same() -> None:
    f = figures()
    text = as_text(f, "Acme Roofing")
    assert "New conversations: 6" in text
    assert "First response: median 40 min, 90th percentile 78 min" in text
    assert "Answered within 45 min: 2 (40%)" in text
    assert "Time to close: median 3.0 h (3 closed)" in text
    rows = list(csv.DictReader(io.StringIO(as_csv(f))))
    by = {(r["scope"], r["name"], r["figure"]): r["value"] for r in rows}
    assert by[("organization", "", "first_response_median")] == "40.0"
    assert by[("member", "Sam", "first_response_median")] == "60.0"
    data = as_json(f)
    assert data["first_response_p90"] == 78 and data["by_day"][0]["day"] == "2026-11-23"


def test_an_empty_period_has_no_medians() -> None:
    f = compute([], [], since=T0, until=T0, timezone="UTC")
    assert f.first_response_median is None and f.within_target_share is None
    assert "median —" in as_text(f)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=50), st.floats(0, 100))
def test_a_percentile_lies_between_the_smallest_and_largest_value(
    values: list[float], p: float
) -> None:
    value = percentile(values, p)
    assert value is not None and min(values) <= value <= max(values)
    assert percentile(values, 0) == min(values) and percentile(values, 100) == max(values)
