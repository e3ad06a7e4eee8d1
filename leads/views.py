"""Lead pages: list, queue, detail with timeline, quick follow-ups, export (the import's
pages are in leads.views_import, the campaigns' in leads.views_campaigns).

Each view loads objects through a scoped selector (another rep's or team's lead
is a 404), asks the policy what the user may do, and calls one service.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from leads import selectors, services
from leads.filters import LeadFilter
from leads.forms import (
    AssignForm,
    BulkAssignForm,
    DisputeForm,
    LeadForm,
    RejectForm,
    RulingForm,
    StatusForm,
    TouchForm,
)
from leads.models import Lead, Status, Touch
from salesmarketing.pagination import DeferredJoinPaginator
from slas import selectors as sla_selectors
from teams import permissions
from teams.models import Role, Team
from teams.selectors import team_reps

PAGE_SIZE = 50


def _lead_or_404(request: HttpRequest, pk: int) -> Lead:
    return get_object_or_404(selectors.lead_list(user=request.user), pk=pk)


def _next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _creatable_teams(user) -> QuerySet[Team]:
    return selectors.lead_teams(user=user)


# -- list, queue, export ------------------------------------------------------------------------
def lead_list(request: HttpRequest) -> HttpResponse:
    visible = selectors.lead_rows(user=request.user)
    filters = LeadFilter(request.GET, queryset=visible, user=request.user)
    found = filters.qs if filters.is_valid() else visible.none()
    page = DeferredJoinPaginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    can_bulk = permissions.can_assign_in_bulk(request.user)
    query = request.GET.copy()
    query.pop("page", None)
    teams = _creatable_teams(request.user)
    leads = list(page.object_list)
    count = page.paginator.count
    context = {
        "filters": filters,
        "team_filter": permissions.sees_every_team(request.user),
        "page": page,
        "leads": leads,
        "count_text": ngettext("%(counter)s lead", "%(counter)s leads", count) % {"counter": count},
        "clocks": sla_selectors.urgent_clocks(leads=leads),
        "now": timezone.now(),
        "time_zone": timezone.get_current_timezone_name(),
        "query": query.urlencode(),
        "can_bulk": can_bulk,
        "bulk_owners": selectors.lead_owner_labels(user=request.user, teams=teams) if can_bulk else [],
        "can_create": teams.exists(),
    }
    return render(request, "leads/lead_list.html", context, using="jinja2")


def lead_export(request: HttpRequest) -> StreamingHttpResponse:
    """The leads the user may see, with the list's filters, as a streamed CSV."""
    filters = LeadFilter(request.GET, queryset=selectors.lead_list(user=request.user), user=request.user)
    leads = filters.qs if filters.is_valid() else selectors.lead_list(user=request.user).none()
    response = StreamingHttpResponse(selectors.lead_export_lines(leads=leads), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="selaras-leads-{stamp}.csv"'
    return response


def touch_export(request: HttpRequest) -> StreamingHttpResponse:
    """The follow-ups on the leads the user may see, with the list's filters (and `origin`:
    how they were captured), as a streamed CSV."""
    filters = LeadFilter(request.GET, queryset=selectors.lead_list(user=request.user), user=request.user)
    leads = filters.qs if filters.is_valid() else selectors.lead_list(user=request.user).none()
    origin = request.GET.get("origin", "")
    if origin not in Touch.Origin.values:
        origin = ""
    lines = selectors.touch_export_lines(leads=leads, origin=origin)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="selaras-follow-ups-{stamp}.csv"'
    return response


@require_POST
def lead_bulk_assign(request: HttpRequest) -> HttpResponse:
    if not permissions.can_assign_in_bulk(request.user):
        raise PermissionDenied  # before the form, which would answer a refused role with a choice error
    scoped = selectors.lead_list(user=request.user)
    owners = selectors.lead_owner_choices(user=request.user, teams=_creatable_teams(request.user))
    form = BulkAssignForm(request.POST, leads=scoped, owners=owners)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(_next(request, reverse("leads:list")))
    leads = list(form.cleaned_data["leads"])
    try:
        if form.cleaned_data["round_robin"]:
            shares = services.leads_round_robin(leads=leads, team=leads[0].team, by=request.user)
            moved = sum(shares.values())
        else:
            moved = services.leads_assign_bulk(leads=leads, owner=form.cleaned_data["owner"], by=request.user)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, ngettext("%(n)d lead assigned.", "%(n)d leads assigned.", moved) % {"n": moved})
    return redirect(_next(request, reverse("leads:list")))


QUEUE_PAGE_SIZE = 50


def lead_queue(request: HttpRequest) -> HttpResponse:
    """The rep's open leads, most urgent first, 50 to a page (a busy rep has hundreds)."""
    queue = selectors.lead_queue_page(user=request.user, number=request.GET.get("page"), per_page=QUEUE_PAGE_SIZE)
    is_rep = permissions.role_of(request.user) == Role.SALES_REP
    count, unanswered = queue.page.paginator.count, queue.unanswered
    waiting = ngettext(
        "%(counter)s waiting for a first follow-up", "%(counter)s waiting for a first follow-up", unanswered
    )
    context = {
        "page": queue.page,
        "queue": queue,
        "count_text": ngettext("%(counter)s open lead", "%(counter)s open leads", count) % {"counter": count},
        "unanswered_text": waiting % {"counter": unanswered} if unanswered else "",
        "unassigned": selectors.lead_claimable(user=request.user) if is_rep else [],
        "kinds": QUICK_KINDS,
        "now": timezone.now(),
    }
    return render(request, "leads/queue.html", context, using="jinja2")


# -- one lead -------------------------------------------------------------------------------------
QUICK_KINDS = [Touch.Kind.CALL, Touch.Kind.EMAIL, Touch.Kind.MESSAGE, Touch.Kind.MEETING]


def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_or_404(request, pk)
    return render(request, "leads/lead_detail.html", _detail_context(request, lead))


def _detail_context(request: HttpRequest, lead: Lead, **forms) -> dict:
    user = request.user
    now = timezone.now()
    can_work = permissions.can_work_lead(user, lead)
    can_assign = permissions.can_assign_lead(user, lead, owner=None) and permissions.role_of(user) != Role.SALES_REP
    timeline = selectors.lead_timeline(lead=lead)
    dispute = selectors.lead_dispute_panel(lead=lead, timeline=timeline, now=now)
    return {
        "lead": lead,
        "clocks": sla_selectors.lead_clocks(lead_id=lead.pk, now=now),
        "timeline": timeline,
        # Disputes of its rejection (SPEC §15): raised by Marketing, ruled on by Sales.
        "dispute": dispute,
        "can_raise_dispute": lead.status == Status.REJECTED and permissions.can_raise_dispute(user, lead),
        "can_rule_dispute": dispute.open_dispute is not None
        and permissions.can_rule_dispute(user, dispute.open_dispute),
        "dispute_form": forms.get("dispute_form") or DisputeForm(),
        "ruling_form": RulingForm(),
        "duplicates": selectors.lead_duplicates(lead=lead, user=user)[:5],
        "can_work": can_work and not lead.is_closed,
        "can_edit": can_work,
        "can_reopen": lead.is_closed and permissions.can_reopen_lead(user, lead),
        "can_claim": lead.owner_id is None
        and permissions.role_of(user) == Role.SALES_REP
        and permissions.can_assign_lead(user, lead, owner=user),
        "can_assign": can_assign and not lead.is_closed,
        "can_route": not lead.is_closed and permissions.can_manage_routing(user, lead.team),
        "touch_form": forms.get("touch_form") or TouchForm(),
        "reject_form": forms.get("reject_form") or RejectForm(),
        "status_form": StatusForm(initial={"status": lead.status, "value": lead.value}),
        "assign_form": AssignForm(owners=team_reps(team=lead.team_id), initial={"owner": lead.owner_id}),
        "assign_choices": selectors.lead_assign_choices(lead=lead, now=timezone.now()),
        "touch_kinds": QUICK_KINDS,
        "undo_since": timezone.now() - services.UNDO_WINDOW,
    }


def lead_create(request: HttpRequest) -> HttpResponse:
    teams = _creatable_teams(request.user)
    if not teams.exists():
        raise PermissionDenied
    owners = selectors.lead_owner_choices(user=request.user, teams=teams)
    form = LeadForm(request.POST or None, teams=teams, owners=owners)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            lead = services.lead_create(
                by=request.user,
                **{key: data[key] for key in ("team", "name", "email", "phone", "company", "source", "campaign")},
                value=data["value"],
                notes=data["notes"],
                owner=data["owner"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Lead “%(name)s” created.") % {"name": lead.name})
            if selectors.lead_duplicates(lead=lead, user=request.user).exists():
                messages.warning(request, _("Another lead of this team has the same e-mail: a likely duplicate."))
            return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/lead_form.html", {"form": form, "title": _("New lead")})


def lead_edit(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_or_404(request, pk)
    if not permissions.can_work_lead(request.user, lead):
        raise PermissionDenied
    form = LeadForm(request.POST or None, instance=Lead.objects.get(pk=lead.pk), editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.lead_update(
                lead=lead, by=request.user, **{name: form.cleaned_data[name] for name in form.changed_data}
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Lead saved."))
            return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/lead_form.html", {"form": form, "title": _("Edit lead"), "lead": lead})


@require_POST
def lead_touch(request: HttpRequest, pk: int) -> HttpResponse:
    """Log a follow-up. htmx gets the refreshed fragment; a plain form post is redirected back."""
    lead = _lead_or_404(request, pk)
    if not permissions.can_work_lead(request.user, lead):
        raise PermissionDenied
    form = TouchForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.touch_log(
                lead=lead,
                by=request.user,
                kind=data["kind"],
                occurred_at=data["occurred_at"],
                outcome=data["outcome"],
                notes=data["notes"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
    if form.errors:
        if request.htmx:
            response = render(request, "leads/_touch_error.html", {"form": form}, status=422)
            response["HX-Retarget"], response["HX-Reswap"] = "#flash-area", "innerHTML"
            return response
        return render(request, "leads/lead_detail.html", _detail_context(request, lead, touch_form=form), status=400)
    label = dict(Touch.Kind.choices)[form.cleaned_data["kind"]]
    text = _("%(kind)s logged for %(name)s.") % {"kind": label, "name": lead.name}
    if request.htmx:
        return touched_fragment(request, lead, flash=text)
    messages.success(request, text)
    return redirect(_next(request, reverse("leads:detail", args=[lead.pk])))


def touched_fragment(request: HttpRequest, lead: Lead, *, flash: str, tapped: Touch | None = None) -> HttpResponse:
    """What an htmx follow-up swaps in: the queue card again (`fragment=queue`), or the lead
    page's activity, saying `flash`, and for a tap (`tapped`) its undo and a call's outcome."""
    lead.refresh_from_db()
    if request.POST.get("fragment", "timeline") == "queue":
        # The card again; a lead that has just left the queue shows as it is, without a deadline.
        leads, clocks = selectors.lead_queue_cards(user=request.user, pks=[lead.pk])
        context = {
            "leads": leads or [lead],
            "clocks": clocks,
            "kinds": QUICK_KINDS,
            "next": reverse("leads:queue"),
            "flash": flash,
            "tapped": tapped,
            "now": timezone.now(),
        }
        return render(request, "leads/queue_cards.html", context, using="jinja2")
    context = _detail_context(request, lead)
    context["flash"] = flash
    return render(request, "leads/_lead_activity.html", context)


@require_POST
def lead_assign(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_or_404(request, pk)
    if not permissions.can_assign_lead(request.user, lead):
        raise PermissionDenied  # before the form: a refused role hears 403, not "choose a rep"
    form = AssignForm(request.POST, owners=team_reps(team=lead.team_id))
    if not form.is_valid():
        messages.error(request, _("Choose an active rep of the lead’s team."))
        return redirect("leads:detail", pk=lead.pk)
    try:
        services.lead_assign(lead=lead, owner=form.cleaned_data["owner"], by=request.user)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Assigned to %(owner)s.") % {"owner": form.cleaned_data["owner"]})
    return redirect(_next(request, reverse("leads:detail", args=[lead.pk])))


@require_POST
def lead_route(request: HttpRequest, pk: int) -> HttpResponse:
    """Route the lead now, as routing would a new one (a manager's "route now")."""
    lead = _lead_or_404(request, pk)
    try:
        decision = services.lead_route(lead=lead, by=request.user)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        if decision.owner_id is None:
            messages.warning(request, _("Nobody in the team can take this lead now; it stays as it was."))
        else:
            messages.success(request, _("Routed to %(owner)s.") % {"owner": decision.owner})
    return redirect(_next(request, reverse("leads:detail", args=[lead.pk])))


@require_POST
def lead_claim(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_or_404(request, pk)
    try:
        services.lead_claim(lead=lead, by=request.user)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("“%(name)s” is yours now.") % {"name": lead.name})
    return redirect(_next(request, reverse("leads:detail", args=[lead.pk])))


@require_POST
def lead_reject(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_or_404(request, pk)
    if not permissions.can_work_lead(request.user, lead):
        raise PermissionDenied
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            services.lead_reject(
                lead=lead, by=request.user, reason=form.cleaned_data["reason"], note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
    if form.errors:
        return render(request, "leads/lead_detail.html", _detail_context(request, lead, reject_form=form), status=400)
    messages.success(request, _("Lead rejected; Marketing will see the reason."))
    return redirect("leads:detail", pk=lead.pk)


@require_POST
def lead_status(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_or_404(request, pk)
    if not permissions.can_work_lead(request.user, lead):
        raise PermissionDenied
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return redirect("leads:detail", pk=lead.pk)
    try:
        lead = services.lead_status_change(
            lead=lead, by=request.user, status=form.cleaned_data["status"], value=form.cleaned_data["value"]
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Status: %(status)s.") % {"status": lead.get_status_display()})
    return redirect("leads:detail", pk=lead.pk)
