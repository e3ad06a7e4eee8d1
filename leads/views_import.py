"""The CSV import of leads: upload, a preview that creates nothing, then confirm."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from leads import selectors, services
from leads.forms import ImportForm
from leads.models import ImportBatch


def lead_import(request: HttpRequest) -> HttpResponse:
    """Upload → preview (nothing created) → confirm. Errors list row, column and message."""
    teams = selectors.lead_teams(user=request.user)
    if not teams.exists():
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None, teams=teams)
    context = {"form": form, "teams": teams}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch, report = services.import_preview(
            upload=upload, filename=upload.name, team=form.cleaned_data["team"], by=request.user
        )
        context.update(report=report, batch=batch, team=form.cleaned_data["team"])
        return render(request, "leads/import.html", context, status=200 if report.ok else 400)
    return render(request, "leads/import.html", context)


@require_POST
def lead_import_confirm(request: HttpRequest, batch_id) -> HttpResponse:
    batch = get_object_or_404(ImportBatch, pk=batch_id, created_by=request.user)
    try:
        report = services.import_commit(batch=batch, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("leads:import")
    if not report.ok:
        return render(
            request,
            "leads/import.html",
            {"form": ImportForm(teams=selectors.lead_teams(user=request.user)), "report": report},
            status=400,
        )
    messages.success(
        request,
        ngettext("%(n)d lead imported.", "%(n)d leads imported.", report.created) % {"n": report.created},
    )
    return redirect(reverse("leads:list") + f"?team={batch.team_id}")
