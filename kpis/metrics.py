"""The built-in metrics of SPEC §5, each a read over a scope (a team, a user or the company)
and a date range, in one or a few aggregate queries.

Ranges are half-open instants [start, end); callers turn dates into instants in the
team's time zone (`scope_range`). Rates are fractions (0.75 is 75 %), money is Decimal,
and a metric with nothing to measure answers None rather than a misleading zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, DecimalField, Min, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from kpis.formulas import REACHED_QUALIFIED, rate, roi
from kpis.models import Kpi, Measurement, Metric
from leads.models import Assignment, Campaign, Dispute, Lead, Status, Touch
from slas.models import Breach, Sla
from slas.selectors import clock_compliance
from teams.models import Role, Team, User

ZERO = Decimal("0")
# Metrics where a lower value is better (used by target progress).
LOWER_IS_BETTER = {Metric.MEDIAN_FIRST_RESPONSE_HOURS, Metric.MEDIAN_TIME_TO_ASSIGN_HOURS, Metric.REJECTION_RATE}
# Metrics that accumulate over a period (their expected value grows with elapsed time).
ADDITIVE = {Metric.LEADS_CREATED, Metric.REVENUE_WON}


@dataclass(frozen=True)
class Scope:
    """What a metric is measured over: a team, a user, or (neither) the whole company."""

    team: Team | None = None
    user: User | None = None

    @property
    def zone(self) -> ZoneInfo:
        team = self.team or (self.user.team if self.user and self.user.team_id else None)
        return ZoneInfo(team.timezone if team else settings.TIME_ZONE)


def scope_range(scope: Scope, first: date, last: date) -> tuple[datetime, datetime]:
    """The instants [first 00:00, the day after `last` 00:00) in the scope's time zone."""
    zone = scope.zone
    return datetime.combine(first, time(0), zone), datetime.combine(last + timedelta(days=1), time(0), zone)


def scoped_leads(scope: Scope) -> QuerySet[Lead]:
    """Leads that belong to a scope: a sales team's leads, a marketing team's (its campaigns'
    and its members' leads), a rep's own, a marketer's created, or every lead."""
    leads = Lead.objects.all()
    if scope.user is not None:
        if scope.user.role in (Role.MARKETER, Role.MARKETING_MANAGER):
            return leads.filter(created_by=scope.user)
        return leads.filter(owner=scope.user)
    if scope.team is not None:
        if scope.team.kind == Team.Kind.MARKETING:
            return leads.filter(Q(campaign__team=scope.team) | Q(created_by__team=scope.team))
        return leads.filter(team=scope.team)
    return leads


def leads_created(scope: Scope, start: datetime, end: datetime) -> int:
    return scoped_leads(scope).filter(created_at__gte=start, created_at__lt=end).count()


def leads_growth(scope: Scope, start: datetime, end: datetime) -> float | None:
    """(this period − the previous period of the same length) ÷ the previous period."""
    now, before = leads_created(scope, start, end), leads_created(scope, start - (end - start), start)
    return (now - before) / before if before else None


def _cohort(scope: Scope, start: datetime, end: datetime) -> dict[str, int]:
    """Leads created in the range, and how many of them reached qualified, won, rejected."""
    return (
        scoped_leads(scope)
        .filter(created_at__gte=start, created_at__lt=end)
        .aggregate(
            total=Count("pk"),
            qualified=Count("pk", filter=REACHED_QUALIFIED),
            won=Count("pk", filter=Q(status=Status.WON)),
            rejected=Count("pk", filter=Q(status=Status.REJECTED)),
        )
    )


def lead_to_qualified_rate(scope: Scope, start: datetime, end: datetime) -> float | None:
    cohort = _cohort(scope, start, end)
    return rate(cohort["qualified"], cohort["total"])


def lead_to_won_rate(scope: Scope, start: datetime, end: datetime) -> float | None:
    cohort = _cohort(scope, start, end)
    return rate(cohort["won"], cohort["total"])


def rejection_rate(scope: Scope, start: datetime, end: datetime) -> float | None:
    cohort = _cohort(scope, start, end)
    return rate(cohort["rejected"], cohort["total"])


def revenue_won(scope: Scope, start: datetime, end: datetime) -> Decimal:
    """Sum of the values of leads won (closed) in the range."""
    won = scoped_leads(scope).filter(status=Status.WON, closed_at__gte=start, closed_at__lt=end)
    return won.aggregate(total=Coalesce(Sum("value"), Value(ZERO, output_field=DecimalField())))["total"]


def campaign_roi(scope: Scope, start: datetime, end: datetime) -> float | None:
    """(revenue won in the range from campaigns running in it − their spend) ÷ spend."""
    campaigns = Campaign.objects.filter(start_date__lt=end.date()).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=start.date())
    )
    if scope.team is not None and scope.team.kind == Team.Kind.MARKETING:
        campaigns = campaigns.filter(team=scope.team)
    spend = campaigns.aggregate(total=Sum("spend"))["total"] or ZERO
    if not spend:
        return None
    won = scoped_leads(scope).filter(status=Status.WON, closed_at__gte=start, closed_at__lt=end, campaign__in=campaigns)
    return roi(won.aggregate(total=Sum("value"))["total"] or ZERO, spend)


def repeat_customer_rate(scope: Scope, start: datetime, end: datetime) -> float | None:
    """Share of companies won in the range that have more than one won lead (by company name)."""
    won = scoped_leads(scope).filter(status=Status.WON, closed_at__gte=start, closed_at__lt=end).exclude(company="")
    counts = list(won.values("company").annotate(n=Count("pk")).values_list("n", flat=True))
    return rate(sum(1 for n in counts if n > 1), len(counts))


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def median_first_response_hours(scope: Scope, start: datetime, end: datetime) -> float | None:
    """Median time from a lead's first assignment (in the range) to its first follow-up after it."""
    first_assigned = Assignment.objects.filter(lead=OuterRef("pk")).order_by("assigned_at").values("assigned_at")[:1]
    leads = scoped_leads(scope).annotate(first_assigned=Subquery(first_assigned))
    leads = leads.filter(first_assigned__gte=start, first_assigned__lt=end)
    first_touch = Touch.objects.filter(lead=OuterRef("pk"), occurred_at__gte=OuterRef("first_assigned"))
    rows = leads.annotate(
        first_touch=Subquery(first_touch.order_by("occurred_at").values("occurred_at")[:1])
    ).values_list("first_assigned", "first_touch")
    waits = [_hours(touched - assigned) for assigned, touched in rows if touched is not None]
    return median(waits) if waits else None


def median_time_to_assign_hours(scope: Scope, start: datetime, end: datetime) -> float | None:
    """Median routing delay: creation to first assignment, for leads created in the range."""
    rows = (
        scoped_leads(scope)
        .filter(created_at__gte=start, created_at__lt=end)
        .annotate(first_assigned=Min("assignments__assigned_at"))
        .values_list("created_at", "first_assigned")
    )
    waits = [_hours(assigned - created) for created, assigned in rows if assigned is not None]
    return median(waits) if waits else None


def _sla_compliance(kind: str, scope: Scope, start: datetime, end: datetime) -> float | None:
    """Deadlines of `kind` that fell due in the range: met ÷ (met + breached, waived left out)."""
    return clock_compliance(kind=kind, start=start, end=end, team=scope.team, owner=scope.user)


def response_sla_compliance(scope: Scope, start: datetime, end: datetime) -> float | None:
    return _sla_compliance(Sla.Kind.RESPONSE, scope, start, end)


def cadence_sla_compliance(scope: Scope, start: datetime, end: datetime) -> float | None:
    return _sla_compliance(Sla.Kind.CADENCE, scope, start, end)


def assignment_sla_compliance(scope: Scope, start: datetime, end: datetime) -> float | None:
    """Leads that reached a rep in time (SPEC §3.4): the team's, never a rep's."""
    if scope.user is not None:
        return None
    return _sla_compliance(Sla.Kind.ASSIGNMENT, scope, start, end)


def breaches(scope: Scope, start: datetime, end: datetime) -> int:
    """Breaches (not waived) that fell due in the range, owed by the scope."""
    found = Breach.objects.filter(due_at__gte=start, due_at__lt=end, waived=False)
    if scope.user is not None:
        return found.filter(responsible_user=scope.user).count()
    if scope.team is not None:
        field = "responsible_team" if scope.team.kind == Team.Kind.MARKETING else "team"
        return found.filter(**{field: scope.team}).count()
    return found.count()


def captured_share(scope: Scope, start: datetime, end: datetime) -> float | None:
    """Touches in the range not entered by hand (tapped, captured from e-mail, sent by an
    integration) ÷ all touches in it (SPEC §14): on the scope's leads, or a person's own."""
    if scope.user is not None:
        touches = Touch.objects.filter(user=scope.user)
    else:
        touches = Touch.objects.filter(lead__in=scoped_leads(scope).order_by().values("pk"))
    counts = touches.filter(occurred_at__gte=start, occurred_at__lt=end).aggregate(
        total=Count("pk"), captured=Count("pk", filter=~Q(origin=Touch.Origin.MANUAL))
    )
    return rate(counts["captured"], counts["total"])


def _disputes(scope: Scope) -> QuerySet[Dispute]:
    """Disputes of a scope's side (SPEC §15): those a marketing team's people (or a person)
    raised; those of a sales team's leads' rejections; every one, for the company."""
    disputes = Dispute.objects.all()
    if scope.user is not None:
        return disputes.filter(raised_by=scope.user)
    if scope.team is not None:
        if scope.team.kind == Team.Kind.MARKETING:
            return disputes.filter(raised_by__team=scope.team)
        return disputes.filter(lead__team=scope.team)
    return disputes


def disputes_raised(scope: Scope, start: datetime, end: datetime) -> int:
    """Disputes of rejections raised in the range, on the scope's side."""
    return _disputes(scope).filter(raised_at__gte=start, raised_at__lt=end).count()


def disputes_overturned(scope: Scope, start: datetime, end: datetime) -> int:
    """Disputes ruled in the range that overturned the rejection, on the scope's side."""
    overturned = _disputes(scope).filter(state=Dispute.State.OVERTURNED)
    return overturned.filter(ruled_at__gte=start, ruled_at__lt=end).count()


def manual(kpi: Kpi, scope: Scope, first: date, last: date) -> Decimal | None:
    """A manual KPI's value over [first, last] (dates), by the KPI's aggregation."""
    values = Measurement.objects.filter(kpi=kpi, date__gte=first, date__lte=last)
    values = values.filter(team=scope.team, user=scope.user)
    if kpi.aggregation == Kpi.Aggregation.LATEST:
        latest = values.order_by("-date", "-pk").values_list("value", flat=True).first()
        return latest
    numbers = list(values.values_list("value", flat=True))
    if not numbers:
        return None
    total = sum(numbers, ZERO)
    return total if kpi.aggregation == Kpi.Aggregation.SUM else total / len(numbers)


BUILT_IN = {
    Metric.LEADS_CREATED: leads_created,
    Metric.LEADS_GROWTH: leads_growth,
    Metric.LEAD_TO_QUALIFIED_RATE: lead_to_qualified_rate,
    Metric.LEAD_TO_WON_RATE: lead_to_won_rate,
    Metric.REVENUE_WON: revenue_won,
    Metric.CAMPAIGN_ROI: campaign_roi,
    Metric.REPEAT_CUSTOMER_RATE: repeat_customer_rate,
    Metric.MEDIAN_FIRST_RESPONSE_HOURS: median_first_response_hours,
    Metric.RESPONSE_SLA_COMPLIANCE: response_sla_compliance,
    Metric.CADENCE_SLA_COMPLIANCE: cadence_sla_compliance,
    Metric.REJECTION_RATE: rejection_rate,
    Metric.MEDIAN_TIME_TO_ASSIGN_HOURS: median_time_to_assign_hours,
    Metric.ASSIGNMENT_SLA_COMPLIANCE: assignment_sla_compliance,
}
UNITS = {
    Metric.LEADS_CREATED: "leads",
    Metric.REVENUE_WON: "currency",
    Metric.MEDIAN_FIRST_RESPONSE_HOURS: "hours",
    Metric.MEDIAN_TIME_TO_ASSIGN_HOURS: "hours",
}


def measure(kpi: Kpi, scope: Scope, first: date, last: date) -> Any:
    """The KPI's actual value for `scope` over the dates [first, last]."""
    if kpi.metric == Metric.MANUAL:
        return manual(kpi, scope, first, last)
    start, end = scope_range(scope, first, last)
    return BUILT_IN[kpi.metric](scope, start, end)
