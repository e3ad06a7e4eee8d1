"""Reads of the KPI app: scoped KPIs and targets, and progress against a target."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from kpis.metrics import ADDITIVE, LOWER_IS_BETTER, Scope, measure, scope_range
from kpis.models import Kpi, Measurement, Metric, Scorecard, Target
from teams import permissions
from teams.models import Team, User

ON_TRACK, AT_RISK, OFF_TRACK, ACHIEVED = "on_track", "at_risk", "off_track", "achieved"
AT_RISK_MARGIN = 0.9  # within 90 % of the expected pace is "at risk", below it "off track"


def kpi_list(*, user: User) -> QuerySet[Kpi]:
    return Kpi.objects.filter(permissions.kpi_scope(user)).select_related("team")


def kpi_teams(*, user: User) -> QuerySet[Team]:
    """Teams whose KPIs, targets and values `user` manages (empty: they manage none)."""
    return Team.objects.filter(permissions.kpi_team_scope(user)).order_by("name")


def kpi_people(*, teams: QuerySet[Team]) -> QuerySet[User]:
    """The active people of `teams`, for a personal target."""
    return User.objects.filter(team__in=teams, is_active=True).order_by("first_name", "username")


def scorecard_list(*, user: User, period: str) -> QuerySet[Scorecard]:
    """The stored scorecards of `period` (month or quarter) that `user` may see."""
    return Scorecard.objects.filter(permissions.scorecard_scope(user), period=period).select_related("team")


def target_list(*, user: User) -> QuerySet[Target]:
    return Target.objects.filter(permissions.target_scope(user)).select_related("kpi", "team", "user__team")


def measurement_list(*, user: User) -> QuerySet[Measurement]:
    kpis = kpi_list(user=user)
    return Measurement.objects.filter(kpi__in=kpis).select_related("kpi", "team", "user")


@dataclass(frozen=True)
class Progress:
    actual: Any
    target: Decimal
    attainment: float | None
    expected: Decimal
    status: str
    elapsed: float  # share of the period gone by


def target_progress(*, target: Target, now: datetime) -> Progress:
    """Actual against target for the elapsed part of the period (SPEC §5).

    Amounts that accumulate (leads, revenue, manual sums) are expected to grow in a
    straight line over the period; rates, medians and averages are expected to sit at
    the target all along. For medians and the rejection rate lower is better."""
    scope = Scope(team=target.team, user=target.user)
    start, end = scope_range(scope, target.period_start, target.period_end)
    elapsed = min(max((now - start) / (end - start), 0.0), 1.0)
    last_day = min(target.period_end, now.astimezone(scope.zone).date())
    actual = measure(target.kpi, scope, target.period_start, last_day) if now >= start else None
    additive = target.kpi.metric in ADDITIVE or (
        target.kpi.metric == Metric.MANUAL and target.kpi.aggregation == target.kpi.Aggregation.SUM
    )
    expected = target.target * Decimal(str(round(elapsed, 6))) if additive else target.target
    lower = target.kpi.metric in LOWER_IS_BETTER
    return Progress(
        actual=actual,
        target=target.target,
        attainment=_attainment(actual, target.target, lower),
        expected=expected,
        status=_status(actual, target.target, expected, lower=lower, additive=additive, ended=elapsed >= 1),
        elapsed=elapsed,
    )


def _attainment(actual: Any, goal: Decimal, lower: bool) -> float | None:
    if actual is None:
        return None
    actual, goal = float(actual), float(goal)
    if lower:
        return goal / actual if actual else (1.0 if goal >= 0 else None)
    return actual / goal if goal else None


def _status(actual: Any, goal: Decimal, expected: Decimal, *, lower: bool, additive: bool, ended: bool) -> str:
    if actual is None:
        return OFF_TRACK if ended else ON_TRACK
    actual, goal, expected = float(actual), float(goal), float(expected)
    if lower:
        if actual <= goal:
            return ACHIEVED if ended else ON_TRACK
        return AT_RISK if actual * AT_RISK_MARGIN <= goal else OFF_TRACK
    if actual >= goal and (additive or ended):
        return ACHIEVED
    if actual >= expected:
        return ON_TRACK
    return AT_RISK if actual >= expected * AT_RISK_MARGIN else OFF_TRACK
