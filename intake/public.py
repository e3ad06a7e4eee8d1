"""The public endpoints of intake (SPEC §13): no login, no CSRF token; a key in the URL, a
signature or a rate limit instead. Each reads the request, hands it to a service, and
answers; a post that was accepted is answered as accepted even when processing it failed
(its event waits, `failed`, for a retry)."""

from __future__ import annotations

import hmac
import json
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from intake import services
from intake.forms_public import HONEYPOT, PublicLeadForm
from intake.models import InboundHook, LeadForm
from leads.models import ATTRIBUTION_KEYS
from salesmarketing.ratelimit import client_ip, rate_exceeded


def _too_big(request: HttpRequest, limit: int) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > limit or len(request.body) > limit


def _refusal(status: int, message: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"detail": message}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


# --- lead forms ----------------------------------------------------------------------------
@login_not_required
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST", "OPTIONS"])
def lead_form(request: HttpRequest, key: str) -> HttpResponse:
    form = get_object_or_404(LeadForm.objects.select_related("team"), key=key, active=True)
    origin = request.headers.get("Origin", "").rstrip("/").lower()
    allowed = bool(origin) and origin in form.allowed_origins
    if request.method == "OPTIONS":
        response = HttpResponse(status=204 if allowed else 403)
    else:
        with translation.override(form.language):
            response = _lead_form_post(request, form) if request.method == "POST" else _lead_form_page(request, form)
    if allowed:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    response["Content-Language"] = form.language
    return response


def _lead_form_page(request: HttpRequest, form: LeadForm, bound: PublicLeadForm | None = None) -> HttpResponse:
    initial = {key: request.GET.get(key, "")[:500] for key in ATTRIBUTION_KEYS if request.GET.get(key)}
    initial.setdefault("referrer", request.headers.get("Referer", "")[:500])
    page = bound or PublicLeadForm(lead_form=form, initial=initial)
    return render(request, "intake/public_form.html", {"lead_form": form, "form": page}, status=400 if bound else 200)


def _wants_json(request: HttpRequest) -> bool:
    return request.content_type == "application/json" or "application/json" in request.headers.get("Accept", "")


def _lead_form_post(request: HttpRequest, form: LeadForm) -> HttpResponse:
    as_json = _wants_json(request)
    if _too_big(request, settings.INBOUND_MAX_BYTES):
        return _refusal(413, _("The form's contents are too large."))
    address = client_ip(request)
    if rate_exceeded(scope=f"form:{form.pk}", key=address, limit=settings.FORM_RATE_PER_MINUTE, per=60):
        return _refusal(429, _("Too many posts from your address; wait a minute."), **{"Retry-After": "60"})
    data = _form_data(request) if request.content_type == "application/json" else request.POST
    if data is None:
        return _refusal(400, _("The body is not a JSON object."))
    now = timezone.now()
    if data.get(HONEYPOT):
        services.form_spam_record(form=form, data=data, remote_addr=address, now=now)
        return _thanks(request, form, as_json=as_json, lead_id=None)
    bound = PublicLeadForm(data, lead_form=form)
    if not bound.is_valid():
        if as_json:
            return JsonResponse(bound.field_errors(), status=400)
        return _lead_form_page(request, form, bound=bound)
    event = services.form_post_accept(form=form, data=bound.cleaned_data, remote_addr=address, now=now)
    return _thanks(request, form, as_json=as_json, lead_id=event.lead_id)


def _form_data(request: HttpRequest) -> dict[str, Any] | None:
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    # A field is text (or the consent's true); an object or a list in its place is no value.
    return {
        key: value if isinstance(value, bool) else str(value)
        for key, value in data.items()
        if value is not None and not isinstance(value, dict | list)
    }


def _thanks(request: HttpRequest, form: LeadForm, *, as_json: bool, lead_id: int | None) -> HttpResponse:
    if as_json:
        return JsonResponse({"ok": True, "lead": lead_id}, status=201)
    if form.redirect_url:
        return _see_other(form.redirect_url)
    return render(request, "intake/public_thanks.html", {"lead_form": form})


def _see_other(url: str) -> HttpResponse:
    response = HttpResponse(status=303)
    response["Location"] = url
    return response


# --- inbound hooks -------------------------------------------------------------------------
@login_not_required
@csrf_exempt
@require_http_methods(["POST"])
def inbound_hook(request: HttpRequest, key: str) -> HttpResponse:
    hook = get_object_or_404(InboundHook.objects.select_related("team", "campaign"), key=key, active=True)
    if _too_big(request, settings.INBOUND_MAX_BYTES):
        return _refusal(413, _("The body is too large."))
    try:
        event, _created = services.hook_post_accept(
            hook=hook,
            body=request.body,
            signature=request.headers.get("X-Selaras-Signature", ""),
            remote_addr=client_ip(request),
            now=timezone.now(),
        )
    except services.Refused:
        return _refusal(401, _("The signature or key does not match this hook's secret."))
    except ValidationError as exc:
        return JsonResponse(exc.message_dict, status=400)
    if hook.kind == InboundHook.Kind.GOOGLE_ADS:
        return JsonResponse({})
    return JsonResponse({"ok": True, "lead": event.lead_id}, status=201)


# --- WhatsApp ------------------------------------------------------------------------------
@login_not_required
@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        token = settings.WHATSAPP_VERIFY_TOKEN
        given = request.GET.get("hub.verify_token", "")
        if request.GET.get("hub.mode") == "subscribe" and token and hmac.compare_digest(given.encode(), token.encode()):
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        return HttpResponse(status=403)
    if _too_big(request, settings.WHATSAPP_MAX_BYTES):
        return _refusal(413, _("The body is too large."))
    try:
        services.whatsapp_post_accept(
            body=request.body, signature=request.headers.get("X-Hub-Signature-256", ""), now=timezone.now()
        )
    except services.Refused:
        return _refusal(401, _("The signature does not match the app secret."))
    except ValidationError as exc:
        return JsonResponse(exc.message_dict, status=400)
    return JsonResponse({})
