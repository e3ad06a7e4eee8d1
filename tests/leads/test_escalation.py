"""Escalation (SPEC §12): a lead still unanswered `reassign_after` past its first follow-up's
deadline goes to another rep who can answer it, once, as routing would have decided then."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads import services as leads
from leads.models import Assignment, Lead
from leads.services.escalation import leads_escalate
from notifications.models import Notification
from routing.models import Decision
from slas import services as slas
from slas.models import Breach, Clock, Sla
from teams import services as teams
from tests.factories import LeadFactory
from tests.slas.conftest import ACTIVE_FROM, jkt

pytestmark = pytest.mark.django_db

# Friday 14 August 2026, 15:00 in Jakarta; Monday 17 August is Independence Day.
ASSIGNED = jkt(2026, 8, 14, 15)
DUE = jkt(2026, 8, 14, 17)  # + 2 business hours
REASSIGN = jkt(2026, 8, 18, 11)  # + 2 business hours more: over the weekend and the holiday


@pytest.fixture
def sla(users, sales_team) -> Sla:
    return slas.sla_create(
        by=users["sales_manager"],
        team=sales_team,
        kind="response",
        name="Call back within 2 business hours",
        target_value=2,
        target_unit="business_hours",
        reassign_after=2,
        reassign_after_unit="business_hours",
        now=ACTIVE_FROM,
    )


def late_lead(users, sales_team, name="Siti Rahma"):
    lead = LeadFactory(team=sales_team, name=name, created_at=ASSIGNED - timedelta(hours=1))
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=ASSIGNED)
    return lead


def sweep(at):
    slas.sla_sweep(now=at)
    return leads_escalate(now=at)


def test_the_lead_moves_to_another_rep_exactly_at_the_deadline_plus_reassign_after(client, users, sales_team, sla):
    lead = late_lead(users, sales_team)
    clock = Clock.objects.get(lead=lead)
    assert (clock.due_at, clock.reassign_at) == (DUE, REASSIGN)
    assert sweep(REASSIGN - timedelta(seconds=1)) == 0
    lead.refresh_from_db()
    assert lead.owner == users["sales_rep"]
    assert sweep(REASSIGN) == 1
    lead.refresh_from_db()
    assert (lead.owner, lead.assigned_at) == (users["other_rep"], REASSIGN)
    decision = Decision.objects.get(lead=lead)
    assert (decision.trigger, decision.step, decision.owner) == ("escalation", "default", users["other_rep"])
    assert decision.skipped == [{"user": users["sales_rep"].pk, "reason": "excluded"}]
    # The old breach stays on the old owner; the new owner's clock starts at the escalation.
    assert Breach.objects.get(lead=lead).responsible_user == users["sales_rep"]
    new = Clock.objects.get(lead=lead, owner=users["other_rep"])
    assert (new.started_at, new.state) == (REASSIGN, "running")
    client.force_login(users["sales_manager"])
    timeline = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "Escalation" in timeline and f"Passed over: {users['sales_rep']} (excluded)" in timeline
    told = set(Notification.objects.filter(lead=lead).values_list("user__username", "kind"))
    assert {("rep1", "lead_rerouted"), ("sales.manager", "lead_rerouted"), ("rep2", "lead_assigned")} <= told


def test_it_happens_once_however_often_the_sweep_runs(users, sales_team, sla):
    lead = late_lead(users, sales_team)
    for minutes in (0, 0, 5, 60):  # before the new owner's own clock could escalate in turn
        sweep(REASSIGN + timedelta(minutes=minutes))
    assert Decision.objects.filter(lead=lead).count() == 1
    assert Assignment.objects.filter(lead=lead).count() == 2


def test_a_late_sweep_gives_it_to_whom_routing_would_have_chosen_then(users, sales_team, sla):
    lead = late_lead(users, sales_team)
    other = users["other_rep"]
    teams.time_off_add(by=other, user=other, start=REASSIGN + timedelta(minutes=30), end=REASSIGN + timedelta(days=1))
    assert sweep(REASSIGN + timedelta(hours=1)) == 1  # the workers were down for an hour
    lead.refresh_from_db()
    assert (lead.owner, lead.assigned_at) == (other, REASSIGN)  # at 11:00 rep2 was in


def test_a_lead_answered_before_then_or_closed_stays(users, sales_team, sla):
    answered, closed = late_lead(users, sales_team, "Answered"), late_lead(users, sales_team, "Closed")
    leads.touch_log(lead=answered, by=users["sales_rep"], kind="call", now=REASSIGN - timedelta(minutes=1))
    leads.lead_reject(lead=closed, by=users["sales_rep"], reason="spam", now=DUE + timedelta(minutes=1))
    assert sweep(REASSIGN) == 0
    assert not Decision.objects.exists()
    assert set(Clock.objects.filter(reassign_at__isnull=False).values_list("escalated_at", flat=True)) == {REASSIGN}


def test_with_nobody_else_to_take_it_the_lead_stays_and_the_managers_hear_once(users, sales_team, sla):
    lead = late_lead(users, sales_team)
    teams.user_away_set(user=users["other_rep"], by=users["other_rep"], away=True)
    assert sweep(REASSIGN) == 0
    sweep(REASSIGN + timedelta(minutes=5))
    lead.refresh_from_db()
    assert lead.owner == users["sales_rep"]
    decision = Decision.objects.get(lead=lead)
    assert (decision.step, decision.owner) == ("none", None)
    assert {tuple(skip.values()) for skip in decision.skipped} == {
        (users["sales_rep"].pk, "excluded"),
        (users["other_rep"].pk, "away"),
    }
    assert list(Notification.objects.filter(kind="no_rep_available").values_list("user__username", "lead")) == [
        ("sales.manager", lead.pk)
    ]


def test_escalating_many_leads_costs_the_same_statements_as_two(users, sales_team, sla):
    def count(n: int, day: int) -> int:
        at = jkt(2026, 9, day, 9)
        for _ in range(n):
            lead = LeadFactory(team=sales_team, created_at=at - timedelta(hours=1))
            leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=at)
        due = Clock.objects.filter(started_at=at).values_list("reassign_at", flat=True).first()
        slas.sla_sweep(now=due)
        with CaptureQueriesContext(connection) as queries:
            assert leads_escalate(now=due) == n
        for lead in Lead.objects.filter(owner=users["other_rep"]):  # the new owner answers
            leads.touch_log(lead=lead, by=users["other_rep"], kind="call", now=due + timedelta(minutes=5))
        return len(queries)

    assert count(2, 1) == count(12, 2)


# -- the terms --------------------------------------------------------------------------------------
def test_the_managers_are_not_told_of_breaches_of_an_sla_that_does_not_escalate(users, sales_team, sla):
    slas.sla_update(sla=sla, by=users["sales_manager"], escalate_to_managers=False)
    lead = late_lead(users, sales_team)
    slas.sla_sweep(now=DUE)
    kinds = set(Notification.objects.filter(breach__lead=lead).values_list("user__username", "kind"))
    assert kinds == {("rep1", "breach_owner")}


def test_reassign_after_needs_its_unit_and_belongs_to_response_slas(users, sales_team):
    manager = users["sales_manager"]
    with pytest.raises(ValidationError) as error:
        slas.sla_create(
            by=manager, team=sales_team, kind="response", name="Half", target_value=1, target_unit="hours",
            reassign_after=3,
        )  # fmt: skip
    assert "reassign_after" in error.value.message_dict
    cadence = slas.sla_create(
        by=manager, team=sales_team, kind="cadence", name="Five", reassign_after=3, reassign_after_unit="hours"
    )
    assert (cadence.reassign_after, cadence.reassign_after_unit) == (None, "")


def test_the_api_and_the_form_take_the_escalation_terms(api_as, client, users, sales_team):
    api = api_as(users["sales_manager"])
    body = {
        "name": "Call back in an hour",
        "kind": "response",
        "team": sales_team.pk,
        "target_value": 1,
        "target_unit": "hours",
        "reassign_after": 30,
        "reassign_after_unit": "minutes",
        "escalate_to_managers": False,
    }
    response = api.post("/api/v1/slas/", body, format="json")
    assert response.status_code == 201, response.json()
    assert {key: response.json()[key] for key in ("reassign_after", "reassign_after_unit", "escalate_to_managers")} == {
        "reassign_after": 30,
        "reassign_after_unit": "minutes",
        "escalate_to_managers": False,
    }
    bad = api.post("/api/v1/slas/", {**body, "name": "Bad", "reassign_after_unit": "fortnights"}, format="json")
    assert bad.status_code == 400 and "reassign_after_unit" in bad.json()
    assert api.post("/api/v1/slas/", {**body, "name": "Bad", "reassign_after": 0}, format="json").status_code == 400
    assert Sla.objects.filter(name="Bad").count() == 0
    client.force_login(users["sales_manager"])
    page = client.get("/slas/new/response/").content.decode()
    assert 'name="reassign_after"' in page and 'name="escalate_to_managers"' in page
    assert 'name="reassign_after"' not in client.get("/slas/new/cadence/").content.decode()
