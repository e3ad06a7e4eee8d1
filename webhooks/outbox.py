"""The outbox of outbound webhooks (SPEC §12): every event a row per active webhook that
wants it, written in the transaction of the change by the service that made it, unique per
(webhook, event, subject) so that a job finding the same change twice writes it once.
`webhooks.services.webhooks_deliver` sends them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet, Value

from salesmarketing.sql import insert_select
from webhooks.models import Webhook, WebhookDelivery

RETRY_FOR = timedelta(hours=24)  # a delivery is retried this long after its event, then failed
Status = WebhookDelivery.Status


def subscribers(event: str) -> list[int]:
    """The active webhooks that want `event`: one small statement."""
    return [pk for pk, events in Webhook.objects.filter(active=True).values_list("pk", "events") if event in events]


def webhook_events_record(*, event: str, subjects: Iterable[tuple[int, int | None]], now: datetime) -> int:
    """Write `event` for each (subject id, lead id) to every active webhook that wants it, in
    the caller's transaction. One statement when no webhook wants it; two when some do."""
    hooks = subscribers(event)
    if not hooks:
        return 0
    rows = [
        WebhookDelivery(
            webhook_id=hook,
            event=event,
            subject_id=subject,
            lead_id=lead,
            next_attempt_at=now,
            retry_until=now + RETRY_FOR,
            created_at=now,
        )
        for subject, lead in subjects
        for hook in hooks
    ]
    return len(WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000))


def webhook_events_from(*, event: str, rows: QuerySet, subject: Any, lead: Any, now: datetime) -> int:
    """`webhook_events_record` for a set the database finds (a sweep's breaches or clocks):
    INSERT … SELECT per webhook that wants it, `subject` and `lead` being expressions on `rows`."""
    written = 0
    for hook in subscribers(event):
        written += insert_select(
            WebhookDelivery,
            rows,
            {
                "webhook_id": Value(hook),
                "event": Value(event),
                "subject_id": subject,
                "lead_id": lead,
                "status": Value(Status.PENDING),
                "attempts": Value(0),
                "next_attempt_at": Value(now),
                "retry_until": Value(now + RETRY_FOR),
                "claim": Value(""),
                "body": Value(""),
                "last_error": Value(""),
                "created_at": Value(now),
            },
        )
    return written
