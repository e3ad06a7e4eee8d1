"""Every kind of user opens their dashboard in a real browser; a screenshot is taken of each."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kpis.scorecards import scorecards_compute
from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    "username,expected",
    [
        ("admin", "Teams this month"),
        ("sales.manager", "SLA compliance this week"),
        ("marketing.manager", "Leads delivered against the volume SLA"),
        ("rep1", "Next in your queue"),
        ("marketer1", "Accepted by Sales"),
    ],
)
def test_each_role_sees_its_dashboard(page, login, users, sales_team, username, expected, tmp_path):
    from django.utils import timezone

    LeadFactory(team=sales_team, owner=users["sales_rep"], name="Siti Rahma")
    scorecards_compute(now=timezone.now())
    login(username)
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")
    expect(page.get_by_text(expected).first).to_be_visible()
    path = tmp_path / f"dashboard-{username}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


def test_a_first_login_takes_the_tour_on_a_phone_by_keyboard_and_finishes_it(page, login, users):
    from teams.tour import STEPS
    from tests.e2e.test_accessibility import AUDIT

    steps = STEPS[users["sales_manager"].role]
    page.set_viewport_size({"width": 375, "height": 740})
    login("sales.manager")
    tour = page.get_by_role("region", name=str(steps[0].title))
    expect(tour).to_be_visible()
    expect(tour).to_contain_text(f"1 of {len(steps)}")
    assert page.evaluate(AUDIT) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    for number, step in enumerate(steps[1:], start=2):
        page.locator("#tour").get_by_role("link", name="Next").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#tour-heading")).to_have_text(str(step.title))
        expect(page.locator("#tour-heading")).to_be_focused()  # a screen reader reads the new step
        expect(page.locator("#tour")).to_contain_text(f"{number} of {len(steps)}")
        assert page.url.endswith("/")  # swapped in place, no page load
    expect(page.locator("#tour").get_by_role("link", name="Next")).to_have_count(0)
    page.locator("#tour").get_by_role("link", name=str(steps[-1].link)).click()
    expect(page.locator("#settling")).to_be_in_viewport()
    page.get_by_role("button", name="Finish the tour").click()
    expect(page.get_by_role("status")).to_contain_text("Tour finished")
    page.reload()
    expect(page.locator("#tour")).to_have_count(0)
    users["sales_manager"].refresh_from_db()
    assert users["sales_manager"].tour_done_at is not None
