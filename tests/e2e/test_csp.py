"""Under the Content-Security-Policy, in a real browser: charts draw, selects submit, confirmations
ask, progress bars fill, the API docs and the admin work, and the browser reports no violation.

Violations are reported by a `securitypolicyviolation` listener installed before any page
script runs, through a binding that outlives navigations; console errors and uncaught
exceptions count as failures too.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from teams.models import ClosedDate
from tests.security.test_csp import pages_with_everything

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation(event.violatedDirective + " blocked " + (event.blockedURI || "inline") +
    " in " + event.documentURI + " (" + (event.sample || "") + ")");
});
"""


@pytest.fixture
def world(users, sales_team, marketing_team) -> dict:
    return pages_with_everything(users, sales_team, marketing_team, now=timezone.now())


@pytest.fixture
def problems(page) -> list[str]:
    """Everything the browser complained about while the test ran; the test asserts it is empty."""
    found: list[str] = []
    page.expose_function("reportViolation", lambda text: found.append(f"CSP: {text}"))
    page.add_init_script(REPORT_VIOLATIONS)
    page.on("console", lambda message: complain_of(message, found))
    page.on("pageerror", lambda error: found.append(f"exception: {error}"))
    # A request the browser abandons because the page moved on (a favicon) is no failure.
    page.on(
        "requestfailed",
        lambda request: request.failure != "net::ERR_ABORTED" and found.append(f"failed: {request.url}"),
    )
    page.on("response", lambda response: response.status >= 400 and found.append(f"{response.status}: {response.url}"))
    return found


def complain_of(message, found: list[str]) -> None:
    # The admin has no favicon, so the browser's own guess at /favicon.ico is a 404.
    if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
        found.append(f"console: {message.text}")


def make_staff(user) -> None:
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])


def chart(page, canvas_id: str) -> dict | None:
    """The Chart.js instance on a canvas, as plain data (None when nothing was drawn)."""
    return page.evaluate(
        """(id) => {
            const instance = Chart.getChart(document.getElementById(id));
            if (!instance) return null;
            return {
                labels: instance.data.labels,
                datasets: instance.data.datasets.map((d) => ({ label: d.label, data: d.data, type: d.type || null })),
                drawn: instance.chartArea.width > 0 && instance.chartArea.height > 0,
            };
        }""",
        canvas_id,
    )


def test_the_sla_chart_draws_under_the_policy(page, login, world, problems, tmp_path):
    login("sales.manager")
    page.goto(f"/slas/{world['sla'].pk}/")
    drawn = chart(page, "compliance-chart")
    assert drawn is not None and drawn["drawn"]
    assert [d["label"] for d in drawn["datasets"]] == ["Compliance, percent", "Met", "Breached"]
    assert [d["type"] for d in drawn["datasets"]] == ["line", None, None]
    assert sum(drawn["datasets"][2]["data"]) == 1  # the one breach of the fixture
    page.screenshot(path=str(tmp_path / "sla-detail.png"), full_page=True)
    assert problems == []


def test_the_volume_sla_page_fills_its_progress_bar(page, login, world, problems):
    login("marketing.manager")
    page.goto(f"/slas/{world['volume'].pk}/")
    bar = page.locator(".progress-bar[data-bar-width]").first
    width = bar.get_attribute("data-bar-width")
    assert float(bar.evaluate("(el) => el.style.width").removesuffix("%")) == float(width)
    assert problems == []


@pytest.fixture
def mid_month():
    """A Wednesday morning in the middle of a month: the fixture's won leads, 18 to 20 days
    old, fall in the month whose quota the scorecards show. The clock runs on from there."""
    with time_machine.travel(datetime(2026, 11, 25, 10, tzinfo=ZoneInfo("Asia/Jakarta")), tick=True):
        yield


def test_the_scorecard_trend_chart_and_quota_bars_draw_under_the_policy(
    mid_month, page, login, users, world, problems, tmp_path
):
    make_staff(users["admin"])  # sees both sides: a sales and a marketing series
    login("admin")
    page.goto("/scorecards/")
    drawn = chart(page, "trend-chart")
    assert drawn is not None and drawn["drawn"]
    labels = [d["label"] for d in drawn["datasets"]]
    assert "Sales Jakarta · leads" in labels and "Sales Jakarta · response SLA, percent" in labels
    assert "Marketing · accepted, percent" in labels
    bar = page.locator(".quota-cell .progress-bar").first
    width = bar.get_attribute("data-bar-width")
    assert float(width) > 0
    assert float(bar.evaluate("(el) => el.style.width").removesuffix("%")) == float(width)
    assert bar.evaluate("(el) => el.getBoundingClientRect().width") > 0
    page.screenshot(path=str(tmp_path / "scorecards.png"), full_page=True)
    assert problems == []


def test_the_insight_charts_draw_with_their_labels(page, login, world, problems):
    login("sales.manager")
    page.goto("/insights/")
    touches, speed = chart(page, "touches-chart"), chart(page, "speed-chart")
    assert touches["drawn"] and speed["drawn"]
    assert touches["labels"][:3] == ["0", "1", "2"]
    assert speed["labels"] == ["under 1 h", "1–4 h", "4–24 h", "1–3 days", "over 3 days", "never"]
    assert touches["datasets"][0]["label"] == "Win rate, percent"
    assert speed["datasets"][0]["data"][0] == pytest.approx(66.7)  # 2 of 3 won, first touch in 30 min
    assert problems == []


def test_the_language_select_still_submits_on_change(page, login, users, problems):
    login("rep1")
    with page.expect_navigation():
        page.get_by_label("Language").select_option("id")
    assert page.locator("html").get_attribute("lang") == "id"
    users["sales_rep"].refresh_from_db()
    assert users["sales_rep"].language == "id"
    assert problems == []


def test_the_scorecard_period_select_still_submits_on_change(page, login, world, problems):
    login("sales.manager")
    page.goto("/scorecards/")
    with page.expect_navigation():
        page.get_by_label("Period", exact=True).select_option("quarter")
    assert "period=quarter" in page.url
    assert problems == []


def test_a_confirmation_still_asks_and_cancelling_sends_nothing(page, login, world, sales_team, problems):
    login("sales.manager")
    page.goto(f"/teams/{sales_team.pk}/")
    asked: list[str] = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.get_by_role("button", name="Remove").click()
    page.wait_for_timeout(300)  # a submission, had there been one, would have started by now
    assert asked == ["Make this a working day again?"]
    assert ClosedDate.objects.filter(team=sales_team).count() == 1
    assert page.url.endswith(f"/teams/{sales_team.pk}/")

    page.remove_listener("dialog", dismiss)
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="Remove").click()
    assert not ClosedDate.objects.filter(team=sales_team).exists()
    assert problems == []


def test_content_swapped_in_by_htmx_gets_the_same_behaviour(page, login, world, problems):
    login("sales.manager")
    page.goto(f"/leads/{world['lead'].pk}/")
    page.evaluate(
        """() => htmx.swap("#flash-area",
            '<form id="swapped" method="post" action="/nowhere/" data-confirm="Really?"><button>Go</button></form>' +
            '<div class="progress"><div id="swapped-bar" class="progress-bar" data-bar-width="40"></div></div>',
            { swapStyle: "innerHTML" })"""
    )
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.locator("#swapped button").click()
    page.wait_for_timeout(300)
    assert asked == ["Really?"]
    assert page.url.endswith(f"/leads/{world['lead'].pk}/")
    assert page.locator("#swapped-bar").evaluate("(el) => el.style.width") == "40%"
    assert problems == []


def test_the_api_docs_work_under_the_policy(page, login, users, problems):
    login("rep1")
    page.goto("/api/v1/docs/")
    page.locator(".swagger-ui .info .title").filter(has_text="Selaras API").wait_for()
    assert page.locator(".opblock-tag").count() >= 5  # the schema loaded and its sections rendered
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"  # swagger_ui.css applied
    assert problems == []


def test_the_admin_works_under_the_policy(page, users, problems):
    make_staff(users["admin"])
    scripts: list[str] = []
    page.on("response", lambda response: response.url.endswith(".js") and scripts.append(response.url))
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("correct-horse-battery-9")
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    page.goto("/admin/teams/team/")
    assert page.locator("#result_list tbody tr").count() >= 3
    page.locator("#action-toggle").check()  # actions.js runs: every row gets selected
    assert page.locator("#result_list input.action-select:checked").count() >= 3
    assert any(url.endswith("/admin/js/actions.js") for url in scripts)
    assert problems == []
