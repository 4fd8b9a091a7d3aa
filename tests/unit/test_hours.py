"""Business hours on the organization's wall clock, on both sides of DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.hours import BusinessHours, Span, is_open, parse_business_hours

CHICAGO = "America/Chicago"
HOURS = parse_business_hours(["Mon-Fri 08:00-18:00", "Sat 09:00-13:00"], CHICAGO)


def local(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(CHICAGO), fold=fold).astimezone(UTC)


def test_weekdays_and_saturday_morning_are_open_sunday_and_nights_are_not() -> None:
    assert is_open(HOURS, local(2026, 11, 30, 8, 0))  # Monday
    assert is_open(HOURS, local(2026, 12, 4, 17, 59))  # Friday
    assert not is_open(HOURS, local(2026, 12, 4, 18, 0))
    assert not is_open(HOURS, local(2026, 11, 30, 7, 59))
    assert is_open(HOURS, local(2026, 12, 5, 12, 30))  # Saturday
    assert not is_open(HOURS, local(2026, 12, 5, 13, 0))
    assert not is_open(HOURS, local(2026, 12, 6, 12, 0))  # Sunday


def test_no_business_hours_means_always_open() -> None:
    assert is_open(None, local(2026, 12, 6, 3, 0))


def test_day_lists_and_ranges_that_wrap_the_week() -> None:
    hours = parse_business_hours(["Fri-Mon 10:00-12:00", "wed,THU 00:00-24:00"], "UTC")
    assert [sorted(s.days) for s in hours.spans] == [[0, 4, 5, 6], [2, 3]]
    assert hours.spans[1].end == 1440


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("Mon-Fri 08:00-18:00", "list of spans"),
        (["Mon-Fri 8-18"], "not a span"),
        (["Mon-Fri 18:00-08:00"], "ends before it starts"),
        (["Mon-Fry 08:00-18:00"], "not a day"),
        (["Mon 08:00-25:00"], "not a time of day"),
        (["Mon 24:00-24:00"], "not a time of day"),
    ],
)
def test_a_bad_span_is_refused_saying_how_to_write_it(value: object, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_business_hours(value, CHICAGO)


def test_the_repeated_hour_of_fall_back_is_read_on_the_wall_clock_both_times() -> None:
    hours = parse_business_hours(["Sun 01:00-02:00"], CHICAGO)
    assert is_open(hours, local(2026, 11, 1, 1, 30, fold=0))
    assert is_open(hours, local(2026, 11, 1, 1, 30, fold=1))
    # One wall hour, two real hours.
    assert open_minutes(hours, date(2026, 11, 1)) == 120


def test_the_skipped_hour_of_spring_forward_is_never_open() -> None:
    hours = parse_business_hours(["Sun 02:00-03:00"], CHICAGO)
    assert open_minutes(hours, date(2026, 3, 8)) == 0


def open_minutes(hours: BusinessHours, day: date) -> int:
    """Real minutes during which `hours` is open over the local day `day`."""
    tz = ZoneInfo(hours.timezone)
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    minutes = int((end.astimezone(UTC) - start).total_seconds() // 60)
    return sum(is_open(hours, start + timedelta(minutes=m)) for m in range(minutes))


# The days around Chicago's 2026 changes (Mar 8, Nov 1) and ordinary ones.
days = st.sampled_from(
    [date(2026, 3, d) for d in range(6, 11)]
    + [date(2026, 10, 30), date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)]
    + [date(2026, 6, 15), date(2027, 1, 4)]
)
clear_of_changes = st.tuples(st.integers(180, 1439), st.integers(1, 1440)).map(
    lambda p: (p[0], min(1440, p[0] + p[1]))
)


@settings(max_examples=40, deadline=None)
@given(day=days, span=clear_of_changes)
def test_a_span_away_from_the_change_is_open_exactly_its_length_on_any_day(
    day: date, span: tuple[int, int]
) -> None:
    start, end = span
    hours = BusinessHours((Span(frozenset({day.weekday()}), start, end),), CHICAGO)
    assert open_minutes(hours, day) == end - start


@settings(max_examples=200, deadline=None)
@given(
    at=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    days_open=st.frozensets(st.integers(0, 6)),
    start=st.integers(0, 1439),
    length=st.integers(1, 1440),
)
def test_open_exactly_when_the_wall_clock_is_inside_a_span(
    at: datetime, days_open: frozenset[int], start: int, length: int
) -> None:
    end = min(1440, start + length)
    hours = BusinessHours((Span(days_open, start, end),), CHICAGO)
    now = at.replace(tzinfo=UTC)
    wall = now.astimezone(ZoneInfo(CHICAGO))
    minute = wall.hour * 60 + wall.minute
    assert is_open(hours, now) == (wall.weekday() in days_open and start <= minute < end)
    every_day = BusinessHours((Span(frozenset(range(7)), 0, 1440),), CHICAGO)
    assert is_open(every_day, now)


@settings(max_examples=100, deadline=None)
@given(
    spans=st.lists(
        st.tuples(
            st.frozensets(st.integers(0, 6), min_size=1),
            st.integers(0, 1439),
            st.integers(1, 1440),
        ),
        max_size=4,
    )
)
def test_written_hours_read_back_the_same(
    spans: list[tuple[frozenset[int], int, int]],
) -> None:
    hours = BusinessHours(tuple(Span(d, s, min(1440, s + n)) for d, s, n in spans), "Europe/Berlin")
    assert parse_business_hours(hours.describe(), "Europe/Berlin") == hours


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        is_open(HOURS, datetime(2026, 11, 30, 9))
