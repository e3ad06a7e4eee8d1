"""Celery tasks of notifications: thin wrappers around the services."""

from __future__ import annotations

from django.utils import timezone

from salesmarketing.celery import periodic_job


@periodic_job("notifications.send_email", soft_time_limit=240, time_limit=280, retry_backoff_max=120, max_retries=5)
def send_email() -> dict:
    """Every minute: gather each person's new notifications into one e-mail (at most one per
    person per five minutes) and send what is due. Safe to run twice or at once."""
    from notifications.services import notifications_email_schedule
    from slas.services.notifications import deliveries_send

    now = timezone.now()
    scheduled = notifications_email_schedule(now=now)
    result = deliveries_send(now=now)
    return {"scheduled": scheduled, "sent": result.sent, "failed": result.failed}
