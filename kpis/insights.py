"""Insights that settle the Sales-vs-Marketing argument with data (SPEC §5), in a few
grouped queries each: lead quality by source and campaign, how many touches it takes to
win, how the speed of the first response changes the odds, where a new lead waits
(routing beside the rep), and what campaigns return."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from statistics import median

from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from kpis.formulas import REACHED_QUALIFIED, rate, roi
from kpis.metrics import Scope, scope_range, scoped_leads
from leads.models import Assignment, Campaign, Lead, Rejection, Source, Status, Touch
from teams import permissions
from teams.models import Team, User

TOUCH_BUCKETS = ["1", "2", "3", "4", "5", "6–9", "10+"]
SPEED_BUCKETS = [
    ("under_1h", timedelta(hours=1)),
    ("1_4h", timedelta(hours=4)),
    ("4_24h", timedelta(hours=24)),
    ("1_3d", timedelta(days=3)),
    ("over_3d", None),
]


def quality_by(leads: QuerySet[Lead], field: str) -> list[dict]:
    """Per source (or campaign, or an attribution key): leads, and the shares qualified, won
    and rejected, with the rejection reasons (less those a dispute overturned, SPEC §15: such
    a lead is no longer rejected either); two queries."""
    rows = (
        leads.values(field)
        .annotate(
            leads=Count("pk"),
            qualified=Count("pk", filter=REACHED_QUALIFIED),
            won=Count("pk", filter=Q(status=Status.WON)),
            rejected=Count("pk", filter=Q(status=Status.REJECTED)),
        )
        .order_by("-leads")
    )
    reasons: dict[object, dict[str, int]] = defaultdict(dict)
    for key, reason, n in (
        Rejection.objects.filter(lead__in=leads, overturned_at__isnull=True)  # a dispute overturned the others
        .values_list(f"lead__{field}", "reason")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        reasons[key][reason] = n
    labels = dict(Source.choices)
    return [
        {
            "key": row[field],
            "label": labels.get(row[field], row[field]) if field == "source" else row[field],
            "leads": row["leads"],
            "qualified_rate": rate(row["qualified"], row["leads"]),
            "won_rate": rate(row["won"], row["leads"]),
            "rejected_rate": rate(row["rejected"], row["leads"]),
            "reasons": reasons.get(row[field], {}),
        }
        for row in rows
    ]


def _bucket_touches(n: int) -> str:
    if n <= 5:
        return str(n)
    return "6–9" if n < 10 else "10+"


def win_rate_by_touches(leads: QuerySet[Lead]) -> list[dict]:
    """Closed leads (won or lost) by how many follow-ups they had: how many touches it takes."""
    touches = Touch.objects.filter(lead=OuterRef("pk")).order_by().values("lead").annotate(n=Count("pk")).values("n")
    rows = (
        leads.filter(status__in=[Status.WON, Status.LOST])
        .annotate(touch_count=Coalesce(Subquery(touches), 0))
        .values_list("touch_count", "status")
    )
    buckets = {name: {"closed": 0, "won": 0} for name in ["0", *TOUCH_BUCKETS]}
    for count, status in rows:
        bucket = buckets["0" if count == 0 else _bucket_touches(count)]
        bucket["closed"] += 1
        bucket["won"] += status == Status.WON
    return [
        {"bucket": name, **values, "won_rate": rate(values["won"], values["closed"])}
        for name, values in buckets.items()
    ]


def win_rate_by_response_speed(leads: QuerySet[Lead]) -> list[dict]:
    """Closed leads by how fast the first follow-up came after the first assignment."""
    first_assigned = Assignment.objects.filter(lead=OuterRef("pk")).order_by("assigned_at").values("assigned_at")[:1]
    annotated = leads.filter(status__in=[Status.WON, Status.LOST]).annotate(first_assigned=Subquery(first_assigned))
    first_touch = Touch.objects.filter(lead=OuterRef("pk"), occurred_at__gte=OuterRef("first_assigned"))
    rows = annotated.annotate(
        first_touch=Subquery(first_touch.order_by("occurred_at").values("occurred_at")[:1])
    ).values_list("first_assigned", "first_touch", "status")
    buckets = {name: {"closed": 0, "won": 0} for name, _ in SPEED_BUCKETS}
    buckets["never"] = {"closed": 0, "won": 0}
    for assigned, touched, status in rows:
        if assigned is None or touched is None:
            name = "never"
        else:
            wait = touched - assigned
            name = next(key for key, limit in SPEED_BUCKETS if limit is None or wait < limit)
        buckets[name]["closed"] += 1
        buckets[name]["won"] += status == Status.WON
    return [
        {"bucket": name, **values, "won_rate": rate(values["won"], values["closed"])}
        for name, values in buckets.items()
    ]


def delays_by_source(leads: QuerySet[Lead]) -> list[dict]:
    """Where a new lead waits, per source and in all: the median hours from creation to its
    first rep (routing and the managers) beside the median hours from there to the rep's
    first follow-up (the rep), so that neither side is blamed for the other's delay.
    From the facts stored on the lead (`leads.services.facts`): one query."""
    rows = leads.values_list("source", "created_at", "first_assigned_at", "first_response_at")
    waits: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"leads": [], "routing": [], "rep": []})
    for source, created, assigned, responded in rows:
        for key in (source, None):
            found = waits[key]
            found["leads"].append(1)
            if assigned is not None:
                found["routing"].append(_hours(assigned - created))
                if responded is not None:
                    found["rep"].append(_hours(responded - assigned))
    labels = dict(Source.choices)
    ordered = sorted((key for key in waits if key is not None), key=lambda key: (-len(waits[key]["leads"]), key))
    return [
        {
            "key": key or "all",
            "label": labels.get(key, key) if key else None,
            "leads": len(waits[key]["leads"]),
            "assigned": len(waits[key]["routing"]),
            "routing_hours": median(waits[key]["routing"]) if waits[key]["routing"] else None,
            "rep_hours": median(waits[key]["rep"]) if waits[key]["rep"] else None,
        }
        for key in [*ordered, None]
        if key in waits
    ]


def _hours(wait: timedelta) -> float:
    return wait.total_seconds() / 3600


def campaign_returns(*, leads: QuerySet[Lead], start: datetime, end: datetime) -> dict:
    """Per campaign running in the range: spend, leads, wins, revenue won in the range, ROI;
    and Marketing's share of all revenue won in the range (leads from its campaigns)."""
    campaigns = Campaign.objects.filter(start_date__lt=end.date()).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=start.date())
    )
    won = Q(leads__status=Status.WON, leads__closed_at__gte=start, leads__closed_at__lt=end, leads__in=leads)
    rows = campaigns.annotate(
        lead_count=Count("leads", filter=Q(leads__in=leads, leads__created_at__gte=start, leads__created_at__lt=end)),
        won_count=Count("leads", filter=won),
        revenue=Coalesce(Sum("leads__value", filter=won), Value(Decimal(0), output_field=DecimalField())),
    ).order_by("-revenue", "name")
    result = []
    for campaign in rows:
        result.append({"campaign": campaign, "roi": roi(campaign.revenue, campaign.spend)})
    total = leads.filter(status=Status.WON, closed_at__gte=start, closed_at__lt=end).aggregate(
        all=Sum("value"), marketing=Sum("value", filter=Q(campaign__isnull=False))
    )
    all_revenue, marketing = total["all"] or Decimal(0), total["marketing"] or Decimal(0)
    spend = sum((row["campaign"].spend for row in result), Decimal(0))
    return {
        "campaigns": result,
        "revenue": all_revenue,
        "marketing_revenue": marketing,
        "marketing_share": float(marketing / all_revenue) if all_revenue else None,
        "spend": spend,
    }


def insight_teams(*, user: User) -> QuerySet[Team]:
    """The sales teams whose leads `user` may look into (the lead scope decides which leads)."""
    return Team.objects.filter(permissions.lead_team_scope(user)).order_by("name")


def insights_for(*, user: User, team: Team | None, first: date, last: date) -> dict:
    """Every insight of the page for the leads `user` may see (of `team`, or of every team
    they may look into): created from `first` to `last` (inclusive dates) for quality, closed
    then for conversion."""
    scope = Scope(team=team)
    start, end = scope_range(scope, first, last)
    leads = scoped_leads(scope).filter(permissions.lead_scope(user), team__in=insight_teams(user=user))
    cohort = leads.filter(created_at__gte=start, created_at__lt=end)
    closed = leads.filter(closed_at__gte=start, closed_at__lt=end)
    return {
        "by_source": quality_by(cohort, "source"),
        "by_campaign": [row for row in quality_by(cohort, "campaign__name") if row["key"]],
        # Where leads came from as their forms, hooks and WhatsApp messages told (SPEC §13).
        "by_utm_source": [row for row in quality_by(cohort, "attribution__utm_source") if row["key"]],
        "by_utm_campaign": [row for row in quality_by(cohort, "attribution__utm_campaign") if row["key"]],
        "by_touches": win_rate_by_touches(closed),
        "by_speed": win_rate_by_response_speed(closed),
        "delays": delays_by_source(cohort),
        "returns": campaign_returns(leads=leads, start=start, end=end),
    }
