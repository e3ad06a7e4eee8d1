"""Reads of outbound webhooks (SPEC §12): admins only, through `teams.permissions`."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, Q, QuerySet

from teams import permissions
from webhooks.models import Webhook, WebhookDelivery

Status = WebhookDelivery.Status


def webhook_list(*, user: Any) -> QuerySet[Webhook]:
    """The webhooks `user` may manage (every one for an admin, none else)."""
    if not permissions.can_manage_webhooks(user):
        return Webhook.objects.none()
    return Webhook.objects.order_by("name", "pk")


def webhooks_with_counts(*, user: Any) -> QuerySet[Webhook]:
    """The list page's rows: each webhook with its deliveries waiting and failed, and its last
    delivery. One statement."""
    return webhook_list(user=user).annotate(
        waiting=Count("deliveries", filter=Q(deliveries__status__in=[Status.PENDING, Status.RETRYING, Status.SENDING])),
        failed=Count("deliveries", filter=Q(deliveries__status=Status.FAILED)),
        last_delivered=Max("deliveries__delivered_at"),
    )


def delivery_list(*, webhook: Webhook, status: str = "") -> QuerySet[WebhookDelivery]:
    """A webhook's deliveries, newest first, optionally of one status (an index gives the order)."""
    deliveries = WebhookDelivery.objects.filter(webhook=webhook).order_by("-created_at", "-id")
    return deliveries.filter(status=status) if status in Status.values else deliveries
