"""Team scorecards: computed by a nightly job (and on demand) and stored, so history is cheap.

`scorecards_compute` stores one card per team and period (the current and the previous
month and quarter, in the team's time zone). Idempotent: a recompute replaces the card
(unique per team, period kind and start), never duplicates it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Q

from kpis import metrics
from kpis.metrics import Scope, scope_range
from kpis.models import Metric, Scorecard, Target
from leads.models import Rejection
from teams.calendar import period_bounds
from teams.models import Team

PERIODS = ("month", "quarter")


def periods_to_compute(*, team: Team, now: datetime) -> list[tuple[str, date, date]]:
    """(kind, first day, last day) of the current and previous month and quarter."""
    today = now.astimezone(Scope(team=team).zone).date()
    found = []
    for kind in PERIODS:
        start, after = period_bounds(today, kind)
        previous_start, _ = period_bounds(start - timedelta(days=1), kind)
        found += [(kind, start, after - timedelta(days=1)), (kind, previous_start, start - timedelta(days=1))]
    return found


def scorecards_compute(*, now: datetime, teams: list[Team] | None = None) -> int:
    """Compute and store the scorecards of every team (or `teams`); returns cards written."""
    written = 0
    for team in teams if teams is not None else Team.objects.order_by("name"):
        for kind, first, last in periods_to_compute(team=team, now=now):
            values = card_metrics(team=team, first=first, last=min(last, now.astimezone(Scope(team=team).zone).date()))
            with transaction.atomic():
                Scorecard.objects.update_or_create(
                    team=team,
                    period=kind,
                    period_start=first,
                    defaults={"period_end": last, "computed_at": now, "metrics": _json(values)},
                )
            written += 1
    return written


def card_metrics(*, team: Team, first: date, last: date) -> dict[str, Any]:
    """Every built-in metric of SPEC §5 for the team, plus the figures of its side of the card."""
    scope = Scope(team=team)
    start, end = scope_range(scope, first, last)
    values: dict[str, Any] = {name: function(scope, start, end) for name, function in metrics.BUILT_IN.items()}
    values["breaches"] = metrics.breaches(scope, start, end)
    if team.kind == Team.Kind.SALES:
        values["leads_received"] = values[Metric.LEADS_CREATED]
        values["quota"] = _target_sum(team, Metric.REVENUE_WON, first, last)
    else:
        values["leads_delivered"] = values[Metric.LEADS_CREATED]
        rejected = values[Metric.REJECTION_RATE]
        values["acceptance_rate"] = None if rejected is None else 1 - rejected
        values["rejection_reasons"] = _rejection_reasons(scope, start, end)
        values["won_rate_by_source"] = _won_rate_by(scope, start, end, "source")
        values["won_rate_by_campaign"] = _won_rate_by(scope, start, end, "campaign__name")
        values["growth_target"] = _target_sum(team, Metric.LEADS_GROWTH, first, last)
    return values


def _target_sum(team: Team, metric: str, first: date, last: date) -> Decimal | None:
    """The team's target for a metric over exactly this period (or its people's, summed for amounts)."""
    targets = Target.objects.filter(kpi__metric=metric, period_start=first, period_end=last)
    own = targets.filter(team=team).values_list("target", flat=True).first()
    if own is not None or metric != Metric.REVENUE_WON:
        return own
    people = list(targets.filter(user__team=team).values_list("target", flat=True))
    return sum(people, Decimal(0)) if people else None


def _rejection_reasons(scope: Scope, start: datetime, end: datetime) -> dict[str, int]:
    leads = metrics.scoped_leads(scope).filter(created_at__gte=start, created_at__lt=end)
    rows = Rejection.objects.filter(lead__in=leads).values_list("reason").annotate(n=Count("pk")).order_by()
    return dict(rows)


def _won_rate_by(scope: Scope, start: datetime, end: datetime, field: str) -> dict[str, float]:
    leads = metrics.scoped_leads(scope).filter(created_at__gte=start, created_at__lt=end)
    rows = leads.values(field).annotate(total=Count("pk"), won=Count("pk", filter=Q(status="won"))).order_by(field)
    return {row[field] or "": row["won"] / row["total"] for row in rows if row["total"]}


def _json(values: dict[str, Any]) -> dict[str, Any]:
    """Amounts as decimal strings with two places (exact, the same on every database);
    everything else as JSON has it."""
    cents = Decimal("0.01")
    return {key: str(value.quantize(cents)) if isinstance(value, Decimal) else value for key, value in values.items()}
