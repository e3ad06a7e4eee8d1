"""Celery task of outbound webhooks: a thin wrapper around the service."""

from __future__ import annotations

from salesmarketing.celery import periodic_job


@periodic_job("webhooks.deliver", soft_time_limit=120, time_limit=150, retry_backoff_max=60, max_retries=3)
def deliver() -> dict:
    """Every few seconds: POST the webhook deliveries that are due. Safe to run twice or at once."""
    from webhooks.services import webhooks_deliver

    result = webhooks_deliver()
    return {"delivered": result.delivered, "failed": result.failed, "switched_off": result.switched_off}
