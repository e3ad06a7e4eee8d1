"""Accessibility basics on the main pages: labels, headings, words beside colours, keyboard, contrast."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kpis.scorecards import scorecards_compute
from leads import services as leads
from slas.services import sla_sweep
from teams import tokens
from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AUDIT = """() => {
  const problems = [];
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  for (const field of document.querySelectorAll("input, select, textarea")) {
    if (["hidden", "submit", "button"].includes(field.type) || !visible(field)) continue;
    const named = (field.labels && field.labels.length)
      || field.getAttribute("aria-label") || field.getAttribute("aria-labelledby");
    if (!named) problems.push("unlabelled " + field.outerHTML.slice(0, 80));
  }
  const headings = [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")].filter(visible);
  if (headings.filter((h) => h.tagName === "H1").length !== 1) problems.push("not exactly one h1");
  let level = 0;
  for (const h of headings) {
    const next = Number(h.tagName[1]);
    if (next > level + 1) {
      problems.push("heading skips from h" + level + " to h" + next + ": " + h.textContent.trim().slice(0, 40));
    }
    level = next;
  }
  for (const badge of document.querySelectorAll(".badge")) {
    if (visible(badge) && !badge.textContent.trim()) problems.push("a badge says nothing: colour alone");
  }
  for (const button of document.querySelectorAll("button, a.btn")) {
    const words = button.textContent.trim() || button.getAttribute("aria-label");
    if (visible(button) && !words) problems.push("a button without words");
  }
  return problems;
}"""

PAGES = [
    "/",
    "/leads/",
    "/leads/queue/",
    "/leads/new/",
    "/leads/import/",
    "/slas/",
    "/slas/new/response/",
    "/breaches/",
    "/kpis/",
    "/scorecards/",
    "/insights/",
    "/accounts/notifications/",
    "/accounts/api-token/",
]


@pytest.fixture
def data(users, sales_team, response_sla):
    start = timezone.now() - timezone.timedelta(days=3)
    lead = LeadFactory(team=sales_team, created_at=start, name="Siti Rahma", owner=None)
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=start)
    sla_sweep(now=timezone.now())
    scorecards_compute(now=timezone.now())
    tokens.token_create(user=users["sales_rep"])  # the API access page in both states: rep1 has a token
    return lead


@pytest.mark.parametrize("username", ["sales.manager", "rep1"])
def test_main_pages_pass_the_basic_audit(page, login, data, username):
    login(username)
    for path in [*PAGES, f"/leads/{data.pk}/", "/slas/1/"]:
        page.goto(path)
        assert page.evaluate(AUDIT) == [], path


def test_the_login_page_passes_the_audit(page, users):
    page.goto("/accounts/login/")
    assert page.evaluate(AUDIT) == []


def test_logging_a_call_is_reachable_by_keyboard(page, login, data):
    login("rep1")
    page.goto(f"/leads/{data.pk}/")
    for _ in range(40):
        page.keyboard.press("Tab")
        if "Log Call" in (page.evaluate("document.activeElement.textContent") or ""):
            break
    else:
        pytest.fail("the Log Call button cannot be reached with Tab")
    page.keyboard.press("Enter")
    page.get_by_text("Call logged for Siti Rahma.").wait_for()


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    light, dark = sorted([_luminance(foreground), _luminance(background)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize(
    "foreground,background",
    [
        ("#0b5394", "#ffffff"),  # links and primary buttons' text on white
        ("#ffffff", "#0b5394"),  # white text on the primary colour (navbar, buttons)
        ("#212529", "#ffffff"),  # body text
        ("#6c757d", "#ffffff"),  # secondary text
        ("#ffffff", "#dc3545"),  # "Breached" / "Open" badges
        ("#000000", "#ffc107"),  # "At risk" badges
        ("#ffffff", "#198754"),  # "Met" / "Achieved" badges
    ],
)
def test_the_theme_has_sufficient_contrast(foreground, background):
    assert contrast(foreground, background) >= 4.5
