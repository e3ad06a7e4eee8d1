"""Outbound webhook pages (SPEC §12), for admins: the list, a webhook's settings and
deliveries (with redelivery), a new one (its secret shown once), a new secret, deleting."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from teams import permissions
from webhooks import selectors, services
from webhooks.forms import WebhookForm
from webhooks.models import Webhook, WebhookDelivery

PAGE_SIZE = 50
JUST_MADE = "webhook_secret"  # the session key of a secret just made, shown once


def _admin(request: HttpRequest) -> None:
    if not permissions.can_manage_webhooks(request.user):
        raise PermissionDenied


def _webhook(request: HttpRequest, pk: int) -> Webhook:
    _admin(request)
    return get_object_or_404(selectors.webhook_list(user=request.user), pk=pk)


def webhook_list(request: HttpRequest) -> HttpResponse:
    _admin(request)
    return render(request, "webhooks/list.html", {"webhooks": selectors.webhooks_with_counts(user=request.user)})


def webhook_create(request: HttpRequest) -> HttpResponse:
    _admin(request)
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            webhook, secret = services.webhook_create(by=request.user, **form.webhook_fields())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            request.session[JUST_MADE] = {"pk": webhook.pk, "secret": secret}
            messages.success(request, _("Webhook “%(name)s” added.") % {"name": webhook})
            return redirect("webhooks:detail", pk=webhook.pk)
    return render(request, "webhooks/form.html", {"form": form, "webhook": None})


def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Settings (an edit form) and deliveries, filtered by status; a secret just made, once."""
    webhook = _webhook(request, pk)
    form = WebhookForm(request.POST or None, instance=webhook)
    if request.method == "POST" and form.is_valid():
        try:
            services.webhook_update(webhook=webhook, by=request.user, **form.webhook_fields())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Webhook “%(name)s” saved.") % {"name": webhook})
            return redirect("webhooks:detail", pk=webhook.pk)
    shown = request.session.get(JUST_MADE)
    secret = None
    if shown and shown.get("pk") == webhook.pk:
        secret = request.session.pop(JUST_MADE)["secret"]
    status = request.GET.get("status", "")
    page = Paginator(selectors.delivery_list(webhook=webhook, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "webhook": webhook,
        "form": form,
        "secret": secret,
        "page": page,
        "status": status,
        "statuses": WebhookDelivery.Status.choices,
    }
    return render(request, "webhooks/detail.html", context)


@require_POST
def delivery_redeliver(request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    webhook = _webhook(request, pk)
    delivery = get_object_or_404(selectors.delivery_list(webhook=webhook), pk=delivery_pk)
    try:
        delivery = services.delivery_redeliver(delivery=delivery, by=request.user, now=timezone.now())
    except ValidationError as exc:
        if request.htmx:
            return render(request, "webhooks/_delivery.html", {"delivery": delivery, "error": exc.messages[0]})
        messages.error(request, exc.messages[0])
    else:
        if request.htmx:
            return render(request, "webhooks/_delivery.html", {"delivery": delivery})
        messages.success(request, _("Delivery %(id)s will be sent again in a few seconds.") % {"id": delivery.pk})
    return redirect("webhooks:detail", pk=webhook.pk)


@require_POST
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    webhook = _webhook(request, pk)
    secret = services.webhook_secret_rotate(webhook=webhook, by=request.user)
    request.session[JUST_MADE] = {"pk": webhook.pk, "secret": secret}
    messages.success(request, _("A new secret was made; the old one signs nothing more."))
    return redirect("webhooks:detail", pk=webhook.pk)


@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    webhook = _webhook(request, pk)
    name = str(webhook)
    services.webhook_delete(webhook=webhook, by=request.user)
    messages.success(request, _("Webhook “%(name)s” deleted.") % {"name": name})
    return redirect("webhooks:list")


def _add_errors(form: WebhookForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
