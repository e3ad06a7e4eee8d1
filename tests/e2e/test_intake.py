"""A marketer makes a lead form, opens its public page in a fresh browser (no login) as a
visitor from an ad, sends it, and finds the lead routed and attributed (SPEC §13)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leads.models import Lead
from teams.services import team_update
from tests.e2e.test_accessibility import AUDIT
from tests.factories import CampaignFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_marketer_makes_a_form_and_a_visitor_becomes_a_routed_attributed_lead(
    browser, live_server, page, login, users, sales_team
):
    team_update(team=sales_team, auto_route=True)
    webinar = CampaignFactory(name="Webinar Oktober", utm_campaign="webinar-okt", team=users["marketer"].team)
    login(users["marketer"].username)
    page.goto("/intake/")
    expect(page.get_by_text("No form yet.")).to_be_visible()
    assert page.evaluate(AUDIT) == []
    page.get_by_role("link", name="New form").click()
    page.get_by_label("Name").fill("Minta demo")
    page.get_by_label("Sales team").select_option(str(sales_team.pk))
    page.get_by_label("Language of its page").select_option("en")
    page.get_by_label("Consent text").fill("You may call me about this request.")
    page.get_by_role("button", name="Add form").click()
    expect(page.get_by_text("Lead form “Minta demo” added")).to_be_visible()
    assert page.evaluate(AUDIT) == []
    url = page.get_by_label("Link", exact=True).input_value()
    assert '<form method="post"' in page.get_by_label("HTML snippet").input_value()

    # A visitor from the webinar's link, in a browser of their own, on a phone.
    visitor = browser.new_context(viewport={"width": 375, "height": 740})
    public = visitor.new_page()
    public.goto(f"{url}?utm_source=newsletter&utm_campaign=Webinar-Okt")
    assert public.evaluate("document.documentElement.scrollWidth") <= 375
    assert public.evaluate(AUDIT) == []
    public.get_by_label("Your name").fill("Rina Wati")
    public.get_by_label("E-mail").fill("rina@example.com")
    public.get_by_label("Phone or WhatsApp").fill("0812-3456-7890")
    public.get_by_role("button", name="Send").click()
    expect(public.get_by_text("Tick the box to agree before you send.")).to_be_visible()
    public.get_by_label("You may call me about this request.").check()
    public.get_by_role("button", name="Send").click()
    expect(public.get_by_role("heading", name="Thank you!")).to_be_visible()
    visitor.close()

    lead = Lead.objects.get(name="Rina Wati")
    assert (lead.arrived_via, lead.phone, lead.campaign, lead.attribution["utm_source"]) == (
        "form",
        "+6281234567890",
        webinar,
        "newsletter",
    )
    assert lead.owner is not None  # routed at once
    page.goto(f"/leads/{lead.pk}/")
    expect(page.get_by_text("utm_source: newsletter")).to_be_visible()
    expect(page.get_by_text(f"Routed to {lead.owner}")).to_be_visible()
    expect(page.get_by_text("Agreed to “You may call me about this request.”")).to_be_visible()
    page.goto("/intake/")
    expect(page.get_by_role("row", name="Minta demo")).to_contain_text("1")
