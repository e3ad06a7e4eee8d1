"""The outbox (SPEC §12): each change writes its event for every active webhook that wants
it, in the change's own transaction, once however often the job that finds it runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from leads import services as leads
from leads.services.escalation import leads_escalate
from slas import services as slas
from slas.models import Breach, Clock
from tests.factories import LeadFactory
from tests.notifications.test_services import breached_lead
from tests.slas.conftest import ACTIVE_FROM, jkt
from webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db


def hook(*events: str, active: bool = True, name: str = "") -> Webhook:
    return Webhook.objects.create(name=name, url="https://hooks.example.com/x", events=list(events), active=active)


def written(**filters) -> list[tuple]:
    rows = WebhookDelivery.objects.filter(**filters).order_by("webhook_id", "event", "subject_id")
    return list(rows.values_list("webhook__name", "event", "subject_id", "lead_id"))


def test_a_new_lead_is_an_event_for_each_active_webhook_that_wants_it(users, sales_team):
    hook("lead.created", name="wants")
    hook("breach.recorded", name="other events")
    hook("lead.created", active=False, name="off")
    now = jkt(2026, 8, 5, 9)
    lead = leads.lead_create(by=users["sales_manager"], team=sales_team, name="Siti Rahma", now=now)
    assert written() == [("wants", "lead.created", lead.pk, lead.pk)]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.body) == ("pending", 0, "")
    assert (delivery.created_at, delivery.next_attempt_at, delivery.retry_until) == (
        now,
        now,
        now + timedelta(hours=24),
    )


def test_a_lead_created_with_an_owner_is_created_and_assigned(users, sales_team):
    hook("lead.created", "lead.assigned", name="all")
    lead = leads.lead_create(
        by=users["sales_manager"], team=sales_team, name="Siti", owner=users["sales_rep"], now=jkt(2026, 8, 5, 9)
    )
    assignment = lead.assignments.get()
    assert written() == [("all", "lead.assigned", assignment.pk, lead.pk), ("all", "lead.created", lead.pk, lead.pk)]


def test_a_change_rolled_back_leaves_no_event(users, sales_team):
    hook("lead.created")
    with pytest.raises(RuntimeError), transaction.atomic():
        leads.lead_create(by=users["sales_manager"], team=sales_team, name="Siti", now=jkt(2026, 8, 5, 9))
        raise RuntimeError("the request failed after the lead was saved")
    assert not WebhookDelivery.objects.exists()


def test_no_webhook_costs_one_small_statement(users, sales_team, django_assert_num_queries):
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9))
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=jkt(2026, 8, 5, 10))
    with django_assert_num_queries(1) as captured:
        from webhooks.outbox import webhook_events_record

        assert webhook_events_record(event="touch.logged", subjects=[(1, lead.pk)], now=jkt(2026, 8, 5, 10)) == 0
    assert "webhooks_webhook" in captured.captured_queries[0]["sql"]


def test_every_assignment_and_touch_is_an_event(users, sales_team):
    hook("lead.assigned", "touch.logged", name="all")
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9))
    by = users["sales_manager"]
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=by, now=jkt(2026, 8, 5, 10))
    leads.lead_assign(lead=lead, owner=users["other_rep"], by=by, now=jkt(2026, 8, 5, 11))
    touch = leads.touch_log(lead=lead, by=users["other_rep"], kind="call", now=jkt(2026, 8, 5, 12))
    first, second = lead.assignments.order_by("pk")
    assert written() == [
        ("all", "lead.assigned", first.pk, lead.pk),
        ("all", "lead.assigned", second.pk, lead.pk),
        ("all", "touch.logged", touch.pk, lead.pk),
    ]


def test_an_import_writes_a_created_event_per_lead(users, sales_team):
    from io import BytesIO

    hook("lead.created", "lead.assigned", name="all")
    rows = "name,email,owner\n" + "".join(f"Lead {j},lead{j}@example.com,rep1\n" for j in range(5))
    report = leads.leads_import(file=BytesIO(rows.encode()), team=sales_team, by=users["sales_manager"])
    assert report.created == 5
    assert WebhookDelivery.objects.filter(event="lead.created").count() == 5
    assert WebhookDelivery.objects.filter(event="lead.assigned").count() == 5


# -- what the sweep finds --------------------------------------------------------------------------
def test_a_breach_and_a_clock_at_risk_are_events_once_however_often_the_sweep_runs(users, sales_team, response_sla):
    hook("breach.recorded", "clock.at_risk", name="all")
    lead = breached_lead(users, sales_team, jkt(2026, 8, 5, 10))  # due 6 Aug 10:00
    clock = Clock.objects.get(lead=lead)
    for minute in (0, 1):
        slas.sla_sweep(now=jkt(2026, 8, 6, 9, 58 + minute))
    assert written() == [("all", "clock.at_risk", clock.pk, lead.pk)]
    for minute in (0, 5, 10):
        slas.sla_sweep(now=jkt(2026, 8, 6, 10, minute))
    slas.sla_sweep(now=jkt(2026, 8, 6, 10, 15), full=True)
    breach = Breach.objects.get(lead=lead)
    assert written(event="breach.recorded") == [("all", "breach.recorded", breach.pk, lead.pk)]
    assert WebhookDelivery.objects.get(event="breach.recorded").created_at == jkt(2026, 8, 6, 10)


def test_an_old_breach_recorded_by_a_backfill_is_no_event(users, sales_team, response_sla):
    hook("breach.recorded")
    breached_lead(users, sales_team, jkt(2026, 7, 20, 10))
    slas.sla_sweep(now=jkt(2026, 8, 7, 10))
    assert Breach.objects.count() == 1
    assert not WebhookDelivery.objects.exists()


def test_a_late_answer_resolving_a_breach_is_an_event(users, sales_team, response_sla):
    hook("breach.resolved", name="resolved")
    lead = breached_lead(users, sales_team, jkt(2026, 8, 5, 10))
    slas.sla_sweep(now=jkt(2026, 8, 6, 11))
    leads.touch_log(lead=lead, by=users["sales_rep"], kind="call", now=jkt(2026, 8, 6, 12))
    leads.touch_log(lead=lead, by=users["sales_rep"], kind="email", now=jkt(2026, 8, 6, 13))
    breach = Breach.objects.get(lead=lead)
    assert breach.resolved_at == jkt(2026, 8, 6, 12)
    assert written() == [("resolved", "breach.resolved", breach.pk, lead.pk)]


def test_an_assignment_breach_resolved_by_a_late_assignment_is_an_event(users, sales_team, assignment_sla):
    hook("breach.resolved", name="resolved")
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9))
    slas.clocks_start_unassigned(leads=[lead], now=jkt(2026, 8, 5, 9))
    slas.sla_sweep(now=jkt(2026, 8, 6, 9))
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=jkt(2026, 8, 6, 9, 30))
    breach = Breach.objects.get(lead=lead)
    assert written() == [("resolved", "breach.resolved", breach.pk, lead.pk)]


def test_a_lead_routed_again_by_escalation_is_an_event(users, sales_team):
    hook("lead.rerouted", name="rerouted")
    slas.sla_create(
        by=users["sales_manager"], team=sales_team, kind="response", name="Call back within 2 business hours",
        target_value=2, target_unit="business_hours", reassign_after=2, reassign_after_unit="business_hours",
        now=ACTIVE_FROM,
    )  # fmt: skip
    lead = breached_lead(users, sales_team, jkt(2026, 8, 14, 15))
    clock = Clock.objects.get(lead=lead)
    for _ in range(2):
        slas.sla_sweep(now=jkt(2026, 8, 18, 11))
        leads_escalate(now=jkt(2026, 8, 18, 11))
    assert written() == [("rerouted", "lead.rerouted", clock.pk, lead.pk)]
