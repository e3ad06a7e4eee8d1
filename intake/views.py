"""Intake's pages (SPEC §13): lead forms (settings, link, snippet, preview, counts, recent
posts), inbound hooks (settings, address, the secret once, an example request, recent
events), WhatsApp numbers (admins) and the failed events admins retry."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from intake import selectors, services
from intake.forms import InboundHookForm, LeadFormForm, WhatsAppNumberForm
from intake.forms_public import PublicLeadForm
from intake.models import Channel, InboundEvent, InboundHook, LeadForm, WhatsAppNumber
from intake.signatures import signature
from teams import permissions

JUST_MADE = "inbound_hook_secret"  # the session key of a secret just made, shown once


def _managers(request: HttpRequest) -> None:
    if not permissions.can_manage_intake(request.user):
        raise PermissionDenied


def _admins(request: HttpRequest) -> None:
    if not permissions.can_manage_whatsapp_numbers(request.user):
        raise PermissionDenied


def intake_overview(request: HttpRequest) -> HttpResponse:
    _managers(request)
    user = request.user
    context = {
        "forms": selectors.lead_form_list(user=user).order_by("name", "pk"),
        "hooks": selectors.inbound_hook_list(user=user).order_by("name", "pk"),
        "numbers": selectors.whatsapp_number_list(user=user).order_by("name", "pk"),
        "is_admin": permissions.is_admin(user),
        "failed": permissions.is_admin(user) and selectors.has_failed_events(),
        "whatsapp_url": request.build_absolute_uri(reverse("intake:whatsapp")),
    }
    return render(request, "intake/overview.html", context)


# --- lead forms ----------------------------------------------------------------------------
def lead_form_create(request: HttpRequest) -> HttpResponse:
    _managers(request)
    form = LeadFormForm(request.POST or None, user=request.user)
    added = _("Lead form “%(name)s” added: paste its snippet or share its link.")
    lead_form = _saved(request, form, lambda fields: services.lead_form_create(by=request.user, **fields), added)
    if lead_form is not None:
        return redirect("intake:form_detail", pk=lead_form.pk)
    return render(request, "intake/form_settings.html", {"form": form, "lead_form": None})


def lead_form_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _managers(request)
    lead_form = get_object_or_404(selectors.lead_form_list(user=request.user), pk=pk)
    form = LeadFormForm(request.POST or None, instance=lead_form, user=request.user)
    saved = _saved(
        request,
        form,
        lambda fields: services.lead_form_update(form=lead_form, by=request.user, **fields),
        _("Lead form “%(name)s” saved."),
    )
    if saved is not None:
        return redirect("intake:form_detail", pk=lead_form.pk)
    url = request.build_absolute_uri(reverse("intake:form_public", args=[lead_form.key]))
    context = {
        "lead_form": lead_form,
        "form": form,
        "url": url,
        **_as_visitors_see_it(lead_form, url),
        "events": selectors.endpoint_events(channel=Channel.FORM, endpoint=lead_form.pk),
    }
    return render(request, "intake/form_detail.html", context)


def _as_visitors_see_it(lead_form: LeadForm, url: str) -> dict[str, str]:
    """The form's preview and its snippet, in the form's language (not the viewer's)."""
    with translation.override(lead_form.language):
        context = {"lead_form": lead_form, "url": url}
        preview = render_to_string(
            "intake/_preview.html", {**context, "form": PublicLeadForm(lead_form=lead_form, prefix="preview")}
        )
        snippet = render_to_string("intake/snippet.txt", {**context, "form": PublicLeadForm(lead_form=lead_form)})
    return {"preview": preview, "snippet": snippet.strip()}


# --- inbound hooks -------------------------------------------------------------------------
def inbound_hook_create(request: HttpRequest) -> HttpResponse:
    _managers(request)
    form = InboundHookForm(request.POST or None, user=request.user)
    made = _saved(
        request,
        form,
        lambda fields: services.inbound_hook_create(by=request.user, **fields),
        _("Inbound hook “%(name)s” added."),
    )
    if made is not None:
        hook, secret = made
        request.session[JUST_MADE] = {"pk": hook.pk, "secret": secret}
        return redirect("intake:hook_detail", pk=hook.pk)
    return render(request, "intake/hook_settings.html", {"form": form, "hook": None})


def inbound_hook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _managers(request)
    hook = get_object_or_404(selectors.inbound_hook_list(user=request.user), pk=pk)
    form = InboundHookForm(request.POST or None, instance=hook, user=request.user)
    saved = _saved(
        request,
        form,
        lambda fields: services.inbound_hook_update(hook=hook, by=request.user, **fields),
        _("Inbound hook “%(name)s” saved."),
    )
    if saved is not None:
        return redirect("intake:hook_detail", pk=hook.pk)
    shown = request.session.get(JUST_MADE)
    secret = request.session.pop(JUST_MADE)["secret"] if shown and shown.get("pk") == hook.pk else None
    url = request.build_absolute_uri(reverse("intake:hook_public", args=[hook.key]))
    context = {
        "hook": hook,
        "form": form,
        "url": url,
        "secret": secret,
        "example": _example(hook, url, secret),
        "events": selectors.endpoint_events(channel=Channel.HOOK, endpoint=hook.pk),
    }
    return render(request, "intake/hook_detail.html", context)


def _example(hook: InboundHook, url: str, secret: str | None) -> dict[str, str]:
    """A request to copy: its body and, with the secret just shown, its very signature."""
    if hook.kind == InboundHook.Kind.GOOGLE_ADS:
        body = {
            "lead_id": "TeSter-123-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "api_version": "1.0",
            "form_id": 40000000000,
            "campaign_id": 20000000000,
            "google_key": secret or "<the hook's secret>",
            "is_test": True,
            "gcl_id": "TeSter-123",
            "user_column_data": [
                {"column_name": "Full Name", "string_value": "Budi Santoso", "column_id": "FULL_NAME"},
                {"column_name": "User Email", "string_value": "budi@example.com", "column_id": "EMAIL"},
                {"column_name": "User Phone", "string_value": "+6281234567890", "column_id": "PHONE_NUMBER"},
            ],
        }
        return {"body": json.dumps(body, indent=2), "signature": ""}
    body = json.dumps(
        {
            "external_id": "crm-1001",
            "name": "Budi Santoso",
            "email": "budi@example.com",
            "phone": "0812-3456-7890",
            "company": "PT Maju",
            "notes": "Asked for a demo",
            "utm_source": "webinar",
        }
    )
    return {"body": body, "signature": signature(secret, body.encode()) if secret else ""}


@require_POST
def inbound_hook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    _managers(request)
    hook = get_object_or_404(selectors.inbound_hook_list(user=request.user), pk=pk)
    secret = services.inbound_hook_secret_rotate(hook=hook, by=request.user)
    request.session[JUST_MADE] = {"pk": hook.pk, "secret": secret}
    messages.success(request, _("A new secret was made; the old one is refused from now on."))
    return redirect("intake:hook_detail", pk=hook.pk)


# --- WhatsApp numbers ----------------------------------------------------------------------
def whatsapp_number_create(request: HttpRequest) -> HttpResponse:
    return _whatsapp_number(request, pk=None)


def whatsapp_number_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _whatsapp_number(request, pk=pk)


def _whatsapp_number(request: HttpRequest, *, pk: int | None) -> HttpResponse:
    _admins(request)
    number = get_object_or_404(selectors.whatsapp_number_list(user=request.user), pk=pk) if pk else None
    form = WhatsAppNumberForm(request.POST or None, instance=number, user=request.user)

    def save(fields: dict) -> WhatsAppNumber:
        if number is None:
            return services.whatsapp_number_create(by=request.user, **fields)
        return services.whatsapp_number_update(number=number, by=request.user, **fields)

    if _saved(request, form, save, _("WhatsApp number “%(name)s” saved.")) is not None:
        return redirect("intake:overview")
    events = selectors.endpoint_events(channel=Channel.WHATSAPP, endpoint=number.pk) if number else []
    return render(request, "intake/whatsapp_number.html", {"form": form, "number": number, "events": events})


# --- failed events -------------------------------------------------------------------------
def failed_events(request: HttpRequest) -> HttpResponse:
    _admins(request)
    return render(request, "intake/failed.html", {"events": selectors.failed_events(user=request.user)[:200]})


@require_POST
def event_retry(request: HttpRequest, pk: int) -> HttpResponse:
    _admins(request)
    event = get_object_or_404(selectors.failed_events(user=request.user), pk=pk)
    event = services.event_retry(event=event, now=timezone.now())
    if request.htmx:
        return render(request, "intake/_event_row.html", {"event": event, "retry": True})
    if event.state == InboundEvent.State.FAILED:
        messages.error(request, _("It failed again: %(error)s") % {"error": event.error})
    else:
        messages.success(request, _("Processed: %(state)s.") % {"state": event.get_state_display()})
    return redirect("intake:failed")


def _saved(request: HttpRequest, form, save: Callable[[dict], Any], message: str) -> Any:
    """When a valid form was posted: `save` its fields and say `message`; what `save` returned
    (the object, or (the object, its secret)), or None with the service's refusals on the form."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        saved = save(form.endpoint_fields())
    except ValidationError as exc:
        _add_errors(form, exc)
        return None
    messages.success(request, message % {"name": saved[0] if isinstance(saved, tuple) else saved})
    return saved


def _add_errors(form, exc: ValidationError) -> None:
    renamed = {
        "fields": "fields_asked",
        "required": "required_fields",
        "allowed_origins": "origins",
        "field_map": "mapping",
    }
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            field = renamed.get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
