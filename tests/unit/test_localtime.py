"""The lead's local time from their number, and quiet hours read on the lead's clock
(`quiet_hours_zone = "lead"`), across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.compliance import in_quiet_hours, parse_quiet_hours, quiet_hours_end
from bot.domain.localtime import lead_time_zone, local_time_label, quiet_hours_zone

CHICAGO = "America/Chicago"
# Numbers whose area has one zone, with that zone (phonenumbers' data).
LEADS = {
    "+14155550100": "America/Los_Angeles",
    "+12125550100": "America/New_York",
    "+16025550100": "America/Phoenix",  # no DST
    "+13125550100": "America/Chicago",
    "+12505550100": "America/Vancouver",
    "+61212345678": "Australia/Sydney",  # DST in the other half of the year
}
QUIET = ["21:00", "08:00"]


def test_a_san_francisco_number_is_in_los_angeles_time() -> None:
    assert lead_time_zone("+14155550100", CHICAGO) == "America/Los_Angeles"


def test_a_number_spanning_several_zones_takes_the_organizations_when_it_is_one() -> None:
    # A UK mobile: London, Guernsey, Isle of Man.
    assert lead_time_zone("+447700900123", "Europe/London") == "Europe/London"


def test_a_number_spanning_several_zones_has_no_time_otherwise() -> None:
    # Toll-free +1 800 spans all North American zones; a London team cannot tell.
    assert lead_time_zone("+18005550100", "Europe/London") is None
    assert lead_time_zone("+18005550100", CHICAGO) == CHICAGO


def test_garbage_has_no_zone() -> None:
    assert lead_time_zone("not a number", CHICAGO) is None


def test_the_label_reads_like_a_clock() -> None:
    now = datetime(2026, 11, 30, 5, 41, tzinfo=UTC)  # 9:41 PM the day before in LA
    assert local_time_label("America/Los_Angeles", now) == "9:41 PM"
    assert local_time_label("America/New_York", now) == "12:41 AM"
    assert local_time_label(None, now) is None


def test_quiet_hours_by_organization_ignore_the_leads_zone() -> None:
    assert quiet_hours_zone("organization", "+14155550100", CHICAGO) == CHICAGO


def test_a_lead_without_a_known_zone_gets_the_organizations_quiet_hours() -> None:
    assert quiet_hours_zone("lead", "+18005550100", "Europe/London") == "Europe/London"


def test_evening_for_the_team_is_still_afternoon_for_a_california_lead() -> None:
    zone = quiet_hours_zone("lead", "+14155550100", CHICAGO)
    qh = parse_quiet_hours(QUIET, zone)
    org_qh = parse_quiet_hours(QUIET, CHICAGO)
    nine_thirty_pm_chicago = datetime(2026, 7, 1, 21, 30, tzinfo=ZoneInfo(CHICAGO))
    assert in_quiet_hours(org_qh, nine_thirty_pm_chicago)
    assert not in_quiet_hours(qh, nine_thirty_pm_chicago)
    seven_am_chicago = datetime(2026, 7, 1, 7, 0, tzinfo=ZoneInfo(CHICAGO))
    assert in_quiet_hours(qh, seven_am_chicago)  # 5 AM in San Francisco


# Instants spread over two years, dense around the 2026 DST changes of both hemispheres.
TRANSITIONS = [
    datetime(2026, 3, 8, 9, tzinfo=UTC),
    datetime(2026, 11, 1, 8, tzinfo=UTC),
    datetime(2026, 4, 4, 16, tzinfo=UTC),  # Sydney falls back
    datetime(2026, 10, 3, 16, tzinfo=UTC),  # Sydney springs forward
]
near_change = st.builds(
    lambda base, minutes: base + timedelta(minutes=minutes),
    st.sampled_from(TRANSITIONS),
    st.integers(-36 * 60, 36 * 60),
)
anytime = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=400)
@given(
    phone=st.sampled_from(sorted(LEADS)),
    now=st.one_of(near_change, anytime),
    window=st.sampled_from([QUIET, ["20:00", "09:00"], ["22:30", "07:15"], ["01:00", "05:00"]]),
)
def test_quiet_hours_follow_the_leads_wall_clock_across_dst(
    phone: str, now: datetime, window: list[str]
) -> None:
    zone = quiet_hours_zone("lead", phone, CHICAGO)
    assert zone == LEADS[phone]
    qh = parse_quiet_hours(window, zone)
    assert qh is not None
    start, end = qh.start, qh.end
    local = now.astimezone(ZoneInfo(LEADS[phone])).time().replace(tzinfo=None)
    inside = (local >= start or local < end) if start > end else start <= local < end
    assert in_quiet_hours(qh, now) == inside
    held_until = quiet_hours_end(qh, now)
    assert held_until >= now
    assert not in_quiet_hours(qh, held_until)
    if inside:
        wall = held_until.astimezone(ZoneInfo(LEADS[phone])).time()
        assert wall == time(end.hour, end.minute)
        # Held no longer than the window lasts (plus an hour a DST change may add).
        span = (datetime.combine(now.date(), end) - datetime.combine(now.date(), start)) % (
            timedelta(days=1)
        )
        assert held_until - now <= span + timedelta(hours=1)
