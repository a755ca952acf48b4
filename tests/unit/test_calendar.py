"""Calendar arithmetic: intervals, month-end clamping without drift, strict ISO dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from dateutil.tz import gettz
from hypothesis import given, settings
from hypothesis import strategies as st

from continuity.domain.calendar import (
    DateSequence,
    Interval,
    add_days,
    add_months,
    end_of_month,
    parse_date,
    parse_time_of_day,
    seconds_until,
)
from continuity.domain.errors import ValidationFailed

PROPERTY = settings(deadline=None, max_examples=150)


# --- Interval -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "count", "unit"),
    [
        pytest.param("30 days", 30, "days", id="thirty_days"),
        pytest.param("1 day", 1, "days", id="one_day_singular"),
        pytest.param("1 month", 1, "months", id="one_month"),
        pytest.param("2 months", 2, "months", id="two_months"),
        pytest.param("  3 Months ", 3, "months", id="spaces_and_capitals"),
        pytest.param("14days", 14, "days", id="no_space_between"),
        pytest.param("0 days", 0, "days", id="zero_days"),
    ],
)
def test_interval_parse_reads(text, count, unit):
    assert Interval.parse(text) == Interval(count, unit)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("monthly", id="a_word"),
        pytest.param("1 week", id="weeks"),
        pytest.param("1 year", id="years"),
        pytest.param("-1 days", id="negative"),
        pytest.param("1.5 months", id="fractional"),
        pytest.param("days 30", id="unit_first"),
        pytest.param("30", id="no_unit"),
        pytest.param("30 days later", id="trailing_words"),
    ],
)
def test_interval_parse_refuses_bad_text_with_interval_invalid(text):
    with pytest.raises(ValidationFailed) as caught:
        Interval.parse(text)
    assert caught.value.code == "interval_invalid"
    assert "30 days" in caught.value.message  # says what to write instead


@pytest.mark.parametrize(("count", "unit"), [(-1, "days"), (1, "weeks"), (1, "month")])
def test_an_interval_with_a_negative_count_or_unknown_unit_cannot_be_built(count, unit):
    with pytest.raises(ValidationFailed) as caught:
        Interval(count, unit)
    assert caught.value.code == "interval_invalid"


@pytest.mark.parametrize(
    ("interval", "text"),
    [
        (Interval(1, "months"), "1 month"),
        (Interval(2, "months"), "2 months"),
        (Interval(1, "days"), "1 day"),
        (Interval.days(30), "30 days"),
    ],
)
def test_an_interval_prints_in_words(interval, text):
    assert str(interval) == text


@PROPERTY
@given(count=st.integers(0, 10_000), unit=st.sampled_from(["days", "months"]))
def test_an_interval_parses_back_from_its_text(count, unit):
    assert Interval.parse(str(Interval(count, unit))) == Interval(count, unit)


# --- add_days / add_months ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2027-01-31", 1, "2027-02-28"),
        ("2028-01-31", 1, "2028-02-29"),
        ("2026-03-31", 1, "2026-04-30"),
        ("2026-12-15", 1, "2027-01-15"),
        ("2026-05-31", -1, "2026-04-30"),
        ("2028-02-29", 12, "2029-02-28"),
    ],
)
def test_add_months_clamps_to_the_end_of_a_shorter_month(start, months, expected):
    assert add_months(date.fromisoformat(start), months) == date.fromisoformat(expected)


def test_add_days_counts_the_leap_day():
    assert add_days(date(2028, 2, 28), 2) == date(2028, 3, 1)
    assert add_days(date(2027, 2, 28), 1) == date(2027, 3, 1)


# --- DateSequence ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "steps", "expected"),
    [
        pytest.param(
            "2027-01-31",
            ["1 month"] * 3,
            ["2027-02-28", "2027-03-31", "2027-04-30"],
            id="jan_31_monthly_clamps_to_feb_28_then_returns_to_mar_31",
        ),
        pytest.param(
            "2028-01-31",
            ["1 month"] * 2,
            ["2028-02-29", "2028-03-31"],
            id="jan_31_monthly_in_a_leap_year_clamps_to_feb_29",
        ),
        pytest.param(
            "2028-02-29",
            ["12 months"] * 4,
            ["2029-02-28", "2030-02-28", "2031-02-28", "2032-02-29"],
            id="feb_29_yearly_returns_to_feb_29_in_the_next_leap_year",
        ),
        pytest.param(
            "2026-08-31",
            ["1 month", "2 months", "1 month"],
            ["2026-09-30", "2026-11-30", "2026-12-31"],
            id="mixed_month_counts_keep_the_31st",
        ),
        pytest.param(
            "2028-02-27", ["1 day"] * 3, ["2028-02-28", "2028-02-29", "2028-03-01"], id="day_steps_pass_the_leap_day"
        ),
        pytest.param("2026-12-15", ["30 days"], ["2027-01-14"], id="day_steps_cross_the_year_end"),
        pytest.param(
            "2027-01-31",
            ["1 month", "1 day", "1 month"],
            ["2027-02-28", "2027-03-01", "2027-04-01"],
            id="a_day_step_makes_the_new_date_the_anchor",
        ),
        pytest.param(
            "2027-01-31",
            ["30 days", "1 month"],
            ["2027-03-02", "2027-04-02"],
            id="a_month_step_after_a_day_step_counts_from_the_new_date",
        ),
        pytest.param(
            "2026-06-10", ["0 days", "0 months"], ["2026-06-10", "2026-06-10"], id="zero_steps_stay_on_the_same_date"
        ),
    ],
)
def test_a_date_sequence_walks_these_dates(first, steps, expected):
    sequence = DateSequence(date.fromisoformat(first))
    assert sequence.current == date.fromisoformat(first)
    walked = [sequence.advance(Interval.parse(step)) for step in steps]
    assert [d.isoformat() for d in walked] == expected
    assert sequence.current == walked[-1]


def _days_in_month(day: date) -> int:
    return end_of_month(day.year, day.month).day


@PROPERTY
@given(first=st.dates(date(1900, 1, 1), date(2300, 12, 31)), steps=st.lists(st.integers(1, 24), max_size=30))
def test_month_steps_never_drift_from_the_first_day_of_month(first, steps):
    sequence = DateSequence(first)
    months = first.year * 12 + first.month - 1
    for step in steps:
        months += step
        current = sequence.advance(Interval(step, "months"))
        assert (current.year * 12 + current.month - 1) == months
        assert current.day == min(first.day, _days_in_month(current))


@PROPERTY
@given(first=st.dates(date(1900, 1, 1), date(2300, 12, 31)), steps=st.lists(st.integers(0, 500), max_size=30))
def test_day_steps_add_exactly_that_many_days(first, steps):
    sequence = DateSequence(first)
    for step in steps:
        before = sequence.current
        assert sequence.advance(Interval.days(step)) - before == timedelta(days=step)


# --- parse_date / end_of_month ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-02-28", date(2026, 2, 28)),
        (" 2026-03-01 ", date(2026, 3, 1)),
        ("2028-02-29", date(2028, 2, 29)),
    ],
)
def test_parse_date_reads_iso_dates(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("2026-02-30", id="feb_30"),
        pytest.param("2027-02-29", id="feb_29_in_a_common_year"),
        pytest.param("2026-13-01", id="month_13"),
        pytest.param("2026-04-31", id="april_31"),
        pytest.param("tomorrow", id="a_word"),
        pytest.param("", id="empty"),
        pytest.param("30/01/2026", id="day_first"),
        pytest.param("2026-02-281", id="trailing_digit"),
    ],
)
def test_parse_date_refuses_with_date_invalid(text):
    with pytest.raises(ValidationFailed) as caught:
        parse_date(text)
    assert caught.value.code == "date_invalid"
    assert "YYYY-MM-DD" in caught.value.message


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2027, 2, date(2027, 2, 28)),
        (2028, 2, date(2028, 2, 29)),
        (2100, 2, date(2100, 2, 28)),
        (2000, 2, date(2000, 2, 29)),
        (2026, 4, date(2026, 4, 30)),
        (2026, 12, date(2026, 12, 31)),
        (9999, 12, date(9999, 12, 31)),
    ],
)
def test_end_of_month_is_the_last_calendar_day(year, month, expected):
    assert end_of_month(year, month) == expected


# --- a time of day (`continuity worker --at`) ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("02:00", time(2, 0)), ("2:05", time(2, 5)), (" 23:59:58 ", time(23, 59, 58)), ("00:00:00", time(0))],
)
def test_a_time_of_day_is_read_as_hours_minutes_and_seconds(text, expected):
    assert parse_time_of_day(text) == expected


@pytest.mark.parametrize("text", ["24:00", "12:60", "12:00:60", "noon", "12", "12:5", "", "-1:00"])
def test_a_time_of_day_that_is_none_is_refused_with_a_stable_code(text):
    with pytest.raises(ValidationFailed) as refused:
        parse_time_of_day(text)
    assert refused.value.code == "time_invalid"
    assert "HH:MM" in refused.value.message


OSLO = gettz("Europe/Oslo")


@pytest.mark.parametrize(
    ("now", "moment", "zone", "seconds"),
    [
        pytest.param(datetime(2026, 12, 7, 1, 0, tzinfo=UTC), time(2, 0), None, 3600, id="later_today"),
        pytest.param(datetime(2026, 12, 7, 2, 0, tzinfo=UTC), time(2, 0), None, 0, id="this_very_moment"),
        pytest.param(datetime(2026, 12, 7, 2, 0, 1, tzinfo=UTC), time(2, 0), None, 86399, id="just_passed_tomorrow"),
        pytest.param(datetime(2026, 12, 31, 23, 0, tzinfo=UTC), time(0, 30), None, 5400, id="across_the_year"),
        pytest.param(
            datetime(2026, 12, 7, 1, 0, 0, 500000, tzinfo=timezone(timedelta(hours=1))),
            time(1, 0, 1),
            None,
            0.5,
            id="in_its_own_time_zone",
        ),
        # the clocks go forward on 2026-03-29 at 02:00 (CET to CEST): that day has 23 hours
        pytest.param(datetime(2026, 3, 28, 3, 30, tzinfo=OSLO), time(3, 0), OSLO, 22.5 * 3600, id="spring_forward"),
        # and back on 2026-10-25 at 03:00 (CEST to CET): 25 hours
        pytest.param(datetime(2026, 10, 24, 4, 30, tzinfo=OSLO), time(4, 0), OSLO, 24.5 * 3600, id="fall_back"),
        # a moment given in UTC, the time of day in Oslo: 23:30 UTC is 00:30 the next day there
        pytest.param(datetime(2026, 12, 7, 23, 30, tzinfo=UTC), time(1, 0), OSLO, 1800, id="now_in_another_zone"),
    ],
)
def test_the_next_occurrence_is_today_unless_it_has_passed_on_the_wall_clock_of_its_zone(now, moment, zone, seconds):
    assert seconds_until(moment, now, zone) == seconds


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 30), timezones=st.just(UTC)), st.times()
)
@PROPERTY
def test_the_next_occurrence_is_within_a_day_and_falls_on_that_time(now, moment):
    waited = seconds_until(moment, now)
    assert 0 <= waited < 86400
    assert (now + timedelta(seconds=waited)).time() == moment
