"""Dashboard, KPI and scorecard pages. Built by the KPI feature; until then these pages say so."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from teams import selectors


def dashboard(request: HttpRequest) -> HttpResponse:
    team = request.user.team if request.user.team_id else None
    context = {"team": team, "today": selectors.team_today(team=team) if team else None}
    return render(request, "kpis/dashboard.html", context)


def kpi_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "placeholder.html",
        {
            "title": _("KPIs"),
            "intro": _("SMART goals for each team, measured against targets."),
            "coming": _("KPIs and targets are not built yet."),
        },
    )


def scorecards(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "placeholder.html",
        {
            "title": _("Scorecards"),
            "intro": _("Sales and Marketing side by side, month by month."),
            "coming": _("Scorecards are not built yet."),
        },
    )
