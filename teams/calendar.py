"""Business time for a team's working calendar.

A `BusinessCalendar` knows a team's time zone, working days, working hours, an
optional break, public holidays (from the `holidays` package) and extra closed
dates. It answers two questions, exactly and fast:

- `add(start, duration)`: the earliest instant at which `duration` of business
  time has elapsed since `start` (09:00 + 8 business hours is 17:00 the same day,
  not 09:00 the next working day);
- `between(start, end)`: how much business time lies between two instants.

All arithmetic is done on UTC instants, so days on which a zone changes its
offset are measured in real elapsed time. Results are aware UTC datetimes.

The calendar is a plain object with no database access: build it once per team
(`calendar_for_team`) and reuse it for many leads; opening hours are cached per
local date, so 100,000 due times cost well under a second (bench/business_calendar.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays as holidays_lib

if TYPE_CHECKING:
    from teams.models import Team

# A calendar with no working time left would make `add` loop for ever; no real
# calendar closes for ten years, so that is treated as a configuration error.
MAX_DAYS_SEARCHED = 3660

Interval = tuple[datetime, datetime]


class CalendarError(ValueError):
    """The calendar cannot answer: it has no working time at all."""


@lru_cache(maxsize=512)
def holiday_names(country: str, year: int, language: str | None = None) -> dict[date, str]:
    """Public holidays of `country` in `year` with their names, from the `holidays` package (cached)."""
    return dict(holidays_lib.country_holidays(country, years=year, language=language))


@lru_cache(maxsize=256)
def public_holidays(country: str, year: int) -> frozenset[date]:
    """The dates of `country`'s public holidays in `year` (cached)."""
    return frozenset(holiday_names(country, year))


@dataclass(eq=False)
class BusinessCalendar:
    timezone: str = "Asia/Jakarta"
    work_days: Iterable[int] = (1, 2, 3, 4, 5)  # ISO weekdays, 1 = Monday
    work_start: time = time(9, 0)
    work_end: time = time(17, 0)
    break_start: time | None = None
    break_end: time | None = None
    holiday_country: str = "ID"
    closed_dates: Iterable[date] = ()
    _tz: ZoneInfo = field(init=False, repr=False)
    _cache: dict[date, tuple[Interval, ...]] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._tz = ZoneInfo(self.timezone)
        self.work_days = frozenset(int(d) for d in self.work_days)
        self.closed_dates = frozenset(self.closed_dates)
        if not self.work_days or self.work_start >= self.work_end:
            raise CalendarError("A calendar needs at least one working day and work_start before work_end.")
        self._local_spans = self._spans()

    # -- the shape of one working day -------------------------------------------------
    def _spans(self) -> tuple[tuple[time, time], ...]:
        if self.break_start and self.break_end and self.work_start < self.break_start < self.break_end < self.work_end:
            return ((self.work_start, self.break_start), (self.break_end, self.work_end))
        return ((self.work_start, self.work_end),)

    @property
    def day_length(self) -> timedelta:
        """Business time in one ordinary working day (8 h for 09:00–17:00; 7 h with a 1 h break)."""
        anchor = date(2000, 1, 3)
        return sum(
            (datetime.combine(anchor, end) - datetime.combine(anchor, start) for start, end in self._local_spans),
            timedelta(),
        )

    def is_working_day(self, day: date) -> bool:
        if day.isoweekday() not in self.work_days or day in self.closed_dates:
            return False
        return not (self.holiday_country and day in public_holidays(self.holiday_country, day.year))

    def intervals(self, day: date) -> tuple[Interval, ...]:
        """The UTC intervals of working time on the local date `day` (empty when closed)."""
        cached = self._cache.get(day)
        if cached is None:
            if self.is_working_day(day):
                cached = tuple(
                    (
                        datetime.combine(day, start, self._tz).astimezone(UTC),
                        datetime.combine(day, end, self._tz).astimezone(UTC),
                    )
                    for start, end in self._local_spans
                )
            else:
                cached = ()
            self._cache[day] = cached
        return cached

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self._tz).date()

    # -- questions ------------------------------------------------------------------------
    def is_working_time(self, instant: datetime) -> bool:
        """True when `instant` lies inside working time (interval ends included)."""
        return any(start <= instant <= end for start, end in self.intervals(self.local_date(instant)))

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant at which `duration` of business time has elapsed after `start`.

        `start` may be outside working time (03:00, a Sunday, a holiday): counting
        begins at the next opening. A zero duration returns `start` unchanged.
        """
        _require_aware(start)
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        if not duration:
            return start.astimezone(UTC)
        remaining = duration
        cursor = start.astimezone(UTC)
        day = self.local_date(cursor)
        closed_in_a_row = 0
        while closed_in_a_row < MAX_DAYS_SEARCHED:
            intervals = self.intervals(day)
            closed_in_a_row = 0 if intervals else closed_in_a_row + 1
            for begin, end in intervals:
                if cursor >= end:
                    continue
                begin = max(begin, cursor)
                if remaining <= end - begin:
                    return begin + remaining
                remaining -= end - begin
            day += timedelta(days=1)
        raise CalendarError("No working time in the next ten years.")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time between two instants (zero when `end` is not after `start`)."""
        _require_aware(start)
        _require_aware(end)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        total = timedelta(0)
        if end <= start:
            return total
        day, last = self.local_date(start), self.local_date(end)
        while day <= last:
            for begin, finish in self.intervals(day):
                overlap = min(finish, end) - max(begin, start)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total


def period_bounds(day: date, period: str) -> tuple[date, date]:
    """[first day, first day of the next) of the calendar month, quarter or year holding `day`."""
    if period == "year":
        return date(day.year, 1, 1), date(day.year + 1, 1, 1)
    months = 1 if period == "month" else 3
    first_month = day.month if months == 1 else 3 * ((day.month - 1) // 3) + 1
    year, month = divmod(first_month - 1 + months, 12)
    return date(day.year, first_month, 1), date(day.year + year, month + 1, 1)


BUSINESS_UNITS = {"business_minutes", "business_hours", "business_days"}
CALENDAR_UNITS = {"minutes": timedelta(minutes=1), "hours": timedelta(hours=1), "days": timedelta(days=1)}


def add_target(calendar: BusinessCalendar, start: datetime, value: int, unit: str) -> datetime:
    """`start` + `value` `unit`s: calendar units ignore the calendar, business units follow it.

    One business day is the length of one ordinary working day of this calendar.
    """
    if unit in CALENDAR_UNITS:
        return start.astimezone(UTC) + value * CALENDAR_UNITS[unit]
    if unit == "business_minutes":
        return calendar.add(start, timedelta(minutes=value))
    if unit == "business_hours":
        return calendar.add(start, timedelta(hours=value))
    if unit == "business_days":
        return calendar.add(start, value * calendar.day_length)
    raise ValueError(f"unknown unit {unit!r}")


def calendar_for_team(team: Team, closed_dates: Iterable[date] | None = None) -> BusinessCalendar:
    """The business calendar of `team`: one query for its closed dates, none when the caller
    read them already (`closed_dates`)."""
    if closed_dates is None:
        closed_dates = team.closed_dates.values_list("date", flat=True)
    return BusinessCalendar(
        timezone=team.timezone,
        work_days=team.work_days,
        work_start=team.work_start,
        work_end=team.work_end,
        break_start=team.break_start,
        break_end=team.break_end,
        holiday_country=team.holiday_country,
        closed_dates=closed_dates,
    )


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("naive datetime: business time needs an aware instant")
