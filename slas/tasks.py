"""Celery tasks of the SLA engine: thin wrappers around the services."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone


@shared_task(
    name="slas.evaluate_slas",
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=10,
    soft_time_limit=480,
    time_limit=540,
)
def evaluate_slas(full: bool = False) -> dict:
    """The sweep, every 5 minutes from beat. Idempotent and safe to run twice or at once."""
    from slas.services import sla_sweep

    result = sla_sweep(now=timezone.now(), full=full)
    return {"response": result.response, "cadence": result.cadence, "volume": result.volume, "skipped": result.skipped}


@shared_task(
    name="slas.send_digests",
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=10,
    soft_time_limit=480,
    time_limit=540,
)
def send_digests() -> dict:
    """Hourly: schedule the digests of teams whose Monday 08:00 has passed, and send what is due.
    Safe to run twice or at once: each delivery is claimed before it is sent."""
    from slas.services import notifications

    now = timezone.now()
    scheduled = notifications.digests_schedule(now=now)
    result = notifications.deliveries_send(now=now)
    return {"scheduled": scheduled, "sent": result.sent, "failed": result.failed, "skipped": result.skipped}


@shared_task(
    name="slas.send_reminders",
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    retry_backoff_max=120,
    max_retries=5,
    soft_time_limit=240,
    time_limit=280,
)
def send_reminders() -> dict:
    """Every 5 minutes: one reminder per at-risk clock for reps who asked for them."""
    from slas.services import notifications

    now = timezone.now()
    scheduled = notifications.reminders_schedule(now=now)
    result = notifications.deliveries_send(now=now)
    return {"scheduled": scheduled, "sent": result.sent, "failed": result.failed}
