"""SLA and breach pages. Built by the SLA engine; until then these pages say so."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _


def sla_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "placeholder.html",
        {
            "title": _("SLAs"),
            "intro": _("The service level agreement between Sales and Marketing: response, cadence and volume."),
            "coming": _("Defining SLAs in the browser is not built yet."),
        },
    )


def breach_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "placeholder.html",
        {
            "title": _("Breaches"),
            "intro": _("Every promise of the SLA that was not kept, with who owed it and when."),
            "coming": _("The breach list is not built yet."),
        },
    )
