"""A rep on a phone taps WhatsApp on a queue card: the follow-up is logged (a tap), WhatsApp
opens with a greeting, the response SLA turns met; a tapped call asks for its outcome."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads import services as leads
from leads.models import Touch
from slas.models import Clock
from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def phone_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 812}, is_mobile=True)
    # WhatsApp is outside: its page is answered here, so the test needs no network.
    context.route(
        "https://wa.me/**", lambda route: route.fulfill(status=200, body="WhatsApp", content_type="text/plain")
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("rep1")
    page.get_by_label("Password").fill("correct-horse-battery-9")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
    return context, page


def test_a_rep_taps_whatsapp_on_a_queue_card_and_the_response_sla_turns_met(
    browser, live_server, users, sales_team, response_sla
):
    now = timezone.now()
    lead = LeadFactory(
        team=sales_team, created_at=now - timedelta(minutes=5), name="Siti Rahma", phone="+6281211112222"
    )
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=now - timedelta(minutes=1))
    assert Clock.objects.get(lead=lead, kind="response").state == "running"
    context, page = phone_page(browser, live_server)
    page.goto("/leads/queue/")
    card = page.get_by_role("article").filter(has_text="Siti Rahma")
    expect(card.get_by_text("Not answered yet")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    with context.expect_page() as opened:
        card.get_by_role("button", name="WhatsApp: +62 812-1111-2222").click()
    whatsapp = opened.value
    whatsapp.wait_for_load_state()
    address = urlsplit(whatsapp.url)
    assert (address.netloc, address.path) == ("wa.me", "/6281211112222")
    assert parse_qs(address.query)["text"][0].startswith("Hello Siti Rahma, this is ")
    card = page.get_by_role("article").filter(has_text="Siti Rahma")
    card.get_by_text("WhatsApp message to Siti Rahma logged.").wait_for()
    expect(card.get_by_text("Follow-ups: 1")).to_be_visible()
    expect(card.get_by_role("button", name="Undo (for 5 minutes)")).to_be_visible()
    touch = Touch.objects.get(lead=lead)
    assert (touch.kind, touch.origin, touch.user_id) == ("message", "click", users["sales_rep"].pk)
    assert Clock.objects.get(lead=lead, kind="response").state == "met"
    page.goto(f"/leads/{lead.pk}/")
    expect(page.get_by_role("region", name="SLA").get_by_text("Met", exact=True)).to_be_visible()
    expect(page.locator("#lead-activity ol").get_by_text("Logged by a tap")).to_be_visible()
    context.close()


def test_a_tapped_call_asks_its_outcome_and_can_be_undone_by_keyboard(browser, live_server, users, sales_team):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], name="Andi Wijaya", phone="+6281233334444")
    context, page = phone_page(browser, live_server)
    # A headless browser has no dialler: the page's request to open one is noted instead.
    page.add_init_script(
        'window.addEventListener("selaras:open", (event) => { window.dialled = event.detail.url;'
        " event.stopImmediatePropagation(); }, true);"
    )
    page.goto(f"/leads/{lead.pk}/")
    call = page.get_by_role("button", name="Call: +62 812-3333-4444")
    call.focus()
    page.keyboard.press("Enter")
    activity = page.locator("#lead-activity")
    activity.get_by_text("Call to Andi Wijaya logged.").wait_for()
    assert page.evaluate("window.dialled") == "tel:+6281233334444"
    activity.get_by_role("button", name="No answer").click()
    activity.get_by_text("Call with Andi Wijaya: No answer.").wait_for()
    assert Touch.objects.get(lead=lead).outcome == "no_answer"
    activity.get_by_role("button", name="Undo (for 5 minutes)").click()
    activity.get_by_text("Undone").wait_for()
    assert not Touch.objects.filter(lead=lead).exists()
    context.close()
