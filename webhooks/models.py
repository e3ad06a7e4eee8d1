"""Outbound webhooks (SPEC §12): where a company wants to hear of what happens, and an outbox
of deliveries written in the transaction of each change, POSTed by a worker."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    LEAD_CREATED = "lead.created", _("A lead was created")
    LEAD_ASSIGNED = "lead.assigned", _("A lead was assigned")
    TOUCH_LOGGED = "touch.logged", _("A follow-up was logged")
    CLOCK_AT_RISK = "clock.at_risk", _("A lead fell at risk of breaching an SLA")
    BREACH_RECORDED = "breach.recorded", _("A breach was recorded")
    BREACH_RESOLVED = "breach.resolved", _("A breach was resolved by a late answer")
    LEAD_REROUTED = "lead.rerouted", _("A lead was routed again by escalation")


class Webhook(models.Model):
    """A receiver of events. The secret signs every body; it is shown once, when made."""

    class Format(models.TextChoices):
        JSON = "json", _("JSON (the API's representation)")
        SLACK = "slack", _("Slack (one line of text)")

    name = models.CharField(_("name"), max_length=100, blank=True)
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    format = models.CharField(_("format"), max_length=10, choices=Format.choices, default=Format.JSON)
    active = models.BooleanField(_("active"), default=True)
    secret = models.CharField(_("secret"), max_length=100, editable=False)
    # The first failure since the last success: a webhook failing everything for 24 hours is
    # switched off (`switched_off_at`), and the admins told.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    switched_off_at = models.DateTimeField(_("switched off"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.name or self.url


class WebhookDelivery(models.Model):
    """One event for one webhook: written with the change, claimed before it is POSTed and
    marked after. `subject_id` is the id of what the event is about (the lead of
    lead.created, the assignment of lead.assigned, the touch, the clock, the breach), so each
    event is written once per webhook however often the job that finds it runs."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        RETRYING = "retrying", _("Failed, will retry")
        FAILED = "failed", _("Failed")

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    event = models.CharField(_("event"), max_length=20, choices=Event.choices)
    subject_id = models.BigIntegerField(_("about"))
    lead_id = models.BigIntegerField(_("lead"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    retry_until = models.DateTimeField(_("retried until"))
    claim = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The exact bytes sent, fixed at the first attempt: every retry carries the same body and
    # signature, and the receiver drops repeats by the delivery's id.
    body = models.TextField(_("body"), blank=True)
    response_code = models.PositiveSmallIntegerField(_("last response code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["webhook", "event", "subject_id"], name="webhook_event_once"),
        ]
        indexes = [
            # The worker: what is waiting or due for a retry, oldest first.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "retrying", "sending"]),
                name="webhook_delivery_due_idx",
            ),
            # A webhook's page: its deliveries, newest first.
            models.Index(fields=["webhook", "-created_at", "-id"], name="webhook_delivery_list_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} · {self.webhook}"
