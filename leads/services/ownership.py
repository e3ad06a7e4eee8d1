"""Moving a lead's ownership: the one write every assignment path ends in (by hand, in bulk,
by claim, by routing)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from simple_history.utils import bulk_update_with_history

from leads.models import Assignment, Lead
from leads.services.facts import lead_facts_refresh
from notifications import services as notifications
from slas import services as slas_services
from teams.models import User
from webhooks import outbox
from webhooks.models import Event


def assign_leads(*, leads: Sequence[Lead], owner: User, by: User | None, now: datetime) -> list[Assignment]:
    """End the leads' current assignments, record new ones, move ownership, start clocks,
    tell the new owners."""
    return assign_each(pairs=[(lead, owner) for lead in leads], by=by, now=now)


def assign_each(*, pairs: Sequence[tuple[Lead, User]], by: User | None, now: datetime) -> list[Assignment]:
    """`assign_leads` for leads going to different owners, in the same constant number of
    statements (routing a batch, an import's thousands)."""
    if not pairs:
        return []
    lead_ids = [lead.pk for lead, _owner in pairs]
    Assignment.objects.filter(lead_id__in=lead_ids, ended_at__isnull=True).update(ended_at=now)
    assignments = Assignment.objects.bulk_create(
        [Assignment(lead_id=lead.pk, owner=owner, assigned_by=by, assigned_at=now) for lead, owner in pairs]
    )
    for lead, owner in pairs:
        lead.owner, lead.assigned_at = owner, now
    leads = [lead for lead, _owner in pairs]
    bulk_update_with_history(leads, Lead, ["owner", "assigned_at"], default_user=by, default_date=now)
    lead_facts_refresh(lead_ids=lead_ids)
    slas_services.clocks_start(assignments=assignments, now=now)
    notifications.leads_assigned_notify(assignments=assignments, by=by, now=now)
    outbox.webhook_events_record(event=Event.LEAD_ASSIGNED, subjects=[(a.pk, a.lead_id) for a in assignments], now=now)
    return assignments
