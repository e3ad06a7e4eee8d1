"""Escalation (SPEC §12): a lead whose first follow-up is overdue by its SLA's `reassign_after`
goes to another rep who can answer it, once."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import F, Q

from leads.models import OPEN, Lead
from leads.services.routing import leads_route
from notifications import services as notifications
from routing.models import Trigger
from slas.models import Clock
from webhooks import outbox
from webhooks.models import Event


def leads_escalate(*, now: datetime) -> int:
    """Route again every lead whose response clock breached and was still unanswered at its
    `reassign_at` (by `now`), as routing would have decided at that instant: the owner passed
    over (`excluded`), the new owner's clocks starting then, the old breach staying on the old
    owner. The previous owner and the team's sales managers are told (`lead_rerouted`); when
    nobody else can take it, the lead stays and the managers are told (`no_rep_available`).
    A lead closed, answered or given to someone else by then is left alone. Returns the
    leads that moved.

    Exactly once, however often or late it runs: the clocks are claimed (locked, skipping any
    another run holds) and marked in the transaction that routes them. A constant number of
    statements per team and instant of escalation, whatever the number of leads."""
    with transaction.atomic():
        due = Clock.objects.filter(reassign_at__isnull=False, escalated_at__isnull=True, reassign_at__lte=now)
        claimed = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True))
        if not claimed:
            return 0
        Clock.objects.filter(pk__in=claimed).update(escalated_at=now)
        unanswered = Clock.objects.filter(
            Q(breach__resolved_at__isnull=True) | Q(breach__resolved_at__gt=F("reassign_at")),
            pk__in=claimed,
            state=Clock.State.BREACHED,
            lead__status__in=OPEN,
            lead__owner_id=F("owner_id"),
        )
        batches: dict[tuple[int, datetime], list[int]] = defaultdict(list)
        clock_of: dict[int, int] = {}
        for pk, lead_id, team_id, at in unanswered.order_by("reassign_at", "pk").values_list(
            "pk", "lead_id", "team_id", "reassign_at"
        ):
            if lead_id not in clock_of:  # two response SLAs of a lead: it moves once, at the first
                batches[team_id, at].append(lead_id)
                clock_of[lead_id] = pk
        leads = Lead.objects.in_bulk([lead_id for batch in batches.values() for lead_id in batch])
        moved = []
        for (_team_id, at), lead_ids in sorted(batches.items(), key=lambda item: item[0][1]):
            batch = sorted((leads[lead_id] for lead_id in lead_ids), key=lambda lead: (lead.created_at, lead.pk))
            owners = {lead.pk: lead.owner_id for lead in batch}
            decisions = leads_route(leads=batch, trigger=Trigger.ESCALATION, now=at, exclude_owners=True)
            moved += [d.lead_id for d in decisions if d.owner_id is not None and d.owner_id != owners[d.lead_id]]
        moved_clocks = Clock.objects.filter(pk__in=[clock_of[lead_id] for lead_id in moved])
        notifications.leads_rerouted_notify(clocks=moved_clocks, now=now)
        outbox.webhook_events_record(
            event=Event.LEAD_REROUTED, subjects=[(clock_of[lead_id], lead_id) for lead_id in moved], now=now
        )
    return len(moved)
