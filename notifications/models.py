"""Notifications in the app (SPEC §12): one row per person, kind and object, so that a
repeated or concurrent job never tells anyone the same thing twice."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    LEAD_ASSIGNED = "lead_assigned", _("A lead was assigned to you")
    CLOCK_AT_RISK = "clock_at_risk", _("A lead of yours is at risk")
    BREACH_OWNER = "breach_owner", _("You breached an SLA")
    BREACH_TEAM = "breach_team", _("An SLA of your team was breached")
    LEAD_REROUTED = "lead_rerouted", _("A lead was routed again")
    NO_REP_AVAILABLE = "no_rep_available", _("Nobody could take a new lead")
    INQUIRY = "inquiry", _("A lead got in touch again")
    DISPUTE_OPENED = "dispute_opened", _("A rejection was disputed")
    DISPUTE_RULED = "dispute_ruled", _("A dispute was ruled on")
    WEBHOOK_SWITCHED_OFF = "webhook_off", _("A webhook was switched off")


class Notification(models.Model):
    """Something a person should know, about a lead, a breach, a lead's SLA clock, a dispute or a
    webhook."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("for"),
        db_index=False,
    )  # notification_user_idx
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("lead")
    )
    breach = models.ForeignKey(
        "slas.Breach",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("breach"),
        db_index=False,
    )  # notification_once_per_breach
    clock = models.ForeignKey(
        "slas.Clock",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("SLA clock"),
        db_index=False,
    )  # notification_once_per_clock
    # An inquiry is news each time: one notification per person and inquiry.
    inquiry = models.ForeignKey(
        "leads.Inquiry",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("inquiry"),
        db_index=False,
    )  # notification_once_per_inquiry
    # Each dispute tells each person once that it was opened, and once that it was ruled on.
    dispute = models.ForeignKey(
        "leads.Dispute",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dispute"),
        db_index=False,
    )  # notification_once_per_dispute
    webhook = models.ForeignKey(
        "webhooks.Webhook", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("webhook")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    # The e-mail step (SPEC §12): when it took the notification (empty until then), and the
    # e-mail that carries it (empty when the person does not get this kind by e-mail).
    emailed_at = models.DateTimeField(_("e-mail considered"), null=True, blank=True)
    delivery = models.ForeignKey(
        "slas.Delivery",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("e-mail"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["breach", "kind", "user"],
                condition=Q(breach__isnull=False),
                name="notification_once_per_breach",
            ),
            models.UniqueConstraint(
                fields=["clock", "kind", "user"], condition=Q(clock__isnull=False), name="notification_once_per_clock"
            ),
            models.UniqueConstraint(
                fields=["user", "kind", "lead"],
                condition=Q(breach__isnull=True, clock__isnull=True, inquiry__isnull=True, dispute__isnull=True),
                name="notification_once_per_lead",
            ),
            models.UniqueConstraint(
                fields=["inquiry", "kind", "user"],
                condition=Q(inquiry__isnull=False),
                name="notification_once_per_inquiry",
            ),
            models.UniqueConstraint(
                fields=["dispute", "kind", "user"],
                condition=Q(dispute__isnull=False),
                name="notification_once_per_dispute",
            ),
        ]
        indexes = [
            # The list: a person's notifications, newest first.
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_idx"),
            # The bell: a person's unread count, from a small partial index.
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread_idx"),
            # The e-mail step: notifications it has not taken yet (a few minutes' worth).
            models.Index(fields=["user"], condition=Q(emailed_at__isnull=True), name="notification_unemailed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.user}"
