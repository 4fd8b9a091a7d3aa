"""The automation rules as pure decisions: the away message at most once per lead per
12 h, the acknowledgement only for a lead's first SMS ever, never an automatic text to a
keyword, a blocked or an opted-out number; spam keywords; mentions; the weekly digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.automations import (
    AWAY_WINDOW,
    Automations,
    AutoText,
    Inbound,
    automatic_text,
    digest_week,
    mention_assignee,
    spam_keyword,
)
from bot.domain.hours import parse_business_hours

CHICAGO = "America/Chicago"
RULES = Automations(
    business_hours=parse_business_hours(["Mon-Fri 08:00-18:00"], CHICAGO),
    away_message="We're closed.",
    ack_message="Thanks, a person will answer shortly.",
)
NIGHT = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # Monday 22:00 in Chicago
DAY = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # Tuesday 10:00


def sms(at: datetime = NIGHT, **facts: object) -> Inbound:
    values: dict[str, object] = dict(
        at=at, keyword=False, blocked=False, opted_out=False, first_ever=False, last_auto_at=None
    )
    values.update(facts)
    return Inbound(**values)  # type: ignore[arg-type]


def test_outside_business_hours_the_lead_gets_the_away_message() -> None:
    assert automatic_text(RULES, sms()) is AutoText.AWAY


def test_the_away_message_goes_again_only_after_twelve_hours() -> None:
    assert automatic_text(RULES, sms(last_auto_at=NIGHT - timedelta(hours=11))) is None
    assert automatic_text(RULES, sms(last_auto_at=NIGHT - AWAY_WINDOW)) is AutoText.AWAY


def test_inside_business_hours_only_a_first_sms_ever_is_acknowledged() -> None:
    assert automatic_text(RULES, sms(DAY)) is None
    assert automatic_text(RULES, sms(DAY, first_ever=True)) is AutoText.ACK


def test_a_first_sms_at_night_gets_the_away_message_not_both() -> None:
    assert automatic_text(RULES, sms(first_ever=True)) is AutoText.AWAY


@settings(max_examples=200, deadline=None)
@given(
    at=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    first_ever=st.booleans(),
    since_last=st.none() | st.integers(0, 48 * 60),
    refusal=st.sampled_from(["keyword", "blocked", "opted_out"]),
)
def test_never_an_automatic_text_to_a_keyword_a_blocked_or_an_opted_out_number(
    at: datetime, first_ever: bool, since_last: int | None, refusal: str
) -> None:
    now = at.replace(tzinfo=UTC)
    last = None if since_last is None else now - timedelta(minutes=since_last)
    facts = sms(now, first_ever=first_ever, last_auto_at=last, **{refusal: True})
    assert automatic_text(RULES, facts) is None


@settings(max_examples=200, deadline=None)
@given(
    at=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    first_ever=st.booleans(),
    since_last=st.integers(0, 12 * 60 - 1),
)
def test_nothing_automatic_within_the_window_of_the_last_automatic_text(
    at: datetime, first_ever: bool, since_last: int
) -> None:
    now = at.replace(tzinfo=UTC)
    facts = sms(now, first_ever=first_ever, last_auto_at=now - timedelta(minutes=since_last))
    assert automatic_text(RULES, facts) is None


def test_without_texts_configured_nothing_is_sent() -> None:
    assert automatic_text(Automations(), sms(first_ever=True)) is None


def test_spam_keywords_match_whole_words_in_any_case() -> None:
    keywords = ["crypto", "loan approved"]
    assert spam_keyword("Your LOAN   approved! click", keywords) == "loan approved"
    assert spam_keyword("Buy crypto now", keywords) == "crypto"
    assert spam_keyword("I like cryptography", keywords) is None
    assert spam_keyword("My roof leaks", keywords) is None


def test_assignees_are_mentioned_by_their_notify_setting() -> None:
    assert mention_assignee("mentions", already_watching=False)
    assert not mention_assignee("mentions", already_watching=True)
    assert mention_assignee("all", already_watching=True)
    assert not mention_assignee("none", already_watching=False)


def test_the_digest_is_due_from_monday_eight_in_the_organizations_zone() -> None:
    tz = ZoneInfo(CHICAGO)
    monday = datetime(2026, 11, 30, tzinfo=tz)
    assert digest_week(datetime(2026, 11, 30, 7, 59, tzinfo=tz), CHICAGO) is None
    assert digest_week(datetime(2026, 11, 30, 8, 0, tzinfo=tz), CHICAGO) == monday
    assert digest_week(datetime(2026, 12, 3, 12, 0, tzinfo=tz), CHICAGO) == monday
    # Sunday night is still last week's.
    assert digest_week(datetime(2026, 11, 29, 23, 0, tzinfo=tz), CHICAGO) == monday - timedelta(
        days=7
    )


@settings(max_examples=200, deadline=None)
@given(at=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)))
def test_the_digest_week_is_a_local_monday_at_most_a_week_back(at: datetime) -> None:
    now = at.replace(tzinfo=UTC)
    week = digest_week(now, CHICAGO)
    if week is None:
        return
    assert week.weekday() == 0 and (week.hour, week.minute) == (0, 0)
    assert timedelta(0) <= now - week < timedelta(days=7, hours=1)
