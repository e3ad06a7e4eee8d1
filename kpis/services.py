"""Writes of the KPI app: KPIs, targets, measurements (scorecards live in kpis.scorecards)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import DecimalValidator
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from kpis.metrics import UNITS
from kpis.models import Kpi, Measurement, Metric, Target
from salesmarketing.limits import MONEY, day_in_range
from teams import permissions
from teams.calendar import period_bounds
from teams.models import Team, User


def _own_team(by: User, team: Team | None) -> Team | None:
    """The team a KPI or target is for: the one named, else a manager's own (SPEC §1); only
    an admin's (or a manager without a team's) is the company's."""
    if team is None and permissions.is_manager(by) and by.team_id:
        return by.team
    return team


def _may_manage(by: User, team: Team | None, user: User | None = None) -> None:
    """Managers act for their own team (and its people); the company scope is the admins'."""
    scope_team = team or (user.team if user is not None and user.team_id else None)
    if user is not None and scope_team is None:
        raise ValidationError({"user": [_("This person is in no team.")]})
    if not permissions.can_manage_kpis(by, scope_team):
        raise PermissionDenied


def _may_use(by: User, kpi: Kpi) -> None:
    """A target or a value may only be set on a company KPI or on a KPI of a team `by` manages."""
    if kpi.team_id is not None and not permissions.can_manage_kpis(by, kpi.team):
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
    """Define a KPI (a built-in metric or a manual one) for `team` (a manager's own team when
    none is named), or the company (admins)."""
    team = _own_team(by, team)
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
    kpi.save(update_fields=[*fields])
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

    Without a team or a person, a manager's target is for their own team. With only
    `period_start` and `period`, the end is the period's last day; with both dates,
    the period kind is inferred when they match a calendar month, quarter or year."""
    if team is not None and user is not None:
        raise ValidationError(_("A target is for a team, for a person, or for the company: not both."))
    if user is None:
        team = _own_team(by, team)
    _may_manage(by, team, user)
    _may_use(by, kpi)
    item = Target(kpi=kpi, team=team, user=user, target=target, created_by=by, period_start=period_start)
    item.period, item.period_end = _period(period_start, period_end, period)
    _validate_target(item)
    item._history_user = by
    item.save()
    return item


def target_update(*, item: Target, by: User, **fields: Any) -> Target:
    """Change a target's value or period (`item` is the Target; `target` among `fields` is the value)."""
    allowed = {"target", "period_start", "period_end", "period"}
    if set(fields) - allowed:
        raise ValidationError(_("Only the value and the period of a target can change."))
    _may_manage(by, item.team, item.user)
    for name in ("target", "period_start"):
        if name in fields:
            setattr(item, name, fields[name])
    period = fields.get("period") or (None if "period_end" in fields or "period_start" in fields else item.period)
    item.period, item.period_end = _period(item.period_start, fields.get("period_end"), period)
    _validate_target(item)
    item._history_user = by
    item.save(update_fields=["target", "period_start", "period", "period_end"])
    return item


def measurement_create(
    *, by: User, kpi: Kpi, day: date, value: Decimal, team: Team | None = None, user: User | None = None
) -> Measurement:
    """Enter a value of a manual KPI for a date (for a team, a person or the company)."""
    if kpi.metric != Metric.MANUAL:
        raise ValidationError({"kpi": [_("Values are entered for manual KPIs only; built-in ones are computed.")]})
    _may_manage(by, team, user)
    _may_use(by, kpi)
    item = Measurement(kpi=kpi, team=team, user=user, date=day, value=value, created_by=by)
    item.full_clean(exclude=["created_by"])
    item._history_user = by
    item.save()
    return item


def measurement_update(*, item: Measurement, by: User, **fields: Any) -> Measurement:
    """Correct a value or its date; the same people who may enter it (`measurement_create`)
    may change it. What it measures (KPI, team, person) stays: enter a new value instead."""
    if set(fields) - {"value", "date"}:
        raise ValidationError(_("Only the value and the date of a measurement can change; enter a new one."))
    _may_manage(by, item.team, item.user)
    _may_use(by, item.kpi)
    for name, value in fields.items():
        setattr(item, name, value)
    item.full_clean(exclude=["created_by"])
    item._history_user = by
    item.save(update_fields=[*fields])
    return item


def _period(start: date, end: date | None, period: str | None) -> tuple[str, date]:
    day_in_range(start, "period_start")
    if end is not None:
        day_in_range(end, "period_end")
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
    if UNITS.get(target.kpi.metric) == "currency":  # an amount of money, as a deal value is
        try:
            DecimalValidator(**MONEY)(target.target.normalize())  # the column keeps 4 places
        except ValidationError as error:
            raise ValidationError({"target": error.messages}) from None


@dataclass
class MeasurementImport:
    created: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (row, column, message)

    @property
    def ok(self) -> bool:
        return not self.errors


def measurements_import(*, by: User, kpi: Kpi, file: IO[bytes], team: Team | None = None) -> MeasurementImport:
    """Import values of a manual KPI from a CSV with `date` and `value` columns (or `tanggal`
    and `nilai`), all or nothing: every bad row is reported and then nothing is created."""
    if kpi.metric != Metric.MANUAL:
        raise ValidationError({"kpi": [_("Values are entered for manual KPIs only; built-in ones are computed.")]})
    _may_manage(by, team)
    _may_use(by, kpi)
    result, rows = MeasurementImport(), []
    size = getattr(file, "size", None)
    if size is not None and size > settings.IMPORT_MAX_BYTES:  # every row is held until the write
        message = _("The file is %(size)s; files up to %(limit)s can be imported. Split it into smaller files.")
        result.errors.append(
            (0, "file", message % {"size": filesizeformat(size), "limit": filesizeformat(settings.IMPORT_MAX_BYTES)})
        )
        return result
    try:
        text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
        reader = csv.DictReader(text)
        headers = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
        day_column = headers.get("date") or headers.get("tanggal")
        value_column = headers.get("value") or headers.get("nilai")
        if not day_column or not value_column:
            result.errors.append((1, "", _("The file needs a “date” and a “value” column (or “tanggal” and “nilai”).")))
            return result
        for number, row in enumerate(reader, start=2):
            day, value = _measurement_row(number, row[day_column], row[value_column], result)
            if day is not None and value is not None:
                rows.append(Measurement(kpi=kpi, team=team, date=day, value=value, created_by=by))
    except UnicodeDecodeError:
        result.errors.append((0, "file", _("The file is not UTF-8 text. Save it as CSV UTF-8 and try again.")))
    except csv.Error as exc:
        result.errors.append((0, "file", _("The file is not a readable CSV file (%(error)s).") % {"error": exc}))
    if result.ok:
        with transaction.atomic():
            result.created = len(Measurement.objects.bulk_create(rows, batch_size=2000))
    return result


def _measurement_row(number: int, day_text: str | None, value_text: str | None, result: MeasurementImport):
    day = value = None
    try:
        day = date.fromisoformat((day_text or "").strip())
    except ValueError:
        result.errors.append((number, "date", _("Write the date as YYYY-MM-DD.")))
    try:
        value = Decimal((value_text or "").strip())
        if not value.is_finite():
            raise InvalidOperation
        value = Measurement._meta.get_field("value").clean(value, None)  # the column's limits
    except InvalidOperation:
        result.errors.append((number, "value", _("“%(value)s” is not a number.") % {"value": value_text}))
        value = None
    except ValidationError as error:
        result.errors.append((number, "value", " ".join(error.messages)))
        value = None
    return day, value
