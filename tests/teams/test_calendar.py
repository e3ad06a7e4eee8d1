"""The business calendar: worked examples, properties, and the team's own calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teams import services
from teams.calendar import BusinessCalendar, CalendarError, add_target, calendar_for_team
from tests.factories import TeamFactory

JAKARTA = ZoneInfo("Asia/Jakarta")
JAYAPURA = ZoneInfo("Asia/Jayapura")


def jkt(*args) -> datetime:
    return datetime(*args, tzinfo=JAKARTA)


# -- worked examples of SPEC §3.1 ----------------------------------------------------------
def test_friday_1600_plus_8_business_hours_is_monday_1600():
    assert BusinessCalendar().add(jkt(2026, 8, 7, 16), timedelta(hours=8)) == jkt(2026, 8, 10, 16)


def test_a_public_holiday_monday_pushes_the_due_time_to_tuesday():
    # 17 August 2026, Independence Day, is a Monday.
    assert BusinessCalendar().add(jkt(2026, 8, 14, 16), timedelta(hours=8)) == jkt(2026, 8, 18, 16)


def test_without_holiday_country_the_holiday_is_a_working_day():
    calendar = BusinessCalendar(holiday_country="")
    assert calendar.add(jkt(2026, 8, 14, 16), timedelta(hours=8)) == jkt(2026, 8, 17, 16)


def test_due_time_is_the_earliest_instant_not_the_next_opening():
    assert BusinessCalendar().add(jkt(2026, 8, 7, 9), timedelta(hours=8)) == jkt(2026, 8, 7, 17)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (jkt(2026, 8, 5, 3, 0), jkt(2026, 8, 5, 10, 0)),  # 03:00 on a Wednesday starts at 09:00
        (jkt(2026, 8, 9, 14, 0), jkt(2026, 8, 10, 10, 0)),  # a Sunday starts on Monday at 09:00
        (jkt(2026, 8, 5, 18, 30), jkt(2026, 8, 6, 10, 0)),  # after hours starts the next morning
        (jkt(2026, 8, 5, 16, 30), jkt(2026, 8, 6, 9, 30)),  # 30 minutes today, 30 tomorrow
    ],
)
def test_time_outside_working_hours_counts_for_nothing(start, expected):
    assert BusinessCalendar().add(start, timedelta(hours=1)) == expected


def test_the_lunch_break_is_skipped():
    calendar = BusinessCalendar(break_start=time(12), break_end=time(13))
    assert calendar.add(jkt(2026, 8, 5, 11, 30), timedelta(hours=1)) == jkt(2026, 8, 5, 13, 30)
    assert calendar.add(jkt(2026, 8, 5, 12, 15), timedelta(minutes=30)) == jkt(2026, 8, 5, 13, 30)


def test_with_a_break_one_business_day_is_seven_hours():
    calendar = BusinessCalendar(break_start=time(12), break_end=time(13))
    assert calendar.day_length == timedelta(hours=7)
    assert add_target(calendar, jkt(2026, 8, 5, 9), 1, "business_days") == jkt(2026, 8, 5, 17)
    assert add_target(calendar, jkt(2026, 8, 5, 10), 1, "business_days") == jkt(2026, 8, 6, 10)


def test_a_team_in_jayapura_works_on_its_own_clock():
    # 09:00 in Jayapura is 07:00 in Jakarta (UTC+9 vs UTC+7).
    calendar = BusinessCalendar(timezone="Asia/Jayapura")
    due = calendar.add(datetime(2026, 8, 5, 7, 30, tzinfo=JAKARTA), timedelta(hours=1))
    assert due == datetime(2026, 8, 5, 10, 30, tzinfo=JAYAPURA)
    assert due.tzinfo == UTC
    # Friday 16:00 in Jayapura, Monday the 17th a holiday there too: Tuesday 16:00 Jayapura time.
    friday = datetime(2026, 8, 14, 16, tzinfo=JAYAPURA)
    assert calendar.add(friday, timedelta(hours=8)) == datetime(2026, 8, 18, 16, tzinfo=JAYAPURA)


def test_closed_dates_count_like_holidays():
    calendar = BusinessCalendar(closed_dates=[date(2026, 8, 10)])
    assert calendar.add(jkt(2026, 8, 7, 16), timedelta(hours=8)) == jkt(2026, 8, 11, 16)


def test_calendar_units_ignore_the_calendar():
    calendar = BusinessCalendar()
    start = jkt(2026, 8, 7, 16)
    assert add_target(calendar, start, 90, "minutes") == jkt(2026, 8, 7, 17, 30)
    assert add_target(calendar, start, 24, "hours") == jkt(2026, 8, 8, 16)
    assert add_target(calendar, start, 3, "days") == jkt(2026, 8, 10, 16)
    assert add_target(calendar, start, 8, "business_hours") == jkt(2026, 8, 10, 16)
    assert add_target(calendar, start, 30, "business_minutes") == jkt(2026, 8, 7, 16, 30)
    with pytest.raises(ValueError, match="unknown unit"):
        add_target(calendar, start, 1, "fortnights")


def test_measuring_between_two_instants():
    calendar = BusinessCalendar(break_start=time(12), break_end=time(13))
    assert calendar.between(jkt(2026, 8, 14, 16), jkt(2026, 8, 18, 16)) == timedelta(hours=7)
    assert calendar.between(jkt(2026, 8, 5, 11), jkt(2026, 8, 5, 14)) == timedelta(hours=2)
    assert calendar.between(jkt(2026, 8, 5, 14), jkt(2026, 8, 5, 11)) == timedelta(0)


def test_zero_duration_returns_the_start():
    assert BusinessCalendar().add(jkt(2026, 8, 9, 3), timedelta(0)) == jkt(2026, 8, 9, 3)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="naive"):
        BusinessCalendar().add(datetime(2026, 8, 5, 9), timedelta(hours=1))
    with pytest.raises(ValueError, match="negative"):
        BusinessCalendar().add(jkt(2026, 8, 5, 9), timedelta(hours=-1))
    with pytest.raises(CalendarError):
        BusinessCalendar(work_days=[])
    with pytest.raises(CalendarError):
        BusinessCalendar(work_start=time(17), work_end=time(9))


def test_a_calendar_closed_for_ever_raises_instead_of_looping():
    every_day = [date(2026, 1, 1) + timedelta(days=n) for n in range(4000)]
    with pytest.raises(CalendarError):
        BusinessCalendar(closed_dates=every_day).add(jkt(2026, 1, 1), timedelta(hours=1))


def test_a_zone_with_daylight_saving_counts_real_elapsed_time():
    # Europe/Berlin springs forward on 29 March 2026 (a Sunday): work days around it are normal.
    berlin = ZoneInfo("Europe/Berlin")
    calendar = BusinessCalendar(timezone="Europe/Berlin", holiday_country="")
    friday = datetime(2026, 3, 27, 16, tzinfo=berlin)
    assert calendar.add(friday, timedelta(hours=2)) == datetime(2026, 3, 30, 10, tzinfo=berlin)


# -- the team's calendar from the database -----------------------------------------------
@pytest.mark.django_db
def test_calendar_for_team_uses_its_zone_hours_break_and_closed_dates(django_assert_num_queries):
    team = TeamFactory(timezone="Asia/Jayapura", work_start=time(8), work_end=time(16), holiday_country="")
    services.closed_date_add(team=team, day=date(2026, 8, 10), name="Cuti bersama")
    with django_assert_num_queries(1):
        calendar = calendar_for_team(team)
    start = datetime(2026, 8, 7, 15, tzinfo=JAYAPURA)
    assert calendar.add(start, timedelta(hours=2)) == datetime(2026, 8, 11, 9, tzinfo=JAYAPURA)


# -- properties ------------------------------------------------------------------------
CALENDARS = [
    BusinessCalendar(),
    BusinessCalendar(break_start=time(12), break_end=time(13)),
    BusinessCalendar(timezone="Asia/Jayapura", work_days=[1, 2, 3, 4, 5, 6], work_start=time(8), work_end=time(14)),
    BusinessCalendar(timezone="America/New_York", holiday_country="US", closed_dates=[date(2026, 11, 27)]),
]
instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))
durations = st.integers(min_value=1, max_value=60 * 24 * 40).map(lambda m: timedelta(minutes=m))
calendars = st.sampled_from(CALENDARS)


@settings(max_examples=300, deadline=None)
@given(calendar=calendars, start=instants, duration=durations)
def test_the_due_time_always_lies_inside_working_time(calendar, start, duration):
    assert calendar.is_working_time(calendar.add(start, duration))


@settings(max_examples=300, deadline=None)
@given(calendar=calendars, start=instants, duration=durations)
def test_measuring_back_gives_the_duration(calendar, start, duration):
    assert calendar.between(start, calendar.add(start, duration)) == duration


@settings(max_examples=300, deadline=None)
@given(calendar=calendars, start=instants, first=durations, second=durations)
def test_adding_is_monotonic_in_the_duration(calendar, start, first, second):
    shorter, longer = sorted([first, second])
    assert calendar.add(start, shorter) <= calendar.add(start, longer)


@settings(max_examples=200, deadline=None)
@given(calendar=calendars, start=instants, first=durations, second=durations)
def test_adding_in_two_steps_equals_adding_once(calendar, start, first, second):
    assert calendar.add(calendar.add(start, first), second) == calendar.add(start, first + second)
