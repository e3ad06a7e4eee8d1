"""Clocks: started by the leads services, deadlines from the business calendar, kept in step."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection

from leads import services as leads
from slas import services
from slas.models import Breach, Clock
from teams import services as teams_services
from tests.factories import LeadFactory
from tests.slas.conftest import jkt

pytestmark = pytest.mark.django_db


def extra_batches() -> int:
    """SQLite caps one statement at 999 parameters, so Django splits a big bulk write there (the
    leads' history rows; the clocks are written by INSERT … SELECT); PostgreSQL takes it in one
    statement."""
    return 0 if connection.vendor == "postgresql" else 1


def assign(lead, users, at, owner="sales_rep"):
    return leads.lead_assign(lead=lead, owner=users[owner], by=users["sales_manager"], now=at)


def test_assignment_starts_one_clock_per_active_sla_with_its_due_time(users, sales_team, response_sla, cadence_sla):
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 14, 15))
    assignment = assign(lead, users, jkt(2026, 8, 14, 16))  # Friday 16:00; Monday 17 Aug is a holiday
    clocks = {clock.kind: clock for clock in Clock.objects.filter(lead=lead)}
    response, cadence = clocks["response"], clocks["cadence"]
    # Sales Jakarta works 09-17 with no break: 1 business day = 8 h → Tuesday 16:00.
    assert response.due_at == jkt(2026, 8, 18, 16)
    assert (response.assignment, response.owner, response.state) == (assignment, users["sales_rep"], "running")
    assert response.warn_at == jkt(2026, 8, 18, 14)  # 75 % of 8 business hours = 6 h: 1 h Friday, 5 h Tuesday
    assert (cadence.due_at, cadence.required) == (jkt(2026, 9, 13, 16), 5)


def test_an_assignment_at_night_counts_from_the_next_opening(users, sales_team, response_sla):
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 2))
    assign(lead, users, jkt(2026, 8, 5, 3))
    assert Clock.objects.get(lead=lead).due_at == jkt(2026, 8, 5, 17)


def test_closed_dates_and_breaks_of_the_team_count(users, sales_team, response_sla):
    teams_services.closed_date_add(team=sales_team, day=date(2026, 8, 6), name="Cuti bersama")
    teams_services.team_update(
        team=sales_team, break_start=jkt(2026, 1, 1, 12).time(), break_end=jkt(2026, 1, 1, 13).time()
    )
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9))
    assign(lead, users, jkt(2026, 8, 5, 15))
    # 2 h on Wednesday, Thursday closed, 5 h on Friday 09-12 + 13-15: 7 h = 1 business day.
    assert Clock.objects.get(lead=lead).due_at == jkt(2026, 8, 7, 15)


def test_sources_filter_and_inactive_slas_start_no_clock(users, sales_team, response_sla, cadence_sla):
    services.sla_update(sla=response_sla, by=users["sales_manager"], sources=["web"])
    services.sla_set_active(sla=cadence_sla, by=users["sales_manager"], active=False)
    ads = LeadFactory(team=sales_team, source="ads", created_at=jkt(2026, 8, 5, 9))
    web = LeadFactory(team=sales_team, source="web", created_at=jkt(2026, 8, 5, 9))
    assign(ads, users, jkt(2026, 8, 5, 10))
    assign(web, users, jkt(2026, 8, 5, 10))
    assert not Clock.objects.filter(lead=ads).exists()
    assert list(Clock.objects.filter(lead=web).values_list("kind", flat=True)) == ["response"]


def test_an_assignment_before_the_sla_existed_starts_no_clock(users, sales_team, response_sla):
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 6, 1, 9))
    assign(lead, users, jkt(2026, 6, 1, 10))
    assert not Clock.objects.exists()


def test_the_first_touch_meets_the_response_clock(users, sales_team, response_sla):
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9))
    assign(lead, users, jkt(2026, 8, 5, 10))
    leads.touch_log(lead=lead, by=users["sales_rep"], kind="call", now=jkt(2026, 8, 5, 11))
    clock = Clock.objects.get(lead=lead)
    assert (clock.state, clock.satisfied_at) == ("met", jkt(2026, 8, 5, 11))


def test_a_touch_exactly_at_the_deadline_still_meets_it(users, sales_team, response_sla):
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9))
    assign(lead, users, jkt(2026, 8, 5, 9))
    leads.touch_log(lead=lead, by=users["sales_rep"], kind="call", now=jkt(2026, 8, 5, 17))
    assert Clock.objects.get(lead=lead).state == "met"


def test_a_rejection_is_a_response(users, sales_team, response_sla, cadence_sla):
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9))
    assign(lead, users, jkt(2026, 8, 5, 10))
    leads.lead_reject(lead=lead, by=users["sales_rep"], reason="spam", now=jkt(2026, 8, 5, 12))
    states = dict(Clock.objects.filter(lead=lead).values_list("kind", "state"))
    assert states == {"response": "met", "cadence": "cancelled"}


def test_a_late_touch_does_not_meet_the_clock(users, sales_team, response_sla):
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9))
    assign(lead, users, jkt(2026, 8, 5, 9))
    leads.touch_log(lead=lead, by=users["sales_rep"], kind="call", now=jkt(2026, 8, 6, 9))
    assert Clock.objects.get(lead=lead).state == "running"  # the sweep records the breach


def test_reassignment_cancels_the_unfinished_clock_and_starts_a_new_one(users, sales_team, response_sla):
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9))
    first = assign(lead, users, jkt(2026, 8, 5, 9))
    second = assign(lead, users, jkt(2026, 8, 5, 12), owner="other_rep")
    old, new = Clock.objects.get(assignment=first), Clock.objects.get(assignment=second)
    assert (old.state, old.cancel_reason) == ("cancelled", "reassigned")
    assert (new.owner, new.state, new.due_at) == (users["other_rep"], "running", jkt(2026, 8, 6, 12))


def test_reassignment_after_the_deadline_leaves_the_breach_to_the_old_owner(users, sales_team, response_sla):
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9))
    first = assign(lead, users, jkt(2026, 8, 5, 9))
    assign(lead, users, jkt(2026, 8, 6, 12), owner="other_rep")
    assert Clock.objects.get(assignment=first).state == "running"
    services.sla_sweep(now=jkt(2026, 8, 6, 12))
    breach = Breach.objects.get()
    assert (breach.responsible_user, breach.due_at) == (users["sales_rep"], jkt(2026, 8, 5, 17))


def test_cadence_counts_touches_in_the_window_and_is_met_at_the_fifth(users, sales_team, cadence_sla):
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 3, 9))
    assign(lead, users, jkt(2026, 8, 3, 9))
    for day in range(5):
        leads.touch_log(lead=lead, by=users["sales_rep"], kind="call", now=jkt(2026, 8, 4 + day, 10))
    clock = Clock.objects.get(lead=lead)
    assert (clock.state, clock.satisfied_at) == ("met", jkt(2026, 8, 8, 10))


def test_cadence_is_cancelled_when_the_lead_closes_in_its_window_and_resumes_on_reopen(users, sales_team, cadence_sla):
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 3, 9))
    assign(lead, users, jkt(2026, 8, 3, 9))
    leads.lead_status_change(lead=lead, by=users["sales_rep"], status="lost", now=jkt(2026, 8, 10, 9))
    assert Clock.objects.get(lead=lead).state == "cancelled"
    leads.lead_status_change(lead=lead, by=users["sales_manager"], status="working", now=jkt(2026, 8, 11, 9))
    assert Clock.objects.get(lead=lead).state == "running"


def test_an_sla_edited_while_clocks_run_keeps_their_terms(users, sales_team, response_sla):
    early = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9))
    assign(early, users, jkt(2026, 8, 5, 9))
    services.sla_update(sla=response_sla, by=users["sales_manager"], target_value=2, target_unit="hours")
    late = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9))
    assign(late, users, jkt(2026, 8, 5, 10))
    old, new = Clock.objects.get(lead=early), Clock.objects.get(lead=late)
    assert (old.sla_version, old.due_at) == (1, jkt(2026, 8, 5, 17))
    assert (new.sla_version, new.due_at) == (2, jkt(2026, 8, 5, 12))
    assert response_sla.history.count() == 2
    assert response_sla.history.latest().history_user == users["sales_manager"]


def test_bulk_assignment_starts_clocks_in_a_constant_number_of_queries(
    users, sales_team, response_sla, cadence_sla, django_assert_max_num_queries
):
    few = [LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9)) for _ in range(3)]
    many = [LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9)) for _ in range(60)]
    with django_assert_max_num_queries(30) as small:
        leads.leads_assign_bulk(leads=few, owner=users["sales_rep"], by=users["sales_manager"], now=jkt(2026, 8, 5, 10))
    with django_assert_max_num_queries(30) as large:
        leads.leads_assign_bulk(
            leads=many, owner=users["sales_rep"], by=users["sales_manager"], now=jkt(2026, 8, 5, 10)
        )
    assert len(large.captured_queries) == len(small.captured_queries) + extra_batches()
    assert Clock.objects.count() == 126


def test_starting_twice_creates_no_second_clock(users, sales_team, response_sla):
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9))
    assignment = assign(lead, users, jkt(2026, 8, 5, 9))
    services.clocks_start(assignments=[assignment], now=jkt(2026, 8, 5, 9) + timedelta(minutes=1))
    assert Clock.objects.count() == 1
