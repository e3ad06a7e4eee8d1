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
