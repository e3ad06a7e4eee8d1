"""Notifications are created where things happen, once per person, kind and object (SPEC §12)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads import services as leads
from notifications import services
from notifications.models import Notification
from slas.models import Breach, Clock
from slas.services import sla_sweep
from teams.models import Membership, Role
from tests.factories import LeadFactory, UserFactory
from tests.slas.conftest import jkt

pytestmark = pytest.mark.django_db


def told(**filters) -> list[tuple[str, str]]:
    rows = Notification.objects.filter(**filters).order_by("kind", "user__username")
    return list(rows.values_list("user__username", "kind"))


# -- a lead given to a rep ---------------------------------------------------------------------------
def test_a_rep_is_told_of_a_lead_a_manager_gives_them_and_not_of_one_they_claim(users, sales_team):
    given = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9))
    claimed = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9))
    leads.lead_assign(lead=given, owner=users["sales_rep"], by=users["sales_manager"], now=jkt(2026, 8, 5, 10))
    leads.lead_assign(lead=claimed, owner=users["sales_rep"], by=users["sales_rep"], now=jkt(2026, 8, 5, 10))
    assert told(lead=given) == [("rep1", "lead_assigned")]
    assert told(lead=claimed) == []
    assert Notification.objects.get(lead=given).created_at == jkt(2026, 8, 5, 10)


def test_a_lead_given_back_to_the_same_rep_tells_them_once(users, sales_team):
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9))
    for hour, owner in [(10, "sales_rep"), (11, "other_rep"), (12, "sales_rep")]:
        leads.lead_assign(lead=lead, owner=users[owner], by=users["sales_manager"], now=jkt(2026, 8, 5, hour))
    assert told(lead=lead) == [("rep1", "lead_assigned"), ("rep2", "lead_assigned")]


def test_a_bulk_assignment_tells_in_one_statement_whatever_its_size(users, sales_team, django_assert_max_num_queries):
    few = [LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9)) for _ in range(2)]
    many = [LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9)) for _ in range(40)]
    by = users["sales_manager"]
    with CaptureQueriesContext(connection) as small:
        leads.leads_assign_bulk(leads=few, owner=users["sales_rep"], by=by, now=jkt(2026, 8, 5, 10))
    with CaptureQueriesContext(connection) as large:
        leads.leads_assign_bulk(leads=many, owner=users["other_rep"], by=by, now=jkt(2026, 8, 5, 10))
    assert len(large.captured_queries) == len(small.captured_queries)
    assert Notification.objects.filter(kind="lead_assigned").count() == 42


# -- breaches ------------------------------------------------------------------------------------------
def breached_lead(users, sales_team, at):
    lead = LeadFactory(team=sales_team, created_at=at)
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=at)
    return lead


def test_a_breach_tells_its_rep_and_the_teams_active_managers_once(users, sales_team, response_sla):
    lead = breached_lead(users, sales_team, jkt(2026, 8, 5, 10))  # due 6 Aug 10:00
    former = UserFactory(username="former.manager", role=Role.SALES_MANAGER, team=sales_team)
    former.is_active = False
    former.save(update_fields=["is_active"])
    Notification.objects.all().delete()
    sla_sweep(now=jkt(2026, 8, 6, 9, 59))
    assert told() == [("rep1", "clock_at_risk")]  # not due yet: at risk
    sla_sweep(now=jkt(2026, 8, 6, 10))
    breach = Breach.objects.get(lead=lead)
    assert told(breach=breach) == [("rep1", "breach_owner"), ("sales.manager", "breach_team")]
    assert Notification.objects.filter(breach=breach).values("lead_id", "created_at").distinct().get() == {
        "lead_id": lead.pk,
        "created_at": jkt(2026, 8, 6, 10),
    }
    assert breach.notified_at == jkt(2026, 8, 6, 10)
    sla_sweep(now=jkt(2026, 8, 6, 10, 5))
    services.breaches_notify(now=jkt(2026, 8, 6, 10, 10))
    assert Notification.objects.count() == 3  # no manager of another team, no repeat


def test_a_breach_recorded_late_still_tells_but_an_old_one_only_goes_on_record(users, sales_team, response_sla):
    recent = breached_lead(users, sales_team, jkt(2026, 8, 5, 10))  # due 6 Aug
    old = breached_lead(users, sales_team, jkt(2026, 7, 20, 10))  # due 21 Jul
    Notification.objects.all().delete()
    sla_sweep(now=jkt(2026, 8, 7, 10))  # the workers were down for a day
    assert told(breach__lead=recent) == [("rep1", "breach_owner"), ("sales.manager", "breach_team")]
    assert told(breach__lead=old) == []
    assert not Breach.objects.filter(notified_at__isnull=True).exists()


def test_a_breach_left_untold_by_a_run_that_died_is_told_by_the_next(users, sales_team, response_sla):
    lead = breached_lead(users, sales_team, jkt(2026, 8, 5, 10))
    sla_sweep(now=jkt(2026, 8, 6, 10))
    Notification.objects.filter(breach__isnull=False).delete()
    Breach.objects.update(notified_at=None)  # as if the run died before telling anyone
    services.breaches_notify(now=jkt(2026, 8, 6, 10, 5))
    assert told(breach__lead=lead) == [("rep1", "breach_owner"), ("sales.manager", "breach_team")]


def test_an_assignment_breach_is_the_teams_and_tells_its_managers_only(users, sales_team, assignment_sla):
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9))
    from slas.services import clocks_start_unassigned

    clocks_start_unassigned(leads=[lead], now=jkt(2026, 8, 5, 9))
    sla_sweep(now=jkt(2026, 8, 5, 12))
    assert told(breach__lead=lead) == [("sales.manager", "breach_team")]


def test_a_volume_breach_tells_both_teams_managers(users, sales_team, volume_sla):
    Membership.objects.update(started_on=date(2026, 1, 1))  # two reps all through July
    sla_sweep(now=jkt(2026, 8, 1, 0, 30))  # July judged: no leads delivered
    breach = Breach.objects.get(kind="volume")
    assert told(breach=breach) == [("marketing.manager", "breach_team"), ("sales.manager", "breach_team")]


def test_the_notifiers_statements_do_not_grow_with_the_breaches(users, sales_team, response_sla):
    def count(n: int, day: int) -> int:
        for _ in range(n):
            breached_lead(users, sales_team, jkt(2026, 8, day, 10))
        sla_sweep(now=jkt(2026, 8, day + 1, 9))  # the clocks, not yet due
        with CaptureQueriesContext(connection) as queries:
            services.breaches_notify(now=jkt(2026, 8, day + 1, 9))
            sla_sweep(now=jkt(2026, 8, day + 1, 10))
        return len(queries)

    assert count(2, 4) == count(30, 5)
    assert Notification.objects.filter(kind="breach_owner").count() == 32


# -- a clock at risk -----------------------------------------------------------------------------------
def test_a_rep_is_told_once_when_a_clock_falls_at_risk(users, sales_team, response_sla):
    lead = breached_lead(users, sales_team, jkt(2026, 8, 5, 9))  # due 6 Aug 09:00, at risk from 5 Aug 15:00
    clock = Clock.objects.get(lead=lead)
    sla_sweep(now=clock.warn_at - timedelta(seconds=1))
    assert told(kind="clock_at_risk") == []
    sla_sweep(now=clock.warn_at)
    sla_sweep(now=clock.warn_at + timedelta(minutes=5))
    assert told(kind="clock_at_risk") == [("rep1", "clock_at_risk")]
    assert Notification.objects.get(kind="clock_at_risk").clock == clock


def test_a_clock_met_before_its_warning_tells_nobody(users, sales_team, response_sla):
    lead = breached_lead(users, sales_team, jkt(2026, 8, 5, 9))
    leads.touch_log(lead=lead, by=users["sales_rep"], kind="call", now=jkt(2026, 8, 5, 10))
    sla_sweep(now=jkt(2026, 8, 5, 16))
    assert told(kind="clock_at_risk") == []


# -- nobody to take a lead -----------------------------------------------------------------------------
def test_the_managers_hear_once_when_nobody_can_take_a_new_lead(users, sales_team):
    sales_team.auto_route = True
    sales_team.save(update_fields=["auto_route"])
    for rep in ("sales_rep", "other_rep"):
        users[rep].away = True
        users[rep].save(update_fields=["away"])
    lead = leads.lead_create(by=users["marketer"], team=sales_team, name="Budi", source="ads")
    assert lead.owner is None
    assert told(lead=lead) == [("sales.manager", "no_rep_available")]
