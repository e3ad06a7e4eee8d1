"""Celery tasks of the SLA engine: thin wrappers around the services."""

from __future__ import annotations

from django.utils import timezone

from salesmarketing.celery import periodic_job


@periodic_job("slas.evaluate_slas", soft_time_limit=480, time_limit=540, bind=True)
def evaluate_slas(self, full: bool = False) -> dict:
    """The sweep, every 5 minutes from beat, then the escalations it made due. Idempotent and
    safe to run twice or at once.

    A full re-check that finds another sweep running (or a dead worker's session not yet
    ended) tries again in 30 s rather than being lost; a periodic run just leaves it to the next.
    """
    from leads.services.escalation import leads_escalate
    from slas.services import sla_sweep

    now = timezone.now()
    result = sla_sweep(now=now, full=full)
    if result.skipped and full:
        raise self.retry(countdown=30)
    return {
        # The sweep that is running escalates after it; this one leaves it to that one.
        "rerouted": 0 if result.skipped else leads_escalate(now=now),
        "response": result.response,
        "cadence": result.cadence,
        "volume": result.volume,
        "assignment": result.assignment,
        "skipped": result.skipped,
    }


@periodic_job("slas.send_digests", soft_time_limit=480, time_limit=540)
def send_digests() -> dict:
    """Hourly: schedule the digests of teams whose Monday 08:00 has passed, and send what is due.
    Safe to run twice or at once: each delivery is claimed before it is sent."""
    from slas.services import notifications

    now = timezone.now()
    scheduled = notifications.digests_schedule(now=now)
    result = notifications.deliveries_send(now=now)
    return {"scheduled": scheduled, "sent": result.sent, "failed": result.failed, "skipped": result.skipped}
