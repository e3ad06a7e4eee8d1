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
