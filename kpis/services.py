"""Writes of the KPI app: KPIs, targets, measurements (scorecards live in kpis.scorecards)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from kpis.models import Kpi, Measurement, Metric, Target
from teams import permissions
from teams.calendar import period_bounds
from teams.models import Team, User


def _may_manage(by: User, team: Team | None, user: User | None = None) -> None:
    """Managers act for their own team (and its people); the company scope is the admins'."""
    scope_team = team or (user.team if user is not None and user.team_id else None)
    if user is not None and scope_team is None:
        raise ValidationError({"user": [_("This person is in no team.")]})
    if not permissions.can_manage_kpis(by, scope_team):
        raise PermissionDenied


def kpi_create(
    *,
    by: User,
    name: str,
    metric: str,
    unit: str = "",
    aggregation: str = Kpi.Aggregation.SUM,
    team: Team | None = None,
) -> Kpi:
    """Define a KPI (a built-in metric or a manual one) for `team`, or the company (admins)."""
    _may_manage(by, team)
    kpi = Kpi(name=name.strip(), metric=metric, unit=unit.strip(), aggregation=aggregation, team=team, created_by=by)
    kpi.full_clean(exclude=["created_by"])
    kpi._history_user = by
    kpi.save()
    return kpi


def kpi_update(*, kpi: Kpi, by: User, **fields: Any) -> Kpi:
    allowed = {"name", "unit", "aggregation"}
    if set(fields) - allowed:
        raise ValidationError(_("Only the name, unit and aggregation of a KPI can change; define a new one."))
    _may_manage(by, kpi.team)
    for name, value in fields.items():
        setattr(kpi, name, value)
    kpi.full_clean(exclude=["created_by"])
    kpi._history_user = by
    kpi.save()
    return kpi


def target_create(
    *,
    by: User,
    kpi: Kpi,
    target: Decimal,
    period_start: date,
    period_end: date | None = None,
    period: str | None = None,
    team: Team | None = None,
    user: User | None = None,
) -> Target:
    """Set a target for a team, a person, or (neither) the company, over a month, quarter or year.

    With only `period_start` and `period`, the end is the period's last day; with both dates,
    the period kind is inferred when they match a calendar month, quarter or year."""
    if team is not None and user is not None:
        raise ValidationError(_("A target is for a team, for a person, or for the company: not both."))
    _may_manage(by, team, user)
    item = Target(kpi=kpi, team=team, user=user, target=target, created_by=by, period_start=period_start)
    item.period, item.period_end = _period(period_start, period_end, period)
    _validate_target(item)
    item._history_user = by
    item.save()
    return item


def target_update(*, target: Target, by: User, **fields: Any) -> Target:
    allowed = {"target", "period_start", "period_end", "period"}
    if set(fields) - allowed:
        raise ValidationError(_("Only the value and the period of a target can change."))
    _may_manage(by, target.team, target.user)
    for name in ("target", "period_start"):
        if name in fields:
            setattr(target, name, fields[name])
    target.period, target.period_end = _period(target.period_start, fields.get("period_end"), fields.get("period"))
    _validate_target(target)
    target._history_user = by
    target.save()
    return target


def measurement_create(
    *, by: User, kpi: Kpi, day: date, value: Decimal, team: Team | None = None, user: User | None = None
) -> Measurement:
    """Enter a value of a manual KPI for a date (for a team, a person or the company)."""
    if kpi.metric != Metric.MANUAL:
        raise ValidationError({"kpi": [_("Values are entered for manual KPIs only; built-in ones are computed.")]})
    _may_manage(by, team, user)
    item = Measurement(kpi=kpi, team=team, user=user, date=day, value=value, created_by=by)
    item.full_clean(exclude=["created_by"])
    item._history_user = by
    item.save()
    return item


def _period(start: date, end: date | None, period: str | None) -> tuple[str, date]:
    if period is not None and period not in Target.Period.values:
        raise ValidationError({"period": [_("Choose month, quarter or year.")]})
    if end is None:
        kind = period or Target.Period.QUARTER
        first, after = period_bounds(start, kind)
        if first != start:
            raise ValidationError({"period_start": [_("A %(period)s starts on its first day.") % {"period": kind}]})
        return kind, after.fromordinal(after.toordinal() - 1)
    if end < start:
        raise ValidationError({"period_end": [_("The period must end on or after its start.")]})
    for kind in (period,) if period else Target.Period.values:
        first, after = period_bounds(start, kind)
        if first == start and after.toordinal() - 1 == end.toordinal():
            return kind, end
    if period:
        raise ValidationError({"period_end": [_("These dates are not one %(period)s.") % {"period": period}]})
    raise ValidationError({"period_end": [_("A target covers one calendar month, quarter or year.")]})


def _validate_target(target: Target) -> None:
    target.full_clean(exclude=["created_by"])
    if target.target < 0:
        raise ValidationError({"target": [_("A target cannot be negative.")]})
