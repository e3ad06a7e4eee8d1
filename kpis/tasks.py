"""Celery tasks of the KPI app: thin wrappers around the services."""

from __future__ import annotations

from django.utils import timezone

from salesmarketing.celery import periodic_job


@periodic_job("kpis.compute_scorecards", soft_time_limit=900, time_limit=1200, retry_backoff_max=600)
def compute_scorecards() -> int:
    """Nightly: every team's current and previous month and quarter. Idempotent."""
    from kpis.scorecards import scorecards_compute

    return scorecards_compute(now=timezone.now())


@periodic_job("kpis.refresh_scorecards", soft_time_limit=240, time_limit=300)
def refresh_scorecards() -> int:
    """Every minute: recompute the stored cards a change marked stale (a rejection overturned).
    Nothing marked: one indexed statement. Safe twice or at once."""
    from kpis.scorecards import scorecards_refresh

    return scorecards_refresh(now=timezone.now())
