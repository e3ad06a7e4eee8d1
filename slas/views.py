"""SLA pages (define, edit, (de)activate, see how each is kept) and the breach list."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kpis.dashboards import sla_capacity
from notifications import selectors as notification_selectors
from salesmarketing.pagination import DeferredJoinPaginator
from slas import selectors, services
from slas.filters import BreachFilter
from slas.forms import HELP, AcknowledgeForm, NotificationPreferencesForm, SlaForm, WaiveForm
from slas.models import Sla
from slas.services import notifications, preview
from teams import permissions
from teams.models import User

PAGE_SIZE = 50
PREVIEW = "preview"  # the SLA form's "Preview" button: judge the terms, save nothing


def sla_list(request: HttpRequest) -> HttpResponse:
    slas = list(selectors.sla_list(user=request.user).order_by("team__name", "kind", "name"))
    now = timezone.now()
    counts = selectors.sla_counts_for(slas=slas, now=now)
    rows = [
        {
            "sla": sla,
            "counts": counts[sla.pk],
            "rate": selectors.compliance(counts[sla.pk]["met"], counts[sla.pk]["breached"]),
        }
        for sla in slas
    ]
    context = {"rows": rows, "can_create": permissions.can_create_slas(request.user), "kinds": Sla.Kind.choices}
    return render(request, "slas/sla_list.html", context)


def _team_choices(user, kind: str):
    choices = selectors.sla_team_choices(user=user, kind=kind)
    if choices is None:
        raise PermissionDenied
    return choices


def sla_create(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in Sla.Kind.values:
        raise Http404
    teams, from_teams = _team_choices(request.user, kind)
    form = SlaForm(request.POST or None, kind=kind, teams=teams, from_teams=from_teams)
    what_if = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        team = data.pop("team")
        try:
            if PREVIEW in request.POST:
                what_if = preview.sla_preview(by=request.user, now=timezone.now(), team=team, kind=kind, **data)
            else:
                sla = services.sla_create(by=request.user, team=team, kind=kind, **data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if what_if is None:
                messages.success(request, _("SLA “%(name)s” is in force from now on.") % {"name": sla.name})
                return redirect("slas:detail", pk=sla.pk)
    context = {"form": form, "kind": kind, "kind_label": Sla.Kind(kind).label, "help": HELP[kind]}
    return render(request, "slas/sla_form.html", {**context, **_what_if_context(what_if)})


def sla_edit(request: HttpRequest, pk: int) -> HttpResponse:
    sla = get_object_or_404(selectors.sla_list(user=request.user), pk=pk)
    if not permissions.can_edit_sla(request.user, sla):
        raise PermissionDenied
    teams, from_teams = _team_choices(request.user, sla.kind)
    form = SlaForm(
        request.POST or None, instance=Sla.objects.get(pk=sla.pk), kind=sla.kind, teams=teams, from_teams=from_teams
    )
    what_if = None
    if request.method == "POST" and form.is_valid():
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            if PREVIEW in request.POST:
                what_if = preview.sla_preview(by=request.user, now=timezone.now(), sla=sla, **changed)
            else:
                services.sla_update(sla=sla, by=request.user, **changed)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if what_if is None:
                messages.success(request, _("SLA saved. Clocks already running keep the terms they started with."))
                return redirect("slas:detail", pk=sla.pk)
    context = {"form": form, "sla": sla, "kind": sla.kind, "kind_label": sla.get_kind_display(), "help": HELP[sla.kind]}
    return render(request, "slas/sla_form.html", {**context, **_what_if_context(what_if)})


def _what_if_context(what_if: preview.Preview | None) -> dict:
    """The preview's figures for the SLA form, and for its chart (SPEC §15)."""
    if what_if is None:
        return {"preview": None}
    chart = {
        "labels": [week.label for week in what_if.weeks],
        "proposed": [_percent(week.proposed.compliance) for week in what_if.weeks],
        "current": [None if week.current is None else _percent(week.current.compliance) for week in what_if.weeks],
        "breached": [week.proposed.breached for week in what_if.weeks],
        "breached_now": [None if week.current is None else week.current.breached for week in what_if.weeks],
    }
    return {"preview": what_if, "preview_chart": chart}


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(100 * rate, 1)


@require_POST
def sla_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    sla = get_object_or_404(selectors.sla_list(user=request.user), pk=pk)
    active = request.POST.get("active") == "1"
    services.sla_set_active(sla=sla, by=request.user, active=active)
    text = (
        _("SLA activated: it applies to leads assigned from now on.")
        if active
        else _("SLA deactivated: no new clocks start; running ones finish under their terms.")
    )
    messages.success(request, text)
    return redirect("slas:detail", pk=sla.pk)


def sla_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sla = get_object_or_404(selectors.sla_list(user=request.user), pk=pk)
    now = timezone.now()
    counts = selectors.sla_counts(sla=sla, now=now)
    weekly = selectors.sla_weekly_compliance(sla=sla, now=now)
    breaches = selectors.breach_list(user=request.user).filter(sla=sla)[:20]
    if sla.kind == Sla.Kind.VOLUME:
        periods = list(sla.evaluations.order_by("period_start"))[-12:]
        chart = {
            "labels": [period.period_start.isoformat() for period in periods],
            "rates": [
                round(100 * period.delivered / period.expected, 1) if period.expected else None for period in periods
            ],
            "met": [min(period.delivered, period.expected) for period in periods],
            "breached": [max(period.expected - period.delivered, 0) for period in periods],
            "names": [_("Delivered, percent of target"), _("Delivered"), _("Short of target"), _("Leads")],
        }
    else:
        chart = {
            "labels": [row["week"].date().isoformat() for row in weekly],
            "rates": [round(row["rate"] * 100, 1) if row["rate"] is not None else None for row in weekly],
            "met": [row["met"] for row in weekly],
            "breached": [row["breached"] for row in weekly],
            "names": [_("Compliance, percent"), _("Met"), _("Breached"), _("Deadlines")],
        }
    context = {
        "sla": sla,
        "counts": counts,
        "rate": selectors.compliance(counts["met"], counts["breached"]),
        "chart": chart,
        "weekly": weekly,
        "progress": selectors.volume_progress(sla=sla, now=now) if sla.kind == Sla.Kind.VOLUME else None,
        "capacity": sla_capacity(sla=sla, now=now),
        "breaches": breaches,
        "can_edit": permissions.can_edit_sla(request.user, sla),
        "history": sla.history.select_related("history_user").order_by("-history_date")[:10],
    }
    return render(request, "slas/sla_detail.html", context)


# -- breaches ---------------------------------------------------------------------------
def breach_list(request: HttpRequest) -> HttpResponse:
    breaches = selectors.breach_list(user=request.user)
    filters = BreachFilter(request.GET, queryset=breaches)
    filters.form.fields["sla"].queryset = selectors.sla_list(user=request.user)
    rows = filters.qs if filters.is_valid() else breaches.none()
    page = DeferredJoinPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    manageable = {breach.pk for breach in page.object_list if permissions.can_manage_breach(request.user, breach)}
    waivable = {breach.pk for breach in page.object_list if permissions.can_waive_breach(request.user, breach)}
    context = {
        "filters": filters,
        "page": page,
        "query": query.urlencode(),
        "manageable": manageable,
        "waivable": waivable,
    }
    return render(request, "slas/breach_list.html", context)


def breach_export(request: HttpRequest) -> StreamingHttpResponse:
    filters = BreachFilter(request.GET, queryset=selectors.breach_list(user=request.user))
    breaches = filters.qs if filters.is_valid() else selectors.breach_list(user=request.user).none()
    response = StreamingHttpResponse(
        selectors.breach_export_lines(breaches=breaches), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="selaras-breaches.csv"'
    return response


def _breach_or_404(request: HttpRequest, pk: int):
    return get_object_or_404(selectors.breach_list(user=request.user), pk=pk)


@require_POST
def breach_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    breach = _breach_or_404(request, pk)
    if not permissions.can_manage_breach(request.user, breach):
        raise PermissionDenied  # before the form: a refused role hears 403, not what its note lacks
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
    else:
        services.breach_acknowledge(breach=breach, by=request.user, note=form.cleaned_data["note"])
        messages.success(request, _("Breach acknowledged."))
    return _back(request)


@require_POST
def breach_waive(request: HttpRequest, pk: int) -> HttpResponse:
    breach = _breach_or_404(request, pk)
    if not permissions.can_waive_breach(request.user, breach):
        raise PermissionDenied  # before the form: a refused role hears 403, not "say why"
    form = WaiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why this breach is waived."))
        return _back(request)
    try:
        services.breach_waive(breach=breach, by=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Breach waived: it stays on record but leaves the compliance figures."))
    return _back(request)


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if not target.startswith("/") or target.startswith("//"):
        target = reverse("slas:breaches")
    return redirect(target)


# -- e-mail preferences and one-click unsubscribe -------------------------------------------------
def notification_preferences(request: HttpRequest) -> HttpResponse:
    user = request.user
    initial = {name: getattr(user, name) for name in ("digest_enabled", "digest_when_empty", "email_notifications")}
    kinds = notification_selectors.email_kinds(user=user)
    form = NotificationPreferencesForm(request.POST or None, initial=initial, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        notifications.preferences_update(user=user, **form.cleaned_data)
        messages.success(request, _("Your e-mail preferences are saved."))
        return redirect("notification_preferences")
    return render(request, "slas/preferences.html", {"form": form})


@csrf_exempt  # mail clients' one-click POST carries no CSRF token; the signed token is the proof
@login_not_required
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The link in every e-mail: works without logging in. GET asks (mail scanners open
    links), POST switches the e-mail off (also the one-click POST of mail clients)."""
    try:
        data = signing.loads(token, salt=notifications.UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return render(request, "slas/unsubscribe.html", {"invalid": True}, status=400)
    if request.method == "POST":
        try:
            _user, kind = notifications.unsubscribe(token=token)
        except (signing.BadSignature, User.DoesNotExist):
            return render(request, "slas/unsubscribe.html", {"invalid": True}, status=400)
        return render(request, "slas/unsubscribe.html", {"done": True, "kind": kind})
    return render(request, "slas/unsubscribe.html", {"kind": data.get("k")})
