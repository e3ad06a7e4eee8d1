"""Celery task of intake: a thin wrapper around the service."""

from __future__ import annotations

from salesmarketing.celery import periodic_job


@periodic_job("intake.process_inbound", soft_time_limit=240, time_limit=300, retry_backoff_max=60, max_retries=3)
def process_inbound() -> dict:
    """Every minute: process the inbound events a request left waiting or that failed. Safe to
    run twice or at once (each event is locked while processed)."""
    from django.utils import timezone

    from intake.services import events_process_due

    result = events_process_due(now=timezone.now())
    return {"done": result.done, "failed": result.failed}
