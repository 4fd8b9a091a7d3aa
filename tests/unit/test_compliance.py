"""Compliance: STOP/START/HELP keywords and quiet hours in the organization's zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.compliance import (
    HELP_KEYWORDS,
    OPT_IN_KEYWORDS,
    OPT_OUT_KEYWORDS,
    Keyword,
    QuietHours,
    classify_keyword,
    in_quiet_hours,
    parse_quiet_hours,
    quiet_hours_end,
)

CHICAGO = ZoneInfo("America/Chicago")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def chicago(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=CHICAGO, fold=fold).astimezone(UTC)


# --- keywords ---------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["STOP", "Stop", "stop", " stop ", "Stop.", "STOP!", "stop\n"])
def test_stop_in_any_case_or_punctuation_opts_out(body: str) -> None:
    assert classify_keyword(body) is Keyword.OPT_OUT


@pytest.mark.parametrize("word", sorted(OPT_OUT_KEYWORDS))
def test_every_opt_out_keyword_opts_out(word: str) -> None:
    assert classify_keyword(word.lower()) is Keyword.OPT_OUT


@pytest.mark.parametrize("word", sorted(OPT_IN_KEYWORDS))
def test_every_opt_in_keyword_opts_in(word: str) -> None:
    assert classify_keyword(word.title()) is Keyword.OPT_IN


@pytest.mark.parametrize("word", sorted(HELP_KEYWORDS))
def test_help_keywords(word: str) -> None:
    assert classify_keyword(f"{word}?") is Keyword.HELP


@pytest.mark.parametrize(
    "body",
    [
        "stop texting me please",
        "Please stop",
        "yes please",
        "stopp",
        "",
        "   ",
        "!!!",
        "S T O P",
        "ſtop",  # long s: .upper() would make it "STOP", Twilio does not
        "STOP😀",
        "Can you help?",
    ],
)
def test_sentences_and_lookalikes_are_not_keywords(body: str) -> None:
    assert classify_keyword(body) is None


def test_zero_width_characters_around_a_keyword_are_ignored() -> None:
    assert classify_keyword("\u200bSTOP\ufeff") is Keyword.OPT_OUT


@pytest.mark.parametrize(
    ("opt_out_type", "expected"),
    [("STOP", Keyword.OPT_OUT), ("START", Keyword.OPT_IN), ("HELP", Keyword.HELP)],
)
def test_twilio_opt_out_type_wins_over_the_body(opt_out_type: str, expected: Keyword) -> None:
    # Twilio may match a custom keyword we do not know; its verdict is what it enforces.
    assert classify_keyword("arret", opt_out_type) is expected
    assert classify_keyword("START", opt_out_type.lower()) is expected


@pytest.mark.parametrize("opt_out_type", [None, "", "  ", "SOMETHING-NEW"])
def test_missing_or_unknown_opt_out_type_falls_back_to_body(opt_out_type: str | None) -> None:
    assert classify_keyword("stop", opt_out_type) is Keyword.OPT_OUT
    assert classify_keyword("hello", opt_out_type) is None


def test_keyword_values_are_stable_strings() -> None:
    assert [k.value for k in Keyword] == ["opt_out", "opt_in", "help"]
    assert Keyword.OPT_OUT == "opt_out"


@settings(max_examples=300)
@given(st.text(), st.one_of(st.none(), st.text(max_size=10)))
def test_classify_keyword_never_raises(body: str, opt_out_type: str | None) -> None:
    assert classify_keyword(body, opt_out_type) in (None, *Keyword)


@settings(max_examples=200)
@given(st.text(alphabet=st.characters(categories=["Zs", "Zl", "Zp", "Cc", "P"])))
def test_whitespace_and_punctuation_only_is_never_a_keyword(body: str) -> None:
    assert classify_keyword(body) is None


@settings(max_examples=200)
@given(
    st.sampled_from(sorted(OPT_OUT_KEYWORDS)),
    st.text(alphabet=" .!?,;\n\t\"'", max_size=4),
    st.text(alphabet=" .!?,;\n\t\"'", max_size=4),
)
def test_opt_out_keyword_with_any_surrounding_punctuation(word: str, pre: str, post: str) -> None:
    assert classify_keyword(pre + word.swapcase() + post) is Keyword.OPT_OUT


# --- quiet hours: parsing ---------------------------------------------------------------


def test_parse_quiet_hours() -> None:
    qh = parse_quiet_hours(["21:00", "08:00"], "America/Chicago")
    assert qh == QuietHours(time(21, 0), time(8, 0), "America/Chicago")
    assert parse_quiet_hours(["7:30", " 23:59 "], "UTC") == QuietHours(
        time(7, 30), time(23, 59), "UTC"
    )


def test_no_quiet_hours_setting_means_none() -> None:
    assert parse_quiet_hours(None, "America/Chicago") is None


@pytest.mark.parametrize(
    ("value", "named"),
    [
        (["25:00", "08:00"], "'25:00'"),
        (["21:00", "8"], "'8'"),
        (["21:60", "08:00"], "'21:60'"),
        (["9pm", "8am"], "'9pm'"),
        (["21:00"], "['21:00']"),
        (["21:00", "08:00", "09:00"], "quiet_hours"),
        ("21:00-08:00", "'21:00-08:00'"),
        ([21, 8], "21"),
    ],
)
def test_bad_quiet_hours_name_the_bad_value(value: object, named: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_quiet_hours(value, "UTC")  # type: ignore[arg-type]
    assert named in str(info.value)


@pytest.mark.parametrize("zone", ["Mars/Base", "", "../etc/passwd", "America/Chicag"])
def test_unknown_timezone_is_refused(zone: str) -> None:
    with pytest.raises(ValueError, match="timezone"):
        parse_quiet_hours(["21:00", "08:00"], zone)


# --- quiet hours: the window ------------------------------------------------------------

NIGHT = QuietHours(time(21, 0), time(8, 0), "America/Chicago")
LUNCH = QuietHours(time(12, 0), time(13, 0), "America/Chicago")


def test_no_quiet_hours_is_never_quiet() -> None:
    assert not in_quiet_hours(None, utc(2024, 1, 1, 3, 0))


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        ((2024, 1, 10, 20, 59), False),
        ((2024, 1, 10, 21, 0), True),
        ((2024, 1, 10, 23, 30), True),
        ((2024, 1, 11, 0, 0), True),
        ((2024, 1, 11, 7, 59), True),
        ((2024, 1, 11, 8, 0), False),
        ((2024, 1, 11, 12, 0), False),
    ],
)
def test_overnight_window_in_local_time(local: tuple[int, ...], quiet: bool) -> None:
    assert in_quiet_hours(NIGHT, chicago(*local)) is quiet


def test_daytime_window() -> None:
    assert in_quiet_hours(LUNCH, chicago(2024, 7, 1, 12, 30))
    assert not in_quiet_hours(LUNCH, chicago(2024, 7, 1, 13, 0))
    assert not in_quiet_hours(LUNCH, chicago(2024, 7, 1, 11, 59))


def test_start_equal_end_is_never_quiet() -> None:
    qh = QuietHours(time(9, 0), time(9, 0), "UTC")
    assert not in_quiet_hours(qh, utc(2024, 1, 1, 9, 0))
    assert quiet_hours_end(qh, utc(2024, 1, 1, 9, 0)) == utc(2024, 1, 1, 9, 0)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        in_quiet_hours(NIGHT, datetime(2024, 1, 1, 3, 0))


def test_quiet_hours_end_holds_until_local_morning() -> None:
    # 22:00 Chicago in winter (CST, UTC-6) -> 08:00 CST next day = 14:00 UTC.
    assert quiet_hours_end(NIGHT, chicago(2024, 1, 10, 22, 0)) == utc(2024, 1, 11, 14, 0)
    # 03:00 in summer (CDT, UTC-5) -> 08:00 CDT the same day = 13:00 UTC.
    assert quiet_hours_end(NIGHT, chicago(2024, 7, 10, 3, 0)) == utc(2024, 7, 10, 13, 0)


def test_quiet_hours_end_outside_the_window_is_now() -> None:
    now = chicago(2024, 1, 10, 15, 0)
    assert quiet_hours_end(NIGHT, now) == now


def test_quiet_hours_end_across_spring_forward() -> None:
    # 2024-03-10: Chicago jumps from 02:00 CST to 03:00 CDT; 08:00 is CDT (13:00 UTC).
    assert quiet_hours_end(NIGHT, chicago(2024, 3, 9, 23, 0)) == utc(2024, 3, 10, 13, 0)


def test_quiet_hours_end_across_fall_back() -> None:
    # 2024-11-03: Chicago repeats 01:00-02:00; 08:00 is CST (14:00 UTC).
    assert quiet_hours_end(NIGHT, chicago(2024, 11, 2, 23, 0)) == utc(2024, 11, 3, 14, 0)


def test_window_ending_inside_the_skipped_hour_ends_at_the_jump() -> None:
    qh = QuietHours(time(22, 0), time(2, 30), "America/Chicago")
    # 02:30 never happens on 2024-03-10: the window ends when clocks jump to 03:00 CDT.
    assert quiet_hours_end(qh, chicago(2024, 3, 10, 1, 0)) == utc(2024, 3, 10, 8, 0)


def test_window_ending_inside_the_repeated_hour() -> None:
    qh = QuietHours(time(22, 0), time(1, 30), "America/Chicago")
    # First 01:30 (CDT) ends the window ...
    assert quiet_hours_end(qh, chicago(2024, 11, 3, 0, 30)) == chicago(2024, 11, 3, 1, 30)
    # ... and during the repeated 01:00-01:30 (CST) the wall clock is back in it.
    second = chicago(2024, 11, 3, 1, 10, fold=1)
    assert in_quiet_hours(qh, second)
    assert quiet_hours_end(qh, second) == chicago(2024, 11, 3, 1, 30, fold=1)


ZONES = [
    "UTC",
    "America/Chicago",
    "America/St_Johns",
    "Europe/London",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "Asia/Kolkata",
    "America/Santiago",
]
times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 59]))


@settings(max_examples=200)
@given(
    start=times,
    end=times,
    zone=st.sampled_from(ZONES),
    now=st.datetimes(
        min_value=datetime(2005, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
)
def test_quiet_hours_end_is_the_first_moment_sending_is_allowed(
    start: time, end: time, zone: str, now: datetime
) -> None:
    qh = QuietHours(start, end, zone)
    until = quiet_hours_end(qh, now)
    assert until.utcoffset() == timedelta(0)
    assert not in_quiet_hours(qh, until)
    if in_quiet_hours(qh, now):
        assert until > now
        assert until - now <= timedelta(days=2)
        # One second earlier it was still quiet: the hold is not longer than needed.
        assert in_quiet_hours(qh, until - timedelta(seconds=1))
    else:
        assert until == now


@settings(max_examples=200)
@given(
    start=times,
    end=times,
    zone=st.sampled_from(ZONES),
    now=st.datetimes(
        min_value=datetime(2005, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
)
def test_in_quiet_hours_agrees_with_the_local_wall_clock(
    start: time, end: time, zone: str, now: datetime
) -> None:
    qh = QuietHours(start, end, zone)
    wall = now.astimezone(ZoneInfo(zone)).time().replace(tzinfo=None)
    if start == end:
        expected = False
    elif start < end:
        expected = start <= wall < end
    else:
        expected = not (end <= wall < start)
    assert in_quiet_hours(qh, now) is expected
