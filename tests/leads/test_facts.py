"""The facts a lead keeps for the scorecards (leads.services.facts) stay in step with its
history whatever the services do: reassignments, backdated follow-ups, corrections and
deletions, moves back through the pipeline; and a backfill from the history agrees."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leads import services
from leads.models import Lead
from leads.services.facts import lead_facts_backfill

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 9, 7, 2, tzinfo=ZoneInfo("UTC"))


def facts(lead: Lead) -> tuple:
    lead.refresh_from_db()
    return lead.first_assigned_at, lead.first_response_at, lead.reached_qualified


def test_the_first_assignment_and_the_first_follow_up_after_it(users, sales_team):
    manager, rep, other = users["sales_manager"], users["sales_rep"], users["other_rep"]
    lead = services.lead_create(by=manager, team=sales_team, name="Siti", now=T0)
    assert facts(lead) == (None, None, False)
    # A follow-up logged before anyone owned the lead is not a response to an assignment.
    services.touch_log(lead=lead, by=manager, kind="call", now=T0 + timedelta(minutes=10))
    assert facts(lead) == (None, None, False)
    services.lead_assign(lead=lead, owner=rep, by=manager, now=T0 + timedelta(hours=1))
    assert facts(lead) == (T0 + timedelta(hours=1), None, False)
    late = services.touch_log(lead=lead, by=rep, kind="call", now=T0 + timedelta(hours=5))
    assert facts(lead)[1] == T0 + timedelta(hours=5)
    # A reassignment keeps the first; a follow-up backdated to just after it becomes the first.
    services.lead_assign(lead=lead, owner=other, by=manager, now=T0 + timedelta(hours=6))
    early = services.touch_log(
        lead=lead, by=other, kind="email", occurred_at=T0 + timedelta(hours=2), now=T0 + timedelta(hours=7)
    )
    assert facts(lead) == (T0 + timedelta(hours=1), T0 + timedelta(hours=2), False)
    # Corrected to before the assignment, then deleted: the next one counts.
    services.touch_update(touch=early, by=manager, occurred_at=T0 + timedelta(minutes=30), now=T0 + timedelta(hours=8))
    assert facts(lead)[1] == T0 + timedelta(hours=5)
    services.touch_delete(touch=late, by=manager, now=T0 + timedelta(hours=9))
    assert facts(lead)[1] is None


def test_reaching_qualified_is_kept_after_a_move_back(users, sales_team):
    manager, rep = users["sales_manager"], users["sales_rep"]
    lead = services.lead_create(by=manager, team=sales_team, name="Budi", owner=rep, now=T0)
    services.lead_status_change(lead=lead, by=rep, status="qualified", now=T0 + timedelta(days=1))
    assert facts(lead)[2] is True
    services.lead_status_change(lead=lead, by=manager, status="working", now=T0 + timedelta(days=2))
    assert facts(lead)[2] is True
    never = services.lead_create(by=manager, team=sales_team, name="Rina", owner=rep, now=T0)
    services.lead_status_change(lead=never, by=rep, status="lost", now=T0 + timedelta(days=1))
    assert facts(never)[2] is False


def test_an_import_with_owners_records_the_first_assignment(users, sales_team):
    from tests.leads.test_import_export import run

    report = run(
        users, sales_team, f"name,email,owner\nAni,ani@contoh.co.id,{users['sales_rep'].username}\n", by="sales_manager"
    )
    assert report.created == 1
    lead = Lead.objects.get()
    assert lead.first_assigned_at is not None and lead.first_assigned_at == lead.assigned_at


def test_a_backfill_gives_what_the_services_kept(users, sales_team):
    manager, rep, other = users["sales_manager"], users["sales_rep"], users["other_rep"]
    for i in range(6):
        lead = services.lead_create(by=manager, team=sales_team, name=f"Lead {i}", now=T0)
        if i % 3:
            services.lead_assign(lead=lead, owner=rep, by=manager, now=T0 + timedelta(hours=i))
        if i % 2:
            services.touch_log(lead=lead, by=manager, kind="call", now=T0 + timedelta(hours=3))
        if i == 4:
            services.lead_assign(lead=lead, owner=other, by=manager, now=T0 + timedelta(hours=8))
            services.lead_status_change(lead=lead, by=other, status="won", now=T0 + timedelta(hours=9))
    kept = sorted(Lead.objects.values_list("pk", "first_assigned_at", "first_response_at", "reached_qualified"))
    Lead.objects.update(first_assigned_at=None, first_response_at=None, reached_qualified=False)
    assert lead_facts_backfill() == 6
    assert sorted(Lead.objects.values_list("pk", "first_assigned_at", "first_response_at", "reached_qualified")) == kept
    assert {row[1] is not None for row in kept} == {True, False} and any(row[2] for row in kept)
    assert any(row[3] for row in kept)
