"""Lead pages. The lead list is built by the leads feature; this page says so."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _


def lead_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "placeholder.html",
        {
            "title": _("Leads"),
            "intro": _("Leads that Marketing hands over, assigned to reps who log every follow-up."),
            "coming": _("The lead list, the rep’s queue, CSV import and export are not built yet."),
        },
    )
