"""A sales manager previews a tighter response SLA against the last weeks, sees the chart,
and saves it (SPEC §15)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads import services as leads
from slas import services
from slas.models import Clock, Sla
from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_manager_previews_a_tighter_sla_sees_the_chart_and_saves_it(page, login, users, sales_team):
    started = timezone.now() - timedelta(weeks=6)
    sla = services.sla_create(
        by=users["sales_manager"],
        team=sales_team,
        kind="response",
        name="Answer within a day",
        target_value=1,
        target_unit="days",
        now=started,
    )
    for day in range(1, 29):  # four weeks of leads, each answered three hours after it arrived
        at = started + timedelta(days=day, hours=3)
        lead = LeadFactory(team=sales_team, name=f"PT Contoh {day}", created_at=at)
        leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=at)
        leads.touch_log(lead=lead, by=users["sales_rep"], kind="call", now=at + timedelta(hours=3))
    clocks = Clock.objects.count()

    login("sales.manager")
    page.goto(f"/slas/{sla.pk}/edit/")
    page.get_by_label("Target").fill("2")
    page.get_by_label("Unit").select_option("hours")
    page.get_by_role("button", name="Preview the last 13 weeks").click()
    preview = page.get_by_role("region", name="What these terms would have meant over the last 13 weeks")
    expect(preview).to_be_visible()
    expect(preview.get_by_role("img", name="Share of deadlines kept each week")).to_be_visible()
    expect(preview.get_by_text("28 breached")).to_be_visible()  # three hours is late for two
    expect(preview.get_by_text("As recorded now: 28 met, 0 breached")).to_be_visible()
    expect(preview.get_by_role("cell", name=str(users["sales_rep"]))).to_be_visible()
    assert page.locator("#preview-chart").evaluate("canvas => Chart.getChart(canvas) !== undefined")
    sla.refresh_from_db()
    assert (sla.target_value, sla.target_unit, Clock.objects.count()) == (1, "days", clocks)

    page.get_by_role("button", name="Save SLA").click()
    page.get_by_text("SLA saved.").wait_for()
    sla.refresh_from_db()
    assert (sla.target_value, sla.target_unit, sla.version) == (2, "hours", 2)
    assert Sla.objects.count() == 1
