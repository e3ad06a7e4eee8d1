"""Capacity ahead (SPEC §15): the working time a sales team has in this and the next two
calendar months against the leads its volume SLAs promise it, so that both teams see a
crunch coming (a Lebaran month, a month of leave) before it breaches anything.

For each month, in the team's time zone:

- `business_hours`: the team's working time in the month after its public holidays and
  closed dates (`teams.calendar.BusinessCalendar.between`);
- `rep_hours`: summed over the team's sales reps of that time (memberships, so that a past
  month counts the reps it had, and a rep who joins or leaves mid-month counts the part
  they were in), each rep's business hours less their time off that fell in working time;
- `expected_leads`: what the team's active volume SLAs expect, `leads_per_rep` × the
  team's sales reps on the month's last day (as the sweep judges it), a third of it for a
  quarterly SLA, summed over the SLAs. Every month is computed with today's terms, so a
  change month to month is one of capacity, not of the agreement; None without a volume SLA;
- `leads_per_rep_hour`: expected leads ÷ rep hours; None when either is missing or zero;
- `warning`: true when that exceeds the average of the three months before (computed the
  same way, those of them that have a figure) by more than 25 %; false without a basis (no
  figure before, or an average of zero).

Hours and leads are numbers rounded to 2 decimals, leads per rep-hour to 4; the warning is
decided on the exact figures.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from slas.models import Sla
from teams.calendar import BusinessCalendar, calendar_for_team, period_bounds
from teams.models import ClosedDate, Membership, Role, Team, TimeOff

MONTHS_AHEAD = 3  # this month and the next two
MONTHS_BEFORE = 3  # the basis of the warning
WARN_ABOVE = Fraction(5, 4)  # more than 25 % above the basis
HOUR = Fraction(3600)


@dataclass(frozen=True)
class _Month:
    first: date
    start: datetime
    end: datetime


@dataclass(frozen=True)
class _Rep:
    """A stretch of someone's membership as a sales rep of the team (dates inclusive)."""

    user_id: int
    started: date
    ended: date | None


@dataclass(frozen=True)
class _Figures:
    """One month's exact figures (hours and leads as fractions)."""

    month: _Month
    business: timedelta
    rep_hours: Fraction
    reps: int
    expected: Fraction | None
    per_hour: Fraction | None


def capacity_ahead(*, team: Team, now: datetime, sla: Sla | None = None) -> dict:
    """`{"team", "months": [...]}` of `team` (a sales team) at `now`; with `sla`, the
    expectation is that volume SLA's alone. Four queries (see `capacity_ahead_for`)."""
    return capacity_ahead_for(teams=[team], now=now, volume_slas=None if sla is None else [sla])[team.pk]


def capacity_ahead_for(*, teams: list[Team], now: datetime, volume_slas: list[Sla] | None = None) -> dict[int, dict]:
    """`capacity_ahead` of each of `teams`, by team id. The expectation comes from
    `volume_slas` (of these teams) when given, else from each team's active volume SLAs.
    Four queries whatever the number of teams, reps, months and time off: closed dates,
    memberships, time off (over the whole span of six months), volume SLAs (none when given)."""
    if not teams:
        return {}
    months = {team.pk: _months(team, now) for team in teams}
    ids = list(months)
    first_day = min(rows[0].first for rows in months.values())
    last_day = max(rows[-1].end.date() for rows in months.values())
    closed: dict[int, list[date]] = defaultdict(list)
    for team_id, day in ClosedDate.objects.filter(team_id__in=ids, date__gte=first_day, date__lt=last_day).values_list(
        "team_id", "date"
    ):
        closed[team_id].append(day)
    reps: dict[int, list[_Rep]] = defaultdict(list)
    for team_id, *rep in (
        Membership.objects.filter(team_id__in=ids, role=Role.SALES_REP, started_on__lt=last_day)
        .exclude(ended_on__lt=first_day)
        .values_list("team_id", "user_id", "started_on", "ended_on")
    ):
        reps[team_id].append(_Rep(*rep))
    span = (min(rows[0].start for rows in months.values()), max(rows[-1].end for rows in months.values()))
    off = _time_off(user_ids={rep.user_id for found in reps.values() for rep in found}, span=span)
    if volume_slas is None:
        volume_slas = list(Sla.objects.filter(team_id__in=ids, kind=Sla.Kind.VOLUME, is_active=True))
    slas: dict[int, list[Sla]] = defaultdict(list)
    for sla in volume_slas:
        slas[sla.team_id].append(sla)
    found = {}
    for team in teams:
        calendar = calendar_for_team(team, closed[team.pk])
        figures = [_figures(month, calendar, reps[team.pk], off, slas[team.pk]) for month in months[team.pk]]
        found[team.pk] = {"team": team.pk, "months": _answered(figures)}
    return found


def _months(team: Team, now: datetime) -> list[_Month]:
    """The three months before the current one, the current one and the next two."""
    zone = ZoneInfo(team.timezone)
    first = period_bounds(now.astimezone(zone).date(), "month")[0]
    for _ in range(MONTHS_BEFORE):
        first = (first - timedelta(days=1)).replace(day=1)
    rows = []
    for _ in range(MONTHS_BEFORE + MONTHS_AHEAD):
        after = period_bounds(first, "month")[1]
        rows.append(_Month(first, datetime.combine(first, time(0), zone), datetime.combine(after, time(0), zone)))
        first = after
    return rows


def _time_off(*, user_ids: set[int], span: tuple[datetime, datetime]) -> dict[int, list[tuple[datetime, datetime]]]:
    """Each person's time off touching `span`, overlapping stretches merged into one so that
    no hour is taken off twice. One query."""
    stretches: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for user_id, start, end in TimeOff.objects.filter(
        user_id__in=user_ids, start__lt=span[1], end__gt=span[0]
    ).values_list("user_id", "start", "end"):
        stretches[user_id].append((start, end))
    merged: dict[int, list[tuple[datetime, datetime]]] = {}
    for user_id, found in stretches.items():
        merged[user_id] = []
        for start, end in sorted(found):
            if merged[user_id] and start <= merged[user_id][-1][1]:
                merged[user_id][-1] = (merged[user_id][-1][0], max(merged[user_id][-1][1], end))
            else:
                merged[user_id].append((start, end))
    return merged


def _figures(
    month: _Month,
    calendar: BusinessCalendar,
    reps: list[_Rep],
    off: dict[int, list[tuple[datetime, datetime]]],
    slas: list[Sla],
) -> _Figures:
    """One month: its working time, its reps' (each over the part of the month they were a
    rep, less their time off in working time), the reps on its last day and what the SLAs
    expect of them."""
    business = calendar.between(month.start, month.end)
    zone = month.start.tzinfo
    last = month.end.date() - timedelta(days=1)
    worked, on_last_day = timedelta(0), 0
    for rep in reps:
        on_last_day += rep.started <= last and (rep.ended is None or rep.ended >= last)
        start = max(month.start, datetime.combine(rep.started, time(0), zone))
        end = month.end if rep.ended is None else datetime.combine(rep.ended + timedelta(days=1), time(0), zone)
        end = min(end, month.end)
        if end <= start:
            continue
        worked += business if (start, end) == (month.start, month.end) else calendar.between(start, end)
        for off_start, off_end in off.get(rep.user_id, ()):
            worked -= calendar.between(max(start, off_start), min(end, off_end))
    rep_hours = Fraction(worked // timedelta(microseconds=1), 10**6) / HOUR
    expected = None
    if slas:
        expected = sum(
            (Fraction(sla.leads_per_rep * on_last_day, 3 if sla.period == Sla.Period.QUARTER else 1) for sla in slas),
            Fraction(0),
        )
    per_hour = expected / rep_hours if expected and rep_hours else None
    return _Figures(month, business, rep_hours, on_last_day, expected, per_hour)


def _answered(figures: list[_Figures]) -> list[dict]:
    """The months after the first three, each with its warning against the three before."""
    rows = []
    for index in range(MONTHS_BEFORE, len(figures)):
        now = figures[index]
        before = [row.per_hour for row in figures[index - MONTHS_BEFORE : index] if row.per_hour is not None]
        basis = sum(before, Fraction(0)) / len(before) if before else None
        rows.append(
            {
                "month": f"{now.month.first:%Y-%m}",
                "first": now.month.first,
                "business_hours": round(now.business.total_seconds() / 3600, 2),
                "rep_hours": round(float(now.rep_hours), 2),
                "reps": now.reps,
                "expected_leads": None if now.expected is None else round(float(now.expected), 2),
                "leads_per_rep_hour": None if now.per_hour is None else round(float(now.per_hour), 4),
                "average_before": None if basis is None else round(float(basis), 4),
                "warning": bool(now.per_hour is not None and basis and now.per_hour > basis * WARN_ABOVE),
            }
        )
    return rows
