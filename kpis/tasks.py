"""Celery tasks of the KPI app: thin wrappers around the services."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone


@shared_task(
    name="kpis.compute_scorecards",
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=10,
    soft_time_limit=900,
    time_limit=1200,
)
def compute_scorecards() -> int:
    """Nightly: every team's current and previous month and quarter. Idempotent."""
    from kpis.scorecards import scorecards_compute

    return scorecards_compute(now=timezone.now())
