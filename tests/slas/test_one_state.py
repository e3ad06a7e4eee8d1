"""One state per clock, decided in one place (slas.selectors.deadline_state): the rep's queue,
the lead page, the lead list, the dashboard and the API say the same of the same clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from leads import services as leads
from slas import services
from slas.models import Clock
from slas.selectors import AT_RISK, BREACHED, PENDING, clock_state
from slas.services.clocks import cadence_warn_at
from tests.factories import LeadFactory
from tests.slas.conftest import jkt

pytestmark = pytest.mark.django_db

ASSIGNED = jkt(2026, 8, 3, 9)  # a Monday
THREE_WEEKS_LATER = ASSIGNED + timedelta(days=21, hours=1)


@pytest.fixture
def forgotten(users, sales_team, response_sla, cadence_sla):
    """A lead assigned three weeks ago and never followed up: its first follow-up breached,
    its cadence (5 in 30 days) behind the pace."""
    lead = LeadFactory(team=sales_team, created_at=ASSIGNED, name="Siti Rahma")
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=ASSIGNED)
    services.sla_sweep(now=THREE_WEEKS_LATER)
    return lead


def test_a_three_week_old_unanswered_lead_is_overdue_everywhere(client, api_as, users, forgotten):
    states = {clock.kind: clock_state(clock, now=THREE_WEEKS_LATER) for clock in Clock.objects.all()}
    assert states == {"response": BREACHED, "cadence": AT_RISK}
    # The danger badge, whatever else its class says (the list's badges wrap).
    loudest = 'text-bg-danger"><i class="bi bi-alarm" aria-hidden="true"></i> First follow-up overdue by'
    client.force_login(users["sales_rep"])
    with time_machine.travel(THREE_WEEKS_LATER, tick=False):
        queue = client.get("/leads/queue/").content.decode()
        dashboard = client.get("/").content.decode()
        lead_page = client.get(f"/leads/{forgotten.pk}/").content.decode()
        listed = client.get("/leads/").content.decode()
        api = api_as(users["sales_rep"]).get(f"/api/v1/leads/{forgotten.pk}/").json()
    assert loudest in queue and "Due in 8" not in queue
    assert loudest in dashboard
    assert loudest in listed
    assert "Breached" in lead_page and "At risk" in lead_page
    assert {item["kind"]: item["state"] for item in api["sla_status"]} == {"response": "breached", "cadence": "at_risk"}


def test_a_late_answer_quiets_the_first_follow_up_and_the_cadence_clock_speaks(client, users, forgotten):
    later = THREE_WEEKS_LATER + timedelta(minutes=5)
    leads.touch_log(lead=forgotten, by=users["sales_rep"], kind="call", now=later)
    client.force_login(users["sales_rep"])
    with time_machine.travel(later, tick=False):
        queue = client.get("/leads/queue/").content.decode()
    # One touch of five, 21 of 30 days gone: far behind the pace, and the window ends in 9 days.
    assert "Behind on follow-ups: 8 d 22 h left" in queue
    assert "First follow-up" not in queue


def test_the_cadence_pace_is_the_clock_s_warning_time(users, sales_team, cadence_sla):
    lead = LeadFactory(team=sales_team, created_at=ASSIGNED)
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=ASSIGNED)
    clock = Clock.objects.get(kind="cadence")
    # 5 in 30 days: the first touch is owed by day 6, the second by day 12 …
    assert clock.warn_at == ASSIGNED + timedelta(days=6)
    assert clock_state(clock, now=ASSIGNED + timedelta(days=6) - timedelta(seconds=1)) == PENDING
    assert clock_state(clock, now=ASSIGNED + timedelta(days=6)) == AT_RISK
    leads.touch_log(lead=lead, by=users["sales_rep"], kind="call", now=ASSIGNED + timedelta(days=7))
    clock.refresh_from_db()
    assert clock.warn_at == ASSIGNED + timedelta(days=12)
    assert clock_state(clock, now=ASSIGNED + timedelta(days=7)) == PENDING


@pytest.mark.parametrize("counted", range(6))
def test_the_warning_time_is_where_the_straight_line_pace_overtakes_the_touches(counted):
    started, due, required = ASSIGNED, ASSIGNED + timedelta(days=30), 5
    warn = cadence_warn_at(started, due, required, counted=counted)
    for minute in range(0, 30 * 24 * 60, 97):
        now = started + timedelta(minutes=minute)
        behind = counted < int(required * ((now - started) / (due - started)))
        assert behind == (now >= warn), (counted, now)
