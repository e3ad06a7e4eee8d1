"""Pages of disputes of rejections (SPEC §15): the rejections Marketing may dispute, the
disputes of both sides with the ruling form, and the two writes (raise one, rule on one).

Each view loads through a scoped selector (a lead or dispute the user may not see is a 404),
asks the policy (a role that may see but not act hears 403, before its input is read) and
calls one service."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from leads import selectors, services
from leads.filters import DisputeFilter, RejectionFilter
from leads.forms import DisputeForm, RulingForm
from leads.models import Dispute, Lead
from leads.views import _detail_context, _lead_or_404, _next
from teams import permissions

PAGE_SIZE = 50


def rejection_list(request: HttpRequest) -> HttpResponse:
    """Rejections of the leads the user may see, newest first; Marketing disputes from here."""
    visible = selectors.rejection_list(user=request.user)
    filters = RejectionFilter(request.GET, queryset=visible)
    found = filters.qs if filters.is_valid() else visible.none()
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    can_raise = permissions.can_raise_dispute(request.user)
    rows = [
        (
            rejection,
            can_raise and selectors.rejection_open_to_dispute(rejection=rejection, now=now),
            selectors.dispute_deadline(rejection=rejection),
        )
        for rejection in page.object_list
    ]
    count = page.paginator.count
    context = {
        "filters": filters,
        "page": page,
        "rows": rows,
        "count_text": ngettext("%(counter)s rejection", "%(counter)s rejections", count) % {"counter": count},
        "can_raise": can_raise,
        "filtered": any(request.GET.get(name) for name in filters.filters),
    }
    return render(request, "leads/rejection_list.html", context)


def dispute_list(request: HttpRequest) -> HttpResponse:
    """Disputes of the leads the user may see, newest first, with the ruling form on the open
    ones the user may rule on."""
    visible = selectors.dispute_list(user=request.user)
    filters = DisputeFilter(request.GET, queryset=visible)
    found = filters.qs if filters.is_valid() else visible.none()
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        (dispute, dispute.state == Dispute.State.OPEN and permissions.can_rule_dispute(request.user, dispute))
        for dispute in page.object_list
    ]
    context = {
        "filters": filters,
        "page": page,
        "rows": rows,
        "open_count": visible.filter(state=Dispute.State.OPEN).count(),
        "can_raise": permissions.can_raise_dispute(request.user),
        "can_rule": permissions.can_rule_dispute(request.user),
        "filtered": any(request.GET.get(name) for name in filters.filters),
        "rulings": RulingForm.base_fields["ruling"].choices,
    }
    return render(request, "leads/dispute_list.html", context)


@require_POST
def dispute_raise(request: HttpRequest, pk: int) -> HttpResponse:
    """Dispute the lead's latest rejection; a refused one shows the lead page with the reason."""
    lead = _lead_or_404(request, pk)
    if not permissions.can_raise_dispute(request.user, lead):
        raise PermissionDenied  # before the form: a refused role hears 403 whatever it sends
    form = DisputeForm(request.POST)
    if form.is_valid():
        try:
            services.dispute_raise(lead=lead, by=request.user, note=form.cleaned_data["note"], now=timezone.now())
        except ValidationError as exc:
            _add_errors(form, exc)
    if form.errors:
        context = _detail_context(request, lead, dispute_form=form)
        return render(request, "leads/lead_detail.html", context, status=400)
    messages.success(request, _("Rejection disputed; the sales team’s manager will rule on it."))
    return redirect(_next(request, reverse("leads:detail", args=[lead.pk])))


@require_POST
def dispute_rule(request: HttpRequest, pk: int) -> HttpResponse:
    """Uphold or overturn a dispute, then back to where the ruling was made."""
    dispute = get_object_or_404(selectors.dispute_list(user=request.user), pk=pk)
    if not permissions.can_rule_dispute(request.user, dispute):
        raise PermissionDenied
    back = _next(request, reverse("leads:disputes"))
    form = RulingForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(message for errors in form.errors.values() for message in errors))
        return redirect(back)
    try:
        ruled = services.dispute_rule(dispute=dispute, by=request.user, now=timezone.now(), **form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    if ruled.state == Dispute.State.UPHELD:
        messages.success(request, _("Rejection upheld; Marketing will see your reason."))
    else:
        lead = Lead.objects.select_related("owner").get(pk=ruled.lead_id)
        if lead.owner is not None:
            text = _("Rejection overturned: “%(lead)s” is a new lead again, routed to %(owner)s.")
            messages.success(request, text % {"lead": lead.name, "owner": lead.owner})
        else:
            text = _("Rejection overturned: “%(lead)s” is a new lead again; nobody could take it now.")
            messages.warning(request, text % {"lead": lead.name})
    return redirect(back)


def _add_errors(form: Form, exc: ValidationError) -> None:
    """A service's errors on the form: on the field they name when the form has it, else
    on the whole form (the lead's state, the window)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)
