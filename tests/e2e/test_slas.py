"""A sales manager sets an SLA in the browser and, after the sweep, sees the breach."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads import services as leads
from slas.models import Breach, Sla
from slas.services import sla_sweep
from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_manager_creates_a_response_sla_and_sees_a_breach_after_the_sweep(page, login, users, sales_team):
    login("sales.manager")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="SLAs", exact=True).click()
    page.get_by_role("link", name="New Response SLA").click()
    page.get_by_label("Name").fill("Call back within 2 hours")
    page.get_by_label("Target").fill("2")
    page.get_by_label("Unit").select_option("hours")
    page.get_by_role("button", name="Save SLA").click()
    page.get_by_text("is in force from now on").wait_for()
    sla = Sla.objects.get()
    assert (sla.kind, sla.target_value, sla.target_unit, sla.team) == ("response", 2, "hours", sales_team)

    assigned = timezone.now() + timedelta(seconds=1)
    lead = LeadFactory(team=sales_team, name="Siti Rahma", created_at=assigned)
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=assigned)
    assert sla_sweep(now=assigned + timedelta(hours=2, minutes=1)).response == 1

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Breaches", exact=True).click()
    row = page.get_by_role("row").filter(has_text="Siti Rahma")
    expect(row.get_by_text("Call back within 2 hours")).to_be_visible()
    expect(row.get_by_text("Open")).to_be_visible()
    row.get_by_text("Act…").click()
    row.get_by_label("Note").fill("Rep was at a client meeting")
    row.get_by_role("button", name="Acknowledge").click()
    page.get_by_text("Breach acknowledged.").wait_for()
    assert Breach.objects.get().note == "Rep was at a client meeting"
