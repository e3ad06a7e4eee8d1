"""The benchmark's data is the product's data: valid choices, clocks with the due times the
product computes, and states that the product's own refresh leaves alone."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest
from django.utils import timezone

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

pytestmark = pytest.mark.django_db


@pytest.fixture
def generated():
    import generate

    args = argparse.Namespace(leads=300, sales_teams=3, marketing_teams=2, reps=9, touches=10.0, months=3, seed=7)
    now = timezone.now()
    world = generate.World.build(args, now)
    counts = generate.load(world, args, now)
    return world, counts


def test_every_row_is_valid_for_the_models(generated):
    from leads.models import Campaign, Lead, Rejection, Touch

    _, counts = generated
    assert counts["leads"] == 300 and counts["touches"] > 1000
    for model in (Lead, Touch, Rejection, Campaign):
        for row in model.objects.all()[:200]:
            row.full_clean(validate_unique=False, validate_constraints=False)


def test_clocks_are_what_the_product_computes_and_its_refresh_changes_nothing(generated):
    from leads.models import Assignment
    from slas.models import Clock
    from slas.services import clocks_refresh
    from slas.services.clocks import clock_terms
    from teams.calendar import calendar_for_team

    world, _ = generated
    sample = list(Assignment.objects.select_related("lead").order_by("pk")[:60])
    for assignment in sample:
        for sla in world.slas[assignment.lead.team_id]:
            due, warn, required = clock_terms(sla, assignment.assigned_at, calendar_for_team(sla.team))
            stored = Clock.objects.get(sla=sla, assignment=assignment)
            assert (stored.due_at, stored.required) == (due, required)
            if sla.kind == "response":  # a cadence clock's warning moves on with its touches
                assert stored.warn_at == warn
    before = set(Clock.objects.values_list("pk", "state", "warn_at"))
    clocks_refresh(lead_ids=list(Clock.objects.values_list("lead_id", flat=True).distinct()), now=timezone.now())
    assert set(Clock.objects.values_list("pk", "state", "warn_at")) == before


def test_the_leads_facts_are_those_the_services_would_keep(generated):
    from leads.models import Lead
    from leads.services.facts import lead_facts_backfill

    fields = ("pk", "first_assigned_at", "first_response_at", "reached_qualified")
    written = sorted(Lead.objects.values_list(*fields))
    lead_facts_backfill()
    assert sorted(Lead.objects.values_list(*fields)) == written
    assert {row[2] is None for row in written} == {True, False} and {row[3] for row in written} == {True, False}


def test_the_follow_ups_are_tallied_for_the_scorecards(generated):
    from django.db.models import Q, Sum

    from leads.models import Touch, TouchTally

    tallied = TouchTally.objects.aggregate(touches=Sum("touches"), captured=Sum("captured"))
    assert tallied["touches"] == Touch.objects.count() > 0
    assert tallied["captured"] == Touch.objects.filter(~Q(origin=Touch.Origin.MANUAL)).count()
