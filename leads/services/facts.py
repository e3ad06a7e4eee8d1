"""The facts of a lead's history that the scorecards read for every lead of a period:
its first assignment, its first follow-up after that, whether it ever reached qualified.

`kpis.grouped` reads them stored on the lead, since looking them up for a quarter's
370,000 leads took most of a scorecard run; `kpis.metrics` and `kpis.insights` read
"reached qualified" stored too (kpis.formulas), and derive the times from the history.
The services that write assignments, follow-ups and status changes keep them in step;
tests/kpis/test_scorecards_grouped.py checks both ways agree.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import BooleanField, Exists, ExpressionWrapper, Min, OuterRef, Q, QuerySet, Subquery

from leads.models import REACHED_QUALIFIED, Assignment, Lead, StatusChange, Touch


def _first_assigned(lead: OuterRef) -> Subquery:
    first = Assignment.objects.filter(lead=lead).order_by().values("lead").annotate(at=Min("assigned_at"))
    return Subquery(first.values("at"))


def lead_facts_refresh(*, lead_ids: Iterable[int] | None = None, leads: QuerySet[Lead] | None = None) -> int:
    """Recompute the first assignment and the first follow-up after it of the leads (by id,
    or a queryset) from their assignments and follow-ups, in one UPDATE; any of those may
    have been backdated, corrected or deleted. Returns the number of leads."""
    if leads is None:
        leads = Lead.objects.filter(pk__in=list(lead_ids or []))
    first_touch = (
        Touch.objects.filter(lead=OuterRef("pk"), occurred_at__gte=_first_assigned(OuterRef(OuterRef("pk"))))
        .order_by()
        .values("lead")
        .annotate(at=Min("occurred_at"))
        .values("at")
    )
    return leads.update(first_assigned_at=_first_assigned(OuterRef("pk")), first_response_at=Subquery(first_touch))


def lead_facts_backfill(*, leads: QuerySet[Lead] | None = None) -> int:
    """Every fact of the leads (default: all) from their history: after a bulk load that
    bypassed the services (bench/generate.py), or to repair. Returns the number of leads."""
    leads = Lead.objects.all() if leads is None else leads
    moved = StatusChange.objects.filter(lead=OuterRef("pk"), to_status__in=REACHED_QUALIFIED)
    reached = ExpressionWrapper(Q(status__in=REACHED_QUALIFIED) | Q(Exists(moved)), output_field=BooleanField())
    leads.update(reached_qualified=reached)
    return lead_facts_refresh(leads=leads)
