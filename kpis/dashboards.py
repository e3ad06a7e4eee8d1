"""Reads for the dashboard, the scorecard trend and the reps' leaderboard."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kpis import metrics, selectors
from kpis.capacity import capacity_ahead_for
from kpis.economics import last_week_costs
from kpis.metrics import Scope, scope_range
from kpis.models import Metric, Scorecard, Target
from leads.models import OPEN, Lead, Status, Touch
from leads.selectors import lead_queue
from slas.models import Breach, Clock, Sla
from slas.selectors import breach_list, volume_progress_for
from teams import permissions
from teams.calendar import period_bounds
from teams.models import Role, Team, User


def shared_goal(*, now: datetime) -> dict | None:
    """The company revenue goal in force today, shown to every team alike."""
    today = now.date()
    target = (
        Target.objects.filter(kpi__metric=Metric.REVENUE_WON, team__isnull=True, user__isnull=True)
        .filter(period_start__lte=today, period_end__gte=today)
        .select_related("kpi")
        .order_by("period_end")
        .first()
    )
    return {"target": target, "progress": selectors.target_progress(target=target, now=now)} if target else None


def targets_in_force(*, targets: QuerySet[Target], now: datetime) -> list[dict]:
    today = now.date()
    found = targets.filter(period_start__lte=today, period_end__gte=today).select_related("kpi", "team", "user__team")
    return [
        {"target": t, "progress": selectors.target_progress(target=t, now=now)} for t in found.order_by("kpi__name")
    ]


def dashboard_for(*, user: User, now: datetime) -> dict[str, Any]:
    """What the home page shows a user, by role (SPEC §5, Dashboard)."""
    role = permissions.role_of(user)
    team = user.team if user.team_id else None
    context: dict[str, Any] = {"role": role, "team": team, "goal": shared_goal(now=now), "now": now}
    if team is not None:
        context["today"] = now.astimezone(Scope(team=team).zone).date()
    if role == Role.SALES_REP:
        context.update(_rep(user=user, now=now))
    elif role == Role.SALES_MANAGER and team is not None:
        context.update(_sales_manager(team=team, user=user, now=now))
        if team.kind == Team.Kind.SALES:
            context["settling"] = settling_panels(teams=[team], now=now)
    elif role in {Role.MARKETING_MANAGER, Role.MARKETER} and team is not None:
        context.update(_marketing(team=team, now=now))
        if role == Role.MARKETING_MANAGER:  # the sales teams its volume SLAs deliver to
            owed = [item["sla"] for item in context["volume"]]
            teams = sorted({sla.team for sla in owed}, key=lambda t: (t.name, t.pk))
            context["settling"] = settling_panels(teams=teams, now=now, volume_slas=owed)
    elif role == Role.ADMIN:
        first = period_bounds(now.date(), "month")[0]
        context["cards"] = Scorecard.objects.filter(period="month", period_start=first).select_related("team")
    return context


def _this_week(scope: Scope, now: datetime) -> tuple[datetime, datetime]:
    today = now.astimezone(scope.zone).date()
    monday = today - timedelta(days=today.weekday())
    return scope_range(scope, monday, monday + timedelta(days=6))


def _month(scope: Scope, now: datetime) -> tuple[date, date]:
    first, after = period_bounds(now.astimezone(scope.zone).date(), "month")
    return first, after - timedelta(days=1)


def _rep(*, user: User, now: datetime) -> dict[str, Any]:
    scope = Scope(user=user)
    start, end = scope_range(scope, *_month(scope, now))
    quota = targets_in_force(targets=Target.objects.filter(user=user, kpi__metric=Metric.REVENUE_WON), now=now)
    return {
        "queue": list(lead_queue(user=user)[:5]),
        "queue_size": Lead.objects.filter(owner=user, status__in=OPEN).count(),
        "response_compliance": metrics.response_sla_compliance(scope, start, end),
        "cadence_compliance": metrics.cadence_sla_compliance(scope, start, end),
        "quota": quota[0] if quota else None,
        "my_breaches": Breach.objects.filter(responsible_user=user, waived=False, acknowledged_at__isnull=True).count(),
    }


def _sales_manager(*, team: Team, user: User, now: datetime) -> dict[str, Any]:
    scope = Scope(team=team)
    week = _this_week(scope, now)
    first = _month(scope, now)[0]
    open_breaches = breach_list(user=user).filter(team=team, waived=False, acknowledged_at__isnull=True)
    return {
        "card": Scorecard.objects.filter(team=team, period="month", period_start=first).first(),
        "week_response": metrics.response_sla_compliance(scope, *week),
        "week_cadence": metrics.cadence_sla_compliance(scope, *week),
        "open_breach_count": open_breaches.count(),
        "open_breaches": list(open_breaches.order_by("-due_at")[:5]),
        "kpi_rows": targets_in_force(targets=Target.objects.filter(team=team), now=now),
    }


def _marketing(*, team: Team, now: datetime) -> dict[str, Any]:
    scope = Scope(team=team)
    start, end = scope_range(scope, *_month(scope, now))
    rejected = metrics.rejection_rate(scope, start, end)
    owed = list(Sla.objects.filter(kind=Sla.Kind.VOLUME, from_team=team, is_active=True).select_related("team"))
    progress = volume_progress_for(slas=owed, now=now)
    return {
        "volume": [{"sla": sla, "progress": progress[sla.pk]} for sla in owed],
        "delivered": metrics.leads_created(scope, start, end),
        "acceptance": None if rejected is None else 1 - rejected,
        "kpi_rows": targets_in_force(targets=Target.objects.filter(team=team), now=now),
    }


def settling_panels(*, teams: list[Team], now: datetime, volume_slas: list | None = None) -> list[dict[str, Any]]:
    """For each of `teams` (sales teams), what last week's breaches cost and its capacity
    ahead (SPEC §15), as the dashboard shows them to both teams' managers. Seven queries
    whatever the number of teams (`last_week_costs`, `capacity_ahead_for`)."""
    if not teams:
        return []
    weeks = last_week_costs(teams=teams, now=now)
    capacity = capacity_ahead_for(teams=teams, now=now, volume_slas=volume_slas)
    return [
        {"team": team, "week": weeks[team.pk], "capacity": capacity_view(capacity[team.pk], team=team)}
        for team in teams
    ]


def sla_capacity(*, sla: Sla, now: datetime) -> dict[str, Any] | None:
    """The capacity ahead shown beside a volume SLA: its team's, against this SLA's
    expectation (three queries); None for other kinds."""
    if sla.kind != Sla.Kind.VOLUME:
        return None
    capacity = capacity_ahead_for(teams=[sla.team], now=now, volume_slas=[sla])[sla.team_id]
    return capacity_view(capacity, team=sla.team)


def capacity_view(capacity: dict, *, team: Team) -> dict[str, Any]:
    """A team's capacity ahead (`kpis.capacity`) with its chart's figures: rep hours as bars,
    leads per rep-hour as a line, each month named in the active language and a month of
    warning marked in words too, not in colour alone."""
    labels = []
    for row in capacity["months"]:
        name = date_format(row["first"], "YEAR_MONTH_FORMAT")
        labels.append(_("%(month)s (warning)") % {"month": name} if row["warning"] else name)
    return {
        "team": team,
        "months": capacity["months"],
        "warnings": [row for row in capacity["months"] if row["warning"]],
        "expects": any(row["expected_leads"] is not None for row in capacity["months"]),
        "chart": {
            "labels": labels,
            "rep_hours": [row["rep_hours"] for row in capacity["months"]],
            "per_hour": [row["leads_per_rep_hour"] for row in capacity["months"]],
            "warning": [row["warning"] for row in capacity["months"]],
            "names": [_("Rep hours"), _("Leads per rep-hour"), _("hours"), _("leads per rep-hour")],
        },
        "chart_id": f"capacity-data-{team.pk}",
    }


def scorecard_trend(*, cards: QuerySet[Scorecard], periods: list[date]) -> dict[str, Any]:
    """The last periods' key figures per team, oldest first, for the trend chart."""
    rows = cards.filter(period_start__in=periods).select_related("team").order_by("period_start")
    labels = sorted({card.period_start for card in rows})
    series: dict[str, dict[str, list]] = {}
    for card in rows:
        team = series.setdefault(
            card.team.name, {"kind": card.team.kind, "leads": [None] * len(labels), "rate": [None] * len(labels)}
        )
        index = labels.index(card.period_start)
        team["leads"][index] = card.metrics.get("leads_received", card.metrics.get("leads_delivered"))
        rate = (
            card.metrics.get("response_sla_compliance")
            if card.team.kind == Team.Kind.SALES
            else card.metrics.get("acceptance_rate")
        )
        team["rate"][index] = round(rate * 100, 1) if rate is not None else None
    return {"labels": [label.isoformat() for label in labels], "series": series}


def rep_leaderboard(*, teams: list[Team], first: date, last: date, user: User) -> list[dict]:
    """Reps of `teams` for a period: follow-ups (and the share of them captured rather than
    typed), response compliance, revenue won against quota.
    Four grouped queries whatever the number of reps; a rep sees only their own row."""
    reps = User.objects.filter(team__in=teams, role=Role.SALES_REP, is_active=True).order_by("first_name")
    if permissions.role_of(user) == Role.SALES_REP:
        reps = reps.filter(pk=user.pk)
    reps = list(reps)
    if not reps:
        return []
    start, end = scope_range(Scope(team=teams[0]), first, last)
    ids = [rep.pk for rep in reps]
    touches = {
        user_id: (n, captured)
        for user_id, n, captured in Touch.objects.filter(user_id__in=ids, occurred_at__gte=start, occurred_at__lt=end)
        .values_list("user_id")
        .annotate(n=Count("pk"), captured=Count("pk", filter=~Q(origin=Touch.Origin.MANUAL)))
        .order_by()
    }
    revenue = dict(
        Lead.objects.filter(owner_id__in=ids, status=Status.WON, closed_at__gte=start, closed_at__lt=end)
        .values_list("owner_id")
        .annotate(total=Sum("value"))
        .order_by()
    )
    clocks = {
        owner: (met, breached)
        for owner, met, breached in Clock.objects.filter(
            owner_id__in=ids, kind=Sla.Kind.RESPONSE, due_at__gte=start, due_at__lt=end
        )
        .values_list("owner_id")
        .annotate(
            met=Count("pk", filter=Q(state=Clock.State.MET)),
            breached=Count("pk", filter=Q(state=Clock.State.BREACHED, breach__waived=False)),
        )
        .order_by()
    }
    quotas = dict(
        Target.objects.filter(
            user_id__in=ids, kpi__metric=Metric.REVENUE_WON, period_start__lte=last, period_end__gte=first
        ).values_list("user_id", "target")
    )
    rows = []
    for rep in reps:
        met, breached = clocks.get(rep.pk, (0, 0))
        won = revenue.get(rep.pk) or Decimal(0)
        quota = quotas.get(rep.pk)
        made, captured = touches.get(rep.pk, (0, 0))
        rows.append(
            {
                "rep": rep,
                "touches": made,
                "captured_share": captured / made if made else None,
                "compliance": met / (met + breached) if met + breached else None,
                "revenue": won,
                "quota": quota,
                "attainment": float(won / quota) if quota else None,
            }
        )
    return sorted(rows, key=lambda row: (-(row["attainment"] or 0), -row["touches"]))
