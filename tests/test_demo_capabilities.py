"""`manage.py seed_demo` leaves every capability of the product in use, on whatever day it runs:
someone opening the demo finds each page with something on it, not an empty state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from intake.models import Channel, InboundEvent, InboundHook, LeadForm, WhatsAppNumber
from kpis.capacity import capacity_ahead
from kpis.economics import breach_cost
from leads.models import ArrivedVia, Dispute, Inquiry, Lead, Touch
from notifications.selectors import unread_count
from routing.models import Decision, Rule, Skip
from slas.models import Sla
from slas.services.preview import sla_preview
from teams.models import Team, TimeOff, User
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "today",
    [
        datetime(2026, 12, 27, 2, 0, tzinfo=UTC),  # a Sunday, days before the year's end and its closed days
        datetime(2027, 3, 29, 1, 0, tzinfo=UTC),  # a Monday morning in Jakarta, after Lebaran 2027
    ],
    ids=["year-end-sunday", "after-lebaran-monday"],
)
def test_seed_demo_puts_every_capability_in_use(today):
    with time_machine.travel(today, tick=True):
        _check_the_demo()


def _check_the_demo():
    call_command("seed_demo")
    now = timezone.now()
    jakarta = Team.objects.get(name="Sales Jakarta")
    manager, dewi, eko = (User.objects.get(username=name) for name in ("sales.manager", "rep1", "rep2"))

    # Hosted lead forms, with leads that came through them and the events they were posted as.
    assert LeadForm.objects.exists()
    assert Lead.objects.filter(arrived_via=ArrivedVia.FORM).exists()
    assert InboundEvent.objects.filter(channel=Channel.FORM, state=InboundEvent.State.DONE).exists()
    # An inbound hook, with a lead it brought.
    assert InboundHook.objects.exists()
    assert Lead.objects.filter(arrived_via=ArrivedVia.HOOK).exists()
    # WhatsApp: a number, a lead that wrote on it and an inquiry from someone known.
    assert WhatsAppNumber.objects.exists()
    assert Lead.objects.filter(arrived_via=ArrivedVia.WHATSAPP).exists()
    assert Inquiry.objects.filter(channel=Inquiry.Channel.WHATSAPP).exists()

    # Routing: a rule, a rep on leave now, and leads routed around him because of it.
    assert Rule.objects.filter(team=jakarta, active=True).exists()
    assert TimeOff.objects.filter(user=eko, start__lte=now, end__gt=now).exists()
    passed_over = [decision.skipped for decision in Decision.objects.filter(lead__team=jakarta)]
    assert any({"user": eko.pk, "reason": Skip.TIME_OFF} in skipped for skipped in passed_over)

    # Unread notifications in the bell of the sales manager and of a rep.
    assert unread_count(user=manager) > 0
    assert unread_count(user=dewi) > 0

    # An outbound webhook with deliveries, one of them delivered after a retry.
    delivered = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.DELIVERED)
    assert delivered.exists()
    assert delivered.filter(attempts__gt=1).exists()
    assert not WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.DELIVERED).exists()

    # Disputes of rejections: one waiting for a ruling, others ruled.
    states = set(Dispute.objects.values_list("state", flat=True))
    assert Dispute.State.OPEN in states
    assert states & {Dispute.State.UPHELD, Dispute.State.OVERTURNED}

    # The SLA preview has history in each of the weeks it looks back on.
    response = Sla.objects.get(team=jakarta, kind=Sla.Kind.RESPONSE)
    weeks = sla_preview(by=manager, now=now, sla=response).weeks
    assert weeks and all(week.clocks for week in weeks)

    # Breach cost is a figure, not "not enough data".
    cost = breach_cost(team=jakarta, now=now)
    assert cost.reason is None and cost.cost_per_breach is not None, cost

    # Capacity ahead: this month and the next two, one of them a crunch (Dewi's leave).
    months = capacity_ahead(team=jakarta, now=now)["months"]
    assert len(months) == 3 and all(month["expected_leads"] for month in months)
    assert any(month["warning"] for month in months)

    # Follow-ups captured by a tap and by e-mail, not only typed in.
    origins = set(Touch.objects.values_list("origin", flat=True))
    assert {Touch.Origin.CLICK, Touch.Origin.EMAIL} <= origins
