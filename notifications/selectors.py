"""Reads of notifications: one's own only (SPEC §12)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from notifications.models import Kind, Notification
from teams import permissions


def notification_list(*, user: Any) -> QuerySet[Notification]:
    """`user`'s notifications, newest first, with what their words and links need: one
    statement for any number of them."""
    return Notification.objects.filter(permissions.notification_scope(user)).select_related(
        "lead",
        "breach__sla",
        "breach__responsible_user",
        "breach__responsible_team",
        "clock__sla",
        "webhook",
        "inquiry",
        "dispute__raised_by",
    )


def email_kinds(*, user: Any) -> list[tuple[str, str]]:
    """The kinds of notification `user` may choose to get by e-mail: those that can come to them
    (a webhook switched off is told to admins only)."""
    admin = permissions.is_admin(user)
    return [(kind, label) for kind, label in Kind.choices if admin or kind != Kind.WEBHOOK_SWITCHED_OFF]


def unread_count(*, user: Any) -> int:
    """How many of `user`'s notifications are unread: one statement on a small partial index."""
    return Notification.objects.filter(permissions.notification_scope(user), read_at__isnull=True).count()


def notification_text(notification: Notification) -> str:
    """What a notification says, in the active language and time zone."""
    kind, lead, breach = notification.kind, notification.lead, notification.breach
    names = {"lead": lead.name if lead else "", "kind": notification.get_kind_display()}
    if kind == Kind.LEAD_ASSIGNED:
        return _("“%(lead)s” was assigned to you.") % names
    if kind == Kind.CLOCK_AT_RISK:
        due = formats.date_format(timezone.localtime(notification.clock.due_at), "SHORT_DATETIME_FORMAT")
        return _("“%(lead)s” is at risk of breaching “%(sla)s”, due %(due)s.") % {
            **names,
            "sla": notification.clock.sla.name,
            "due": due,
        }
    if kind == Kind.BREACH_OWNER:
        return _("You breached “%(sla)s” on “%(lead)s”.") % {**names, "sla": breach.sla.name}
    if kind == Kind.BREACH_TEAM and lead is None:  # a volume SLA: a period's leads
        return _("“%(sla)s” was breached: %(actual)s of %(expected)s leads delivered.") % {
            "sla": breach.sla.name,
            "actual": breach.actual,
            "expected": breach.expected,
        }
    if kind == Kind.BREACH_TEAM:
        who = breach.responsible_user or breach.responsible_team or ""
        return _("“%(sla)s” was breached on “%(lead)s” (%(who)s).") % {**names, "sla": breach.sla.name, "who": who}
    if kind == Kind.LEAD_REROUTED:
        return _("“%(lead)s” was routed again.") % names
    if kind == Kind.NO_REP_AVAILABLE:
        return _("Nobody could take the new lead “%(lead)s”: every rep is away, off or at a cap.") % names
    if kind == Kind.INQUIRY and notification.inquiry is not None:
        return _("“%(lead)s” got in touch again (%(channel)s).") % {
            **names,
            "channel": notification.inquiry.get_channel_display(),
        }
    if kind == Kind.DISPUTE_OPENED and notification.dispute is not None:
        return _("%(who)s disputes the rejection of “%(lead)s”.") % {**names, "who": notification.dispute.raised_by}
    if kind == Kind.DISPUTE_RULED and notification.dispute is not None:
        if notification.dispute.state == "overturned":
            return _("The rejection of “%(lead)s” was overturned: the lead goes back to Sales.") % names
        return _("The rejection of “%(lead)s” was upheld.") % names
    if kind == Kind.WEBHOOK_SWITCHED_OFF:
        return _("The webhook “%(webhook)s” was switched off: its receiver failed everything for 24 hours.") % {
            "webhook": notification.webhook
        }
    return _("%(kind)s: “%(lead)s”.") % names


def notification_link(notification: Notification) -> str:
    """Where a notification leads: its breach in the breach list, a dispute opened to the
    disputes page (where it is ruled on), else its lead's page."""
    if notification.breach_id is not None:
        key = {"lead": notification.lead_id} if notification.lead_id else {"sla": notification.breach.sla_id}
        return f"{reverse('slas:breaches')}?{urlencode(key)}"
    if notification.kind == Kind.DISPUTE_OPENED and notification.lead_id is not None:
        # To the disputes page, where the sales manager rules on it.
        return f"{reverse('leads:disputes')}?{urlencode({'lead': notification.lead_id})}"
    if notification.lead_id is not None:
        return reverse("leads:detail", args=[notification.lead_id])
    if notification.webhook_id is not None:
        return reverse("webhooks:detail", args=[notification.webhook_id])
    return reverse("notifications:list")
