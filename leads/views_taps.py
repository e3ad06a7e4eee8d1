"""Tap to call or chat (SPEC §14): one tap logs the follow-up and opens the phone's dialler
or WhatsApp; for five minutes it can be undone, and a call asks for its outcome."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leads import selectors, services
from leads.forms import CallOutcomeForm
from leads.models import Lead, Touch
from leads.views import _lead_or_404, _next, touched_fragment
from teams import permissions


class TapRedirect(HttpResponseRedirect):
    """A redirect out of the app, to WhatsApp or the dialler (Django's allows only http(s) and ftp)."""

    allowed_schemes = ["https", "tel"]


@require_POST
def lead_tap(request: HttpRequest, pk: int, channel: str) -> HttpResponse:
    """Log a `click` touch and send the rep on: a plain post is redirected to `wa.me` or
    `tel:`; htmx gets the card or activity back, and the address in an `HX-Trigger` event
    (`selaras:open`) that the page's script opens."""
    lead = _lead_or_404(request, pk)
    try:
        touch = services.touch_tap(lead=lead, by=request.user, channel=channel)
    except ValidationError as exc:
        return _refused(request, lead, exc)
    url = services.tap_url(lead=lead, channel=channel, by=request.user)
    if not request.htmx:
        return TapRedirect(url)
    response = touched_fragment(request, lead, flash=_tapped_text(touch, lead), tapped=touch)
    response["HX-Trigger"] = json.dumps({"selaras:open": {"url": url}})
    return response


@require_POST
def touch_undo(request: HttpRequest, pk: int) -> HttpResponse:
    touch = _touch_or_404(request, pk)
    try:
        services.touch_undo(touch=touch, by=request.user)
    except ValidationError as exc:
        return _refused(request, touch.lead, exc)
    text = _("Undone: the follow-up is no longer on %(name)s’s record.") % {"name": touch.lead.name}
    if request.htmx:
        return touched_fragment(request, touch.lead, flash=text)
    messages.success(request, text)
    return redirect(_next(request, reverse("leads:detail", args=[touch.lead_id])))


@require_POST
def touch_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    """The outcome of a tapped call, in one more tap (connected, no answer, voicemail)."""
    touch = _touch_or_404(request, pk)
    if not permissions.can_change_touch(request.user, touch):
        raise PermissionDenied  # before the form: a refused user hears 403, not "choose an outcome"
    form = CallOutcomeForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors["outcome"])
        services.touch_update(touch=touch, by=request.user, outcome=form.cleaned_data["outcome"])
    except ValidationError as exc:
        return _refused(request, touch.lead, exc)
    text = _("Call with %(name)s: %(outcome)s.") % {"name": touch.lead.name, "outcome": touch.get_outcome_display()}
    if request.htmx:
        return touched_fragment(request, touch.lead, flash=text, tapped=touch)
    messages.success(request, text)
    return redirect(_next(request, reverse("leads:detail", args=[touch.lead_id])))


def _touch_or_404(request: HttpRequest, pk: int) -> Touch:
    """A touch on a lead the user may see (another team's is a 404)."""
    scoped = Touch.objects.select_related("lead").filter(lead__in=selectors.lead_list(user=request.user))
    return get_object_or_404(scoped, pk=pk)


def _tapped_text(touch: Touch, lead: Lead) -> str:
    if touch.kind == Touch.Kind.CALL:
        return _("Call to %(name)s logged.") % {"name": lead.name}
    return _("WhatsApp message to %(name)s logged.") % {"name": lead.name}


def _refused(request: HttpRequest, lead: Lead, exc: ValidationError) -> HttpResponse:
    text = " ".join(exc.messages)
    if request.htmx:
        response = render(request, "leads/_flash_error.html", {"text": text}, status=422)
        response["HX-Retarget"], response["HX-Reswap"] = "#flash-area", "innerHTML"
        return response
    messages.error(request, text)
    return redirect(_next(request, reverse("leads:detail", args=[lead.pk])))
