"""A rep's lead breaches; the manager's bell counts it without a reload, and the manager
follows it to the breach and acknowledges it (SPEC §12)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads import services as leads
from slas.models import Breach
from slas.services import sla_sweep
from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_managers_bell_counts_a_breach_without_a_reload_and_leads_to_it(
    page, login, users, sales_team, response_sla
):
    page.clock.install()  # the bell asks again once a minute: the test moves the browser's clock on
    login("sales.manager")
    page.goto("/leads/")
    bell = page.get_by_role("navigation", name="Main").get_by_role("link", name="Notifications")
    expect(bell).to_contain_text("0 unread")
    start = timezone.now() - timedelta(days=3)
    lead = LeadFactory(team=sales_team, created_at=start, name="Late Lead")
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=start)
    sla_sweep(now=timezone.now())
    page.clock.run_for("01:01")
    expect(bell).to_contain_text("1 unread")
    bell.click()
    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    page.get_by_role("button", name=f"“{response_sla.name}” was breached on “Late Lead”").click()
    row = page.get_by_role("row").filter(has_text="Late Lead")
    row.get_by_text("Act…").click()
    row.get_by_label("Note").fill("Rep was at a customer all day")
    row.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_text("Breach acknowledged.")).to_be_visible()
    assert Breach.objects.get(lead=lead).note == "Rep was at a customer all day"
    page.goto("/notifications/")
    expect(bell).to_contain_text("0 unread")
