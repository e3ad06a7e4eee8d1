"""Reads for teams and users."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from teams import permissions
from teams.calendar import holiday_names
from teams.models import Membership, Role, Team, TimeOff, User


def team_list(*, user: Any) -> QuerySet[Team]:
    """Teams `user` may see."""
    return Team.objects.filter(permissions.team_scope(user))


def team_shown(*, user: Any, chosen: str = "") -> Team | None:
    """The team a page of one team's affairs (the time-off calendar, the routing rules) shows
    `user`: their own; an admin picks a sales team by id (`chosen`, the page's `?team=`), and
    without one gets their own team or the first sales team."""
    if not permissions.is_admin(user):
        return user.team if user.team_id else None
    teams = sales_teams_to_pick(user=user)
    return (teams.filter(pk=chosen).first() if chosen.isdigit() else None) or user.team or teams.first()


def sales_teams_to_pick(*, user: Any) -> QuerySet[Team]:
    """The sales teams such a page lets `user` switch between: every one for an admin, by
    name; none for anyone else, who sees their own."""
    if not permissions.is_admin(user):
        return Team.objects.none()
    return team_list(user=user).filter(kind=Team.Kind.SALES).order_by("name")


def team_members(*, team: Team) -> QuerySet[User]:
    """Current active members of `team`, ordered by role then username."""
    return team.members.filter(is_active=True).order_by("role", "username")


def team_active_members(*, team_id: int, on: date, role: str = Role.SALES_REP) -> QuerySet[Membership]:
    """Memberships of `team_id` with `role` in force on the local date `on` (ends inclusive)."""
    return Membership.objects.filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=on),
        team_id=team_id,
        role=role,
        started_on__lte=on,
    )


def team_active_member_counts(*, days: dict[int, date], role: str = Role.SALES_REP) -> dict[int, int]:
    """`team_active_members(...).count()` of several teams at once, each on its own local
    date (`days`: team id → date), in one grouped query; a team without any is left out."""
    if not days:
        return {}
    on_day = Q()
    for team_id, day in days.items():
        on_day |= Q(Q(ended_on__isnull=True) | Q(ended_on__gte=day), team_id=team_id, started_on__lte=day)
    rows = Membership.objects.filter(on_day, role=role).values_list("team_id").annotate(n=Count("pk")).order_by()
    return dict(rows)


def team_today(*, team: Team) -> date:
    """Today's date in the team's time zone."""
    return timezone.localdate(timezone=ZoneInfo(team.timezone))


def team_public_holidays(*, team: Team, start: date, days: int = 90) -> list[tuple[date, str]]:
    """The team's public holidays from `start` for `days` days, by date.

    Names follow the active language (Indonesian or English).
    """
    if not team.holiday_country:
        return []
    end = start + timedelta(days=days)
    language = "id" if (get_language() or "").startswith("id") else "en_US"
    found = []
    for year in range(start.year, end.year + 1):
        found += [(d, n) for d, n in holiday_names(team.holiday_country, year, language).items() if start <= d <= end]
    return sorted(found)


def team_closed_dates(*, team: Team, start: date) -> QuerySet:
    """The team's own closed dates from `start` on."""
    return team.closed_dates.filter(date__gte=start)


def own_sales_team(*, user: User) -> Team | None:
    """The sales team a user's new lead or import is for when they name none: their own."""
    team = user.team if user.team_id else None
    return team if team is not None and team.kind == Team.Kind.SALES else None


def team_reps(*, team: Team | int) -> QuerySet[User]:
    """Active sales reps of a team now: who may own its leads."""
    team_id = team if isinstance(team, int) else team.pk
    return User.objects.filter(team_id=team_id, role=Role.SALES_REP, is_active=True)


# -- availability (SPEC §11) -----------------------------------------------------------------
class Unavailable:
    """Why a rep cannot take a lead now (the reasons routing records)."""

    INACTIVE = "inactive"
    AWAY = "away"
    TIME_OFF = "time_off"


def _off_at(at: datetime) -> Exists:
    return Exists(TimeOff.objects.filter(user=OuterRef("pk"), start__lte=at, end__gt=at))


def team_reps_at(*, team: Team | int, at: datetime) -> QuerySet[User]:
    """The team's active reps, each annotated with `off` (on time off at `at`), so that
    `unavailable_now` tells why one cannot answer a lead then. One statement."""
    return team_reps(team=team).annotate(off=_off_at(at))


def unavailable_now(rep: User) -> str:
    """Why a rep read by `team_reps_at` cannot take a lead at its instant (`Unavailable`; time
    off before away, as routing records it), or "" when they can."""
    return Unavailable.TIME_OFF if rep.off else Unavailable.AWAY if rep.away else ""


def unavailable_reasons(*, user_ids: Iterable[int], at: datetime) -> dict[int, str]:
    """Why each of `user_ids` cannot take a lead at `at` (`Unavailable`); those who can are
    left out. One statement."""
    rows = User.objects.filter(pk__in=list(user_ids)).annotate(off=_off_at(at))
    reasons = {}
    for pk, is_active, away, off in rows.values_list("pk", "is_active", "away", "off"):
        if not is_active:
            reasons[pk] = Unavailable.INACTIVE
        elif off:
            reasons[pk] = Unavailable.TIME_OFF
        elif away:
            reasons[pk] = Unavailable.AWAY
    return reasons


def availability_people(*, user: Any) -> QuerySet[User]:
    """The active people whose time off and away switch `user` may set, by name."""
    people = User.objects.filter(permissions.availability_scope(user), is_active=True)
    return people.select_related("team").order_by("first_name", "username")


def time_off_list(*, user: Any) -> QuerySet[TimeOff]:
    """Time off `user` may see (their own, their team's for a sales manager, all for admins)."""
    return TimeOff.objects.filter(permissions.availability_scope(user, prefix="user__")).select_related("user")


def time_off_ahead(*, user: Any, people: list[User], now: datetime, limit: int = 100) -> QuerySet[TimeOff]:
    """The time off of `people` that has not ended by `now`, soonest first, as `user` may see it."""
    return time_off_list(user=user).filter(user__in=people, end__gt=now).order_by("start", "pk")[:limit]


def time_off_day_span(*, person: User, first: date, last: date) -> tuple[datetime, datetime]:
    """Whole days off, `first` to `last` inclusive, as instants: from local midnight to
    midnight in the zone of the person's team (the site's zone without one)."""
    zone = ZoneInfo(person.team.timezone) if person.team_id else timezone.get_default_timezone()
    return datetime.combine(first, time(), zone), datetime.combine(last + timedelta(days=1), time(), zone)


@dataclass(frozen=True)
class DayOff:
    """One person's day in the time-off calendar: `off` all of it, `part` of it, or neither."""

    day: date
    off: bool
    part: bool
    reasons: tuple[str, ...]


def time_off_calendar(*, people: list[User], zone: ZoneInfo, first: date, days: int) -> list[tuple[User, list[DayOff]]]:
    """Each of `people` with their days from `first` for `days` days in `zone`: which they
    are off for, wholly or in part. One statement."""
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(first + timedelta(days=days), time(), zone)
    stretches: dict[int, list[TimeOff]] = {}
    for time_off in TimeOff.objects.filter(user__in=people, start__lt=end, end__gt=start):
        stretches.setdefault(time_off.user_id, []).append(time_off)
    calendar = []
    for person in people:
        row = []
        for offset in range(days):
            day = first + timedelta(days=offset)
            day_start = datetime.combine(day, time(), zone)
            day_end = datetime.combine(day + timedelta(days=1), time(), zone)
            touching = [t for t in stretches.get(person.pk, []) if t.start < day_end and t.end > day_start]
            whole = any(t.start <= day_start and t.end >= day_end for t in touching)
            row.append(DayOff(day, whole, bool(touching) and not whole, tuple(t.reason for t in touching if t.reason)))
        calendar.append((person, row))
    return calendar
