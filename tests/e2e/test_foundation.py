"""A person logs in, walks the menu, switches to Bahasa Indonesia and manages a closed day."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from teams.models import ClosedDate

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_sales_manager_logs_in_and_opens_every_page_in_the_menu(page, login, users):
    login("sales.manager")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")
    for name in ["Leads", "SLAs", "Breaches", "KPIs", "Scorecards", "Dashboard"]:
        link = page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)
        with page.expect_navigation():  # the new page, not the one being left
            link.click()
        expect(page.locator("h1")).to_have_count(1)
        assert page.locator("h1").inner_text()


def test_a_wrong_password_shows_an_error_and_does_not_log_in(page, users):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("rep1")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text(re.compile("correct username and password"))).to_be_visible()
    page.goto("/leads/")
    assert "/accounts/login/" in page.url


def test_a_manager_closes_a_day_with_a_confirmation_to_reopen_it(page, login, users, sales_team):
    login("sales.manager")
    page.goto(f"/teams/{sales_team.pk}/")
    # The team page lists the days ahead: one three weeks from today, whatever today is.
    page.get_by_label("Date").fill((timezone.localdate() + timedelta(days=21)).isoformat())
    page.get_by_label("Name").fill("Cuti bersama")
    page.get_by_role("button", name="Close this day").click()
    expect(page.get_by_role("alert").filter(has_text="closed day")).to_be_visible()
    assert ClosedDate.objects.filter(team=sales_team, name="Cuti bersama").exists()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove").click()
    expect(page.get_by_role("alert").filter(has_text="working day again")).to_be_visible()
    assert not ClosedDate.objects.exists()


def test_switching_to_bahasa_indonesia_is_remembered(page, login, users):
    login("rep1")
    with page.expect_navigation():
        page.get_by_label("Language").select_option("id")
    assert page.locator("html").get_attribute("lang") == "id"
    expect(page.get_by_role("link", name="Prospek", exact=True)).to_be_visible()
    users["sales_rep"].refresh_from_db()
    assert users["sales_rep"].language == "id"
