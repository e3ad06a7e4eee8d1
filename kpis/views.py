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
from kpis.models import Metric
from teams import permissions
from teams.calendar import period_bounds
from teams.models import Role, Team
from teams.tour import tour_for


def dashboard(request: HttpRequest) -> HttpResponse:
    context = dashboards.dashboard_for(user=request.user, now=timezone.now())
    context["tour"] = tour_for(user=request.user, step=request.GET.get("tour"))
    return render(request, "kpis/dashboard.html", context)


def kpi_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    targets = selectors.target_list(user=request.user).filter(period_end__gte=now.date() - timedelta(days=92))
    rows = [
        {"target": t, "progress": selectors.target_progress(target=t, now=now)}
        for t in targets.order_by("-period_start", "kpi__name")
    ]
    teams = selectors.kpi_teams(user=request.user)
    kpis = selectors.kpi_list(user=request.user)
    people = selectors.kpi_people(teams=teams)
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
    teams = selectors.kpi_teams(user=request.user)
    if not teams.exists():
        raise PermissionDenied
    return _save(request, KpiForm(request.POST, teams=teams), lambda data: services.kpi_create(by=request.user, **data))


@require_POST
def target_create(request: HttpRequest) -> HttpResponse:
    teams = selectors.kpi_teams(user=request.user)
    if not teams.exists():
        raise PermissionDenied
    people = selectors.kpi_people(teams=teams)
    form = TargetForm(request.POST, kpis=selectors.kpi_list(user=request.user), teams=teams, people=people)
    return _save(request, form, lambda data: services.target_create(by=request.user, **data))


@require_POST
def measurement_create(request: HttpRequest) -> HttpResponse:
    teams = selectors.kpi_teams(user=request.user)
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
    teams = selectors.kpi_teams(user=request.user)
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
    visible = selectors.scorecard_list(user=request.user, period=period)
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
    form = PeriodForm(request.GET or None, teams=insights.insight_teams(user=request.user))
    today = timezone.localdate()
    team, first, last = None, today - timedelta(days=90), today
    if form.is_valid():
        team = form.cleaned_data["team"]
        first = form.cleaned_data["start"] or first
        last = form.cleaned_data["end"] or last
    context = {
        "form": form,
        "first": first,
        "last": last,
        **insights.insights_for(user=request.user, team=team, first=first, last=last),
    }
    return render(request, "kpis/insights.html", context)
