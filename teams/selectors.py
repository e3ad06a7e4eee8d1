"""Reads for teams and users."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from teams import permissions
from teams.calendar import holiday_names
from teams.models import Membership, Role, Team, User


def team_list(*, user: Any) -> QuerySet[Team]:
    """Teams `user` may see."""
    return Team.objects.filter(permissions.team_scope(user))


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
