"""Content-Security-Policy: the header is strict, and no page needs more than it allows.

The policy runs only our own script files, so a page must hold no inline <script> (a
<script> without src is allowed only as json_script data), no on…= handler attribute and
no javascript: URL; styles are as strict, so no style attribute or <style> element either.
Every main page is rendered with enough data to show its charts, progress bars and
confirmation forms, and parsed with html.parser.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders
from django.utils import timezone

from intake.models import InboundHook, LeadForm
from kpis import services as kpis
from kpis.scorecards import scorecards_compute
from leads import services as leads
from slas import services as slas
from slas.models import Breach, Sla
from teams import services as teams
from tests.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db

DATA_SCRIPT_TYPES = {"application/json"}


class InlineCodeFinder(HTMLParser):
    """Collects every piece of markup the policy would block, as readable strings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.scripts: list[str] = []  # src of every external script, in order
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler")
            if name == "style":
                self.problems.append(f"<{tag} style=…> inline style")
            if value and value.strip().lower().replace("\t", "").replace("\n", "").startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value!r}> javascript: URL")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script":
            if values.get("src"):
                self.scripts.append(values["src"])
            elif (values.get("type") or "").lower() not in DATA_SCRIPT_TYPES:
                self.problems.append(f"inline <script {values}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def audit(html: str) -> InlineCodeFinder:
    finder = InlineCodeFinder()
    finder.feed(html)
    finder.close()
    return finder


def directives(header: str) -> dict[str, list[str]]:
    """'a x y; b z' -> {'a': ['x', 'y'], 'b': ['z']}."""
    parsed = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def pages_with_everything(users, sales_team, marketing_team, *, now: datetime) -> dict:
    """Data that makes every page show its most scripted parts: the SLA and trend charts,
    the insight charts, progress bars, and every form that asks for a confirmation."""
    manager, rep = users["sales_manager"], users["sales_rep"]
    start = now - timedelta(days=30)
    sla = slas.sla_create(
        by=manager,
        team=sales_team,
        kind="response",
        name="First touch within 1 business day",
        target_value=1,
        target_unit="business_days",
        now=start,
    )
    volume = slas.sla_create(
        by=users["marketing_manager"],
        team=sales_team,
        kind="volume",
        name="50 leads per rep per month",
        from_team=marketing_team,
        now=start,
    )
    campaign = CampaignFactory(team=marketing_team, start_date=start.date())
    # Never followed up: breached by the sweep, so the SLA page has a week to chart.
    lead = LeadFactory(team=sales_team, name="Siti Rahma", created_at=now - timedelta(days=10), campaign=campaign)
    leads.lead_assign(lead=lead, owner=rep, by=manager, now=now - timedelta(days=10))
    # Closed leads for the insight charts and the revenue against the quota.
    for i, status in enumerate(["won", "lost", "won"]):
        created = now - timedelta(days=20 - i)
        closed = LeadFactory(team=sales_team, created_at=created, source="web")
        leads.lead_assign(lead=closed, owner=rep, by=manager, now=created)
        touched = created + timedelta(minutes=30)
        leads.touch_log(lead=closed, by=rep, kind="call", occurred_at=touched, now=touched)
        leads.lead_status_change(
            lead=closed,
            by=rep,
            status=status,
            value=Decimal(1000) if status == "won" else None,
            now=created + timedelta(hours=2),
        )
    slas.sla_sweep(now=now)
    quota = kpis.kpi_create(by=manager, name="Quota", metric="revenue_won", team=sales_team)
    today = timezone.localdate(now)
    kpis.target_create(by=manager, kpi=quota, user=rep, period="month", period_start=today.replace(day=1), target=4000)
    goal = kpis.kpi_create(by=users["admin"], name="Company revenue goal", metric="revenue_won")
    kpis.target_create(by=users["admin"], kpi=goal, period="month", period_start=today.replace(day=1), target=9000)
    scorecards_compute(now=now)
    teams.closed_date_add(team=sales_team, day=today + timedelta(days=40), name="Cuti bersama")
    lead_form = LeadForm.objects.create(
        name="Ask for a demo", team=sales_team, fields=["email", "phone"], consent_text="You may call me."
    )
    hook = InboundHook.objects.create(name="Zapier", team=sales_team)
    # Two leads the rep rejected yesterday (SPEC §15): one Marketing may dispute, one disputed.
    rejected, disputed = (LeadFactory(team=sales_team, owner=rep, created_at=now - timedelta(days=2)) for _ in "ab")
    for each in (rejected, disputed):
        leads.lead_reject(lead=each, by=rep, reason="spam", note="A bot.", now=now - timedelta(days=1))
    leads.dispute_raise(lead=disputed, by=users["marketer"], note="A real buyer.", now=now - timedelta(hours=2))
    return {
        "sla": sla,
        "volume": volume,
        "lead": lead,
        "campaign": campaign,
        "breach": Breach.objects.get(),
        "lead_form": lead_form,
        "inbound_hook": hook,
        "rejected": rejected,
        "disputed": disputed,
    }


@pytest.fixture
def world(users, sales_team, marketing_team) -> dict:
    return pages_with_everything(users, sales_team, marketing_team, now=timezone.now())


# (who, path); paths with {…} are filled from the `world` fixture.
PAGES = [
    *[(role, "/") for role in ("admin", "sales_manager", "marketing_manager", "sales_rep", "marketer")],
    ("sales_manager", "/leads/"),
    ("sales_manager", "/leads/{lead}/"),
    ("sales_rep", "/leads/{lead}/"),
    ("sales_rep", "/leads/queue/"),
    ("sales_manager", "/leads/new/"),
    ("marketer", "/leads/{rejected}/"),
    ("sales_manager", "/leads/{disputed}/"),
    ("marketer", "/leads/rejections/"),
    ("marketer", "/leads/disputes/"),
    ("sales_manager", "/leads/disputes/"),
    ("marketing_manager", "/leads/campaigns/"),
    ("marketing_manager", "/leads/campaigns/{campaign}/"),
    ("marketing_manager", "/leads/import/"),
    ("sales_manager", "/slas/"),
    ("sales_manager", "/slas/{sla}/"),
    ("marketing_manager", "/slas/{volume}/"),
    ("sales_manager", "/slas/new/response/"),
    ("sales_manager", "/slas/{sla}/edit/"),
    ("sales_manager", "/breaches/"),
    ("sales_manager", "/scorecards/"),
    ("sales_rep", "/scorecards/"),
    ("sales_manager", "/insights/"),
    ("sales_manager", "/kpis/"),
    ("admin", "/teams/"),
    ("sales_manager", "/teams/{sales_team}/"),
    ("sales_rep", "/accounts/notifications/"),
    ("sales_rep", "/accounts/password_change/"),
    ("sales_rep", "/accounts/api-token/"),
    ("sales_rep", "/accounts/profile/"),
    ("admin", "/capture/mail/"),
    (None, "/accounts/login/"),
    (None, "/accounts/password_reset/"),
    ("sales_rep", "/api/v1/docs/"),
    ("marketer", "/intake/"),
    ("marketer", "/intake/forms/{lead_form}/"),
    ("marketer", "/intake/forms/new/"),
    ("marketer", "/intake/hooks/{inbound_hook}/"),
    (None, "/f/{form_key}/"),
    ("admin", "/admin/"),
    ("admin", "/admin/slas/breach/"),
    ("admin", "/admin/teams/team/{sales_team}/change/"),
    (None, "/admin/login/"),
]


def get_page(client, users, world, sales_team, who, path):
    if who is not None:
        user = users[who]
        if who == "admin":
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
        client.force_login(user)
    ids = {name: obj.pk for name, obj in world.items()} | {"sales_team": sales_team.pk}
    ids["form_key"] = world["lead_form"].key
    response = client.get(path.format(**ids))
    assert response.status_code == 200, (who, path, response.status_code)
    return response


# -- the finder itself ---------------------------------------------------------------------------
def test_the_finder_reports_every_kind_of_inline_code():
    found = audit(
        '<script>alert(1)</script><script type="module">x()</script><script type="text/javascript">y()</script>'
        '<a href=" JavaScript:alert(1)">x</a><form action="javascript:void(0)"></form>'
        '<button onclick="go()">b</button><img src=x onerror="go()"/><p style="color: red">s</p><style>p{}</style>'
    ).problems
    assert len(found) == 9, found
    assert sum("inline <script" in problem for problem in found) == 3
    assert sum("javascript: URL" in problem for problem in found) == 2
    assert sum("event handler" in problem for problem in found) == 2


def test_the_finder_allows_script_files_and_json_data():
    found = audit(
        '<script src="/static/js/selaras.js"></script><script id="d" type="application/json">{"a": 1}</script>'
        '<a href="/leads/?q=javascript">x</a><form data-confirm="Sure?"><select data-autosubmit></select></form>'
    )
    assert found.problems == []
    assert found.scripts == ["/static/js/selaras.js"]


# -- the header ----------------------------------------------------------------------------------
@pytest.mark.parametrize("who,path", [(None, "/accounts/login/"), ("sales_rep", "/"), ("sales_rep", "/api/v1/docs/")])
def test_pages_carry_a_strict_policy(client, users, who, path):
    if who:
        client.force_login(users[who])
    response = client.get(path)
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["font-src"] == ["'self'"] and policy["connect-src"] == ["'self'"]
    for directive in ("default-src", "script-src"):
        assert "'unsafe-inline'" not in policy[directive] and "'unsafe-eval'" not in policy[directive]
    assert not any(name.startswith("script-src-") for name in policy)  # no looser -elem/-attr override


def test_a_redirect_to_the_login_carries_the_policy_too(client):
    response = client.get("/leads/")
    assert response.status_code == 302
    assert "script-src 'self'" in response["Content-Security-Policy"]


# -- the pages -----------------------------------------------------------------------------------
@pytest.mark.parametrize("who,path", PAGES)
def test_no_page_holds_inline_code(client, users, world, sales_team, who, path):
    response = get_page(client, users, world, sales_team, who, path)
    found = audit(response.content.decode())
    assert found.problems == [], (who, path)
    assert found.scripts, (who, path)  # the page does run scripts, from files
    for src in found.scripts:
        if src.startswith("/static/"):
            assert finders.find(src.removeprefix("/static/")), src


def test_the_pages_use_the_data_attributes_instead(client, users, world, sales_team):
    """Guards the list above: the scripted parts really are on the audited pages."""

    def page(who, path):
        return get_page(client, users, world, sales_team, who, path).content.decode()

    sla_page = page("sales_manager", "/slas/{sla}/")
    assert 'data-chart="compliance"' in sla_page and 'id="compliance-data" type="application/json"' in sla_page
    assert 'data-confirm="Deactivate this SLA? No new clocks will start."' in sla_page
    assert "/static/js/charts.js" in sla_page
    scorecards = page("sales_manager", "/scorecards/")
    assert 'data-chart="trend"' in scorecards and 'id="trend-data"' in scorecards
    assert 'name="period" class="form-select form-select-sm" data-autosubmit' in scorecards
    assert "data-bar-width=" in page("sales_rep", "/scorecards/")
    insights = page("sales_manager", "/insights/")
    assert insights.count('data-chart="win-rate"') == 2 and 'data-label-under_1h="under 1 h' in insights
    assert 'data-confirm="Waive this breach?' in page("sales_manager", "/breaches/")
    assert 'data-confirm="Reject this lead and close it?"' in page("sales_rep", "/leads/{lead}/")
    assert 'data-confirm="Make this a working day again?"' in page("sales_manager", "/teams/{sales_team}/")
    assert 'id="language-select" name="language" class="form-select form-select-sm w-auto" data-autosubmit' in page(
        "sales_rep", "/"
    )
    assert page("marketing_manager", "/").count("data-bar-width=") >= 1
    assert "data-bar-width=" in page("marketing_manager", "/slas/{volume}/")
    # Capacity ahead (SPEC §15) on both managers' dashboards and beside the volume SLA.
    for who, path in (("sales_manager", "/"), ("marketing_manager", "/"), ("marketing_manager", "/slas/{volume}/")):
        html = page(who, path)
        assert 'data-chart="capacity"' in html and "/static/js/charts.js" in html, (who, path)


def test_htmx_may_not_eval_nor_inject_styles(client, users):
    client.force_login(users["sales_rep"])
    page = client.get("/").content.decode()
    assert """<meta name="htmx-config" content='{"allowEval": false, "includeIndicatorStyles": false}'>""" in page


# -- the API docs ---------------------------------------------------------------------------------
def test_the_api_docs_load_their_start_up_script_from_a_file(client, users):
    client.force_login(users["sales_rep"])
    page = client.get("/api/v1/docs/")
    found = audit(page.content.decode())
    assert found.problems == []
    init = [src for src in found.scripts if "script=" in src]
    assert init == ["/api/v1/docs/?script="]
    script = client.get(init[0])
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    body = script.content.decode()
    assert "SwaggerUIBundle(" in body and "/api/v1/schema/" in body
    assert 'rel="stylesheet" href="/static/css/swagger_ui.css"' in page.content.decode()


def test_the_api_docs_still_need_a_signed_in_user(client):
    assert client.get("/api/v1/docs/").status_code in (302, 401, 403)
    assert client.get("/api/v1/docs/?script=").status_code in (302, 401, 403)


# -- what the policy applies to ------------------------------------------------------------------
def test_the_policy_needs_nothing_but_same_origin_files():
    """No template may load a script, style or font from elsewhere: the policy would block it."""
    from pathlib import Path

    from django.conf import settings

    offenders = []
    for template in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        if "emails" in template.parts:
            continue
        text = template.read_text()
        for marker in ('src="http', "src='http", 'href="//', 'src="//'):
            if marker in text:
                offenders.append((template.name, marker))
        if 'rel="stylesheet" href="http' in text:
            offenders.append((template.name, "stylesheet"))
    assert offenders == []


def test_sla_detail_without_chart_data_loads_no_chart_script(client, users, sales_team):
    sla = slas.sla_create(
        by=users["sales_manager"], team=sales_team, kind="cadence", name="Cadence", now=timezone.now()
    )
    assert Sla.objects.filter(pk=sla.pk).exists()
    client.force_login(users["sales_manager"])
    page = client.get(f"/slas/{sla.pk}/").content.decode()
    assert "charts.js" not in page and "chart.umd" not in page
    assert audit(page).problems == []
