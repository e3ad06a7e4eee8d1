"""A manager puts a rep on leave, creates a rule, and sees the next lead go around the absent
rep, with the reason on the lead's timeline (SPEC §11)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads.models import Lead
from routing.models import Rule

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_manager_puts_a_rep_on_leave_adds_a_rule_and_the_next_lead_goes_around_them(page, login, users, sales_team):
    dewi, eko = users["sales_rep"], users["other_rep"]
    login("sales.manager")

    # Eko is on leave today and tomorrow.
    page.goto("/teams/time-off/")
    page.get_by_label("Person").select_option(str(eko.pk))
    page.get_by_role("radio", name="Whole days").check()
    today = timezone.localdate()
    page.get_by_label("First day off").fill(today.isoformat())
    page.get_by_label("Last day off").fill((today + timedelta(days=1)).isoformat())
    page.get_by_label("Reason").fill("Cuti tahunan")
    page.get_by_role("button", name="Save time off").click()
    expect(page.get_by_text(f"Time off for {eko} saved.")).to_be_visible()
    expect(page.locator(".time-off-calendar td.off")).to_have_count(2)

    # A rule for ads leads, Eko and Dewi by weight; then routing switched on.
    page.goto("/routing/")
    expect(page.get_by_text("No rules yet")).to_be_visible()
    page.get_by_role("link", name="New rule").first.click()
    page.get_by_label("Name").fill("Ads leads")
    page.get_by_role("checkbox", name="Ads").check()
    page.get_by_role("radio", name="By weight").check()
    page.get_by_label(str(eko), exact=True).fill("3")
    page.get_by_label(str(dewi), exact=True).fill("1")
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_text("Rule “Ads leads” saved.")).to_be_visible()
    expect(page.get_by_text(f"{eko} (time off)")).to_be_visible()  # passed over now, says the page
    page.get_by_role("button", name="Switch on").click()
    expect(page.get_by_text("New leads of Sales Jakarta now go to a rep at once.")).to_be_visible()
    assert Rule.objects.get().members.count() == 2

    # "Where would a lead go now?" answers before any lead arrives.
    page.get_by_label("Source").select_option("ads")
    page.get_by_role("button", name="Try it").click()
    expect(page.get_by_role("status")).to_contain_text(f"It would go to {dewi}, by rule “Ads leads”.")

    # A new ads lead goes to Dewi, and its timeline says why.
    page.goto("/leads/new/")
    page.get_by_label("Name").fill("Rina Wati")
    page.get_by_label("Source").select_option("ads")
    page.get_by_label("Team").select_option(str(sales_team.pk))
    page.get_by_role("button", name="Save lead").click()
    expect(page.get_by_text(f"Routed to {dewi} by rule “Ads leads” (By weight)")).to_be_visible()
    expect(page.get_by_text(f"Passed over: {eko} (time off)")).to_be_visible()
    assert Lead.objects.get(name="Rina Wati").owner == dewi


def test_the_routing_page_on_a_phone(browser, live_server, users, sales_team):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 812})
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("sales.manager")
    page.get_by_label("Password").fill("correct-horse-battery-9")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
    page.goto("/routing/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways on a phone ({width}px)"
    expect(page.get_by_role("button", name="Try it")).to_be_visible()
    context.close()
