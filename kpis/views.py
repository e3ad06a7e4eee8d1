"""Dashboard, KPIs and targets, scorecards and insights: the scoreboard both teams look at."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from kpis import dashboards, insights, selectors, services
from kpis.forms import KpiForm, MeasurementForm, MeasurementImportForm, PeriodForm, TargetForm
from kpis.metrics import Scope, scope_range, scoped_leads
from kpis.models import Metric, Scorecard
from teams import permissions
from teams.calendar import period_bounds
from teams.models import Role, Team, User


def dashboard(request: HttpRequest) -> HttpResponse:
    context = dashboards.dashboard_for(user=request.user, now=timezone.now())
    return render(request, "kpis/dashboard.html", context)


def _manageable_teams(user):
    return Team.objects.filter(permissions.kpi_team_scope(user)).order_by("name")


def kpi_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    targets = selectors.target_list(user=request.user).filter(period_end__gte=now.date() - timedelta(days=92))
    rows = [
        {"target": t, "progress": selectors.target_progress(target=t, now=now)}
        for t in targets.order_by("-period_start", "kpi__name")
    ]
    teams = _manageable_teams(request.user)
    kpis = selectors.kpi_list(user=request.user)
    people = User.objects.filter(team__in=teams, is_active=True).order_by("first_name")
    context = {
        "rows": rows,
        "kpis": kpis,
        "can_manage": teams.exists(),
        "kpi_form": KpiForm(teams=teams),
        "target_form": TargetForm(kpis=kpis, teams=teams, people=people),
        "measurement_form": MeasurementForm(kpis=kpis.filter(metric=Metric.MANUAL), teams=teams),
        "import_form": MeasurementImportForm(kpis=kpis.filter(metric=Metric.MANUAL), teams=teams),
    }
    return render(request, "kpis/kpi_list.html", context)


def _save(request: HttpRequest, form, create) -> HttpResponse:
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return redirect("kpis:list")
    try:
        create(form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Saved."))
    return redirect("kpis:list")


@require_POST
def kpi_create(request: HttpRequest) -> HttpResponse:
    teams = _manageable_teams(request.user)
    if not teams.exists():
        raise PermissionDenied
    return _save(request, KpiForm(request.POST, teams=teams), lambda data: services.kpi_create(by=request.user, **data))


@require_POST
def target_create(request: HttpRequest) -> HttpResponse:
    teams = _manageable_teams(request.user)
    if not teams.exists():
        raise PermissionDenied
    people = User.objects.filter(team__in=teams, is_active=True)
    form = TargetForm(request.POST, kpis=selectors.kpi_list(user=request.user), teams=teams, people=people)
    return _save(request, form, lambda data: services.target_create(by=request.user, **data))


@require_POST
def measurement_create(request: HttpRequest) -> HttpResponse:
    teams = _manageable_teams(request.user)
    if not teams.exists():
        raise PermissionDenied
    kpis = selectors.kpi_list(user=request.user).filter(metric=Metric.MANUAL)
    form = MeasurementForm(request.POST, kpis=kpis, teams=teams)

    def create(data):
        return services.measurement_create(
            by=request.user, kpi=data["kpi"], team=data["team"], day=data["date"], value=data["value"]
        )

    return _save(request, form, create)


@require_POST
def measurement_import(request: HttpRequest) -> HttpResponse:
    teams = _manageable_teams(request.user)
    if not teams.exists():
        raise PermissionDenied
    kpis = selectors.kpi_list(user=request.user).filter(metric=Metric.MANUAL)
    form = MeasurementImportForm(request.POST, request.FILES, kpis=kpis, teams=teams)
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return redirect("kpis:list")
    data = form.cleaned_data
    result = services.measurements_import(by=request.user, kpi=data["kpi"], file=data["file"], team=data["team"])
    if result.ok:
        text = ngettext("%(n)d value imported.", "%(n)d values imported.", result.created)
        messages.success(request, text % {"n": result.created})
    else:
        for row, column, message in result.errors[:20]:
            messages.error(
                request, _("Row %(row)d, %(column)s: %(message)s") % {"row": row, "column": column, "message": message}
            )
        messages.error(request, _("Nothing was imported."))
    return redirect("kpis:list")


# -- scorecards ----------------------------------------------------------------------------------
def scorecards(request: HttpRequest) -> HttpResponse:
    period = request.GET.get("period", "month") if request.GET.get("period") in ("month", "quarter") else "month"
    visible = Scorecard.objects.filter(permissions.scorecard_scope(request.user), period=period).select_related("team")
    starts = sorted(set(visible.values_list("period_start", flat=True)), reverse=True)
    chosen = _chosen_start(request.GET.get("start"), starts)
    cards = list(visible.filter(period_start=chosen).order_by("team__name")) if chosen else []
    trend = dashboards.scorecard_trend(cards=visible, periods=starts[:6])
    leaderboard = []
    if chosen:
        sales_teams = [card.team for card in cards if card.team.kind == Team.Kind.SALES]
        end = period_bounds(chosen, period)[1] - timedelta(days=1)
        leaderboard = dashboards.rep_leaderboard(teams=sales_teams, first=chosen, last=end, user=request.user)
    context = {
        "period": period,
        "starts": starts,
        "chosen": chosen,
        "sales_cards": [card for card in cards if card.team.kind == Team.Kind.SALES],
        "marketing_cards": [card for card in cards if card.team.kind == Team.Kind.MARKETING],
        "trend": trend,
        "leaderboard": leaderboard,
        "sales_side_only": permissions.role_of(request.user) in {Role.SALES_MANAGER, Role.SALES_REP},
    }
    return render(request, "kpis/scorecards.html", context)


def _chosen_start(raw: str | None, starts: list[date]) -> date | None:
    try:
        wanted = date.fromisoformat(raw) if raw else None
    except ValueError:
        wanted = None
    if wanted in starts:
        return wanted
    today = timezone.localdate()
    past = [start for start in starts if start <= today]
    return past[0] if past else (starts[0] if starts else None)


# -- insights ----------------------------------------------------------------------------------
def insights_page(request: HttpRequest) -> HttpResponse:
    # The teams whose leads the user may see (the policy's lead scope decides which leads).
    sales_teams = Team.objects.filter(permissions.lead_team_scope(request.user)).order_by("name")
    form = PeriodForm(request.GET or None, teams=sales_teams)
    today = timezone.localdate()
    team, first, last = None, today - timedelta(days=90), today
    if form.is_valid():
        team = form.cleaned_data["team"]
        first = form.cleaned_data["start"] or first
        last = form.cleaned_data["end"] or last
    scope = Scope(team=team)
    start, end = scope_range(scope, first, last)
    leads = scoped_leads(scope).filter(permissions.lead_scope(request.user), team__in=sales_teams)
    cohort = leads.filter(created_at__gte=start, created_at__lt=end)
    closed = leads.filter(closed_at__gte=start, closed_at__lt=end)
    context = {
        "form": form,
        "first": first,
        "last": last,
        "by_source": insights.quality_by(cohort, "source"),
        "by_campaign": [row for row in insights.quality_by(cohort, "campaign__name") if row["key"]],
        "by_touches": insights.win_rate_by_touches(closed),
        "by_speed": insights.win_rate_by_response_speed(closed),
        "returns": insights.campaign_returns(leads=leads, start=start, end=end),
    }
    return render(request, "kpis/insights.html", context)
