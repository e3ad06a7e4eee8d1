"""A rep on a phone opens the queue and logs a call in one tap."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leads.models import Touch
from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_rep_logs_a_call_from_the_queue_on_a_phone(browser, live_server, users, sales_team):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], name="Siti Rahma", phone="+62 812 1111 2222")
    LeadFactory(team=sales_team, owner=users["other_rep"], name="Not Mine")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 812}, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("rep1")
    page.get_by_label("Password").fill("correct-horse-battery-9")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
    page.goto("/leads/queue/")
    card = page.get_by_role("article").filter(has_text="Siti Rahma")
    expect(card.get_by_text("Not answered yet")).to_be_visible()
    assert page.get_by_text("Not Mine").count() == 0
    # Nothing overflows the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    card.get_by_role("button", name="Log Call").click()
    card = page.get_by_role("article").filter(has_text="Siti Rahma")
    card.get_by_text("Call logged for Siti Rahma.").wait_for()
    expect(card.get_by_text("Follow-ups: 1")).to_be_visible()
    touch = Touch.objects.get(lead=lead)
    assert (touch.kind, touch.user_id) == ("call", users["sales_rep"].pk)
    lead.refresh_from_db()
    assert lead.status == "working"
    context.close()


def test_a_manager_logs_a_meeting_with_notes_on_the_lead_page(page, login, users, sales_team):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], name="Andi Wijaya")
    login("sales.manager")
    page.goto(f"/leads/{lead.pk}/")
    page.get_by_text("With outcome, time or notes…").click()
    page.get_by_label("Meeting").check()
    page.get_by_label("Outcome").select_option("meeting_booked")
    page.get_by_label("Notes").fill("Demo next Tuesday")
    page.get_by_role("button", name="Log follow-up").click()
    page.get_by_text("Meeting logged for Andi Wijaya.").wait_for()
    timeline = page.locator("#lead-activity ol")
    expect(timeline.get_by_text("Demo next Tuesday")).to_be_visible()
    assert Touch.objects.get(lead=lead).outcome == "meeting_booked"
