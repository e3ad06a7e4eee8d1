"""Dashboard per role, KPI page, scorecards and insights pages: content, permissions, query counts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kpis import insights, services
from kpis.models import Kpi, Target
from kpis.scorecards import scorecards_compute
from leads import services as leads
from leads.models import Lead
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db
JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 8, 20, 10, tzinfo=JAKARTA)


def closed_leads(users, sales_team, n: int) -> None:
    """n leads, alternately won after 2 follow-ups (answered within an hour) and lost after 1 (a day later)."""
    rep = users["sales_rep"]
    for i in range(n):
        created = datetime(2026, 8, 1 + i % 10, 9, tzinfo=JAKARTA)
        lead = LeadFactory(team=sales_team, created_at=created, source="web" if i % 2 else "ads", value=None)
        leads.lead_assign(lead=lead, owner=rep, by=users["sales_manager"], now=created)
        wait = created.replace(minute=30) if i % 2 else created.replace(day=created.day + 1)
        for k in range(2 if i % 2 else 1):
            leads.touch_log(lead=lead, by=rep, kind="call", now=wait.replace(hour=wait.hour + k))
        leads.lead_status_change(
            lead=lead,
            by=rep,
            status="won" if i % 2 else "lost",
            value=Decimal(1000) if i % 2 else None,
            now=wait.replace(hour=wait.hour + 3),
        )


def test_insights_by_touches_and_by_speed(users, sales_team):
    closed_leads(users, sales_team, 6)
    closed = Lead.objects.all()
    by_touches = {row["bucket"]: row for row in insights.win_rate_by_touches(closed)}
    assert (by_touches["1"]["closed"], by_touches["1"]["won_rate"]) == (3, 0.0)
    assert (by_touches["2"]["closed"], by_touches["2"]["won_rate"]) == (3, 1.0)
    by_speed = {row["bucket"]: row for row in insights.win_rate_by_response_speed(closed)}
    assert (by_speed["under_1h"]["won"], by_speed["1_3d"]["won"]) == (3, 0)
    quality = {row["key"]: row for row in insights.quality_by(closed, "source")}
    assert quality["web"]["won_rate"] == 1.0 and quality["ads"]["won_rate"] == 0.0


def test_insights_put_the_wait_for_a_rep_beside_the_reps_own_wait(users, sales_team, client):
    rep, manager = users["sales_rep"], users["sales_manager"]
    created = datetime(2026, 8, 3, 9, tzinfo=JAKARTA)
    # ads: 4 h to reach a rep, then 1 h to the first call; web: at once, then 6 h; one never assigned.
    for source, to_rep, to_call in (("ads", 4, 1), ("ads", 4, 1), ("web", 0, 6)):
        lead = LeadFactory(team=sales_team, created_at=created, source=source)
        assigned = created.replace(hour=9 + to_rep)
        leads.lead_assign(lead=lead, owner=rep, by=manager, now=assigned)
        leads.touch_log(lead=lead, by=rep, kind="call", now=assigned.replace(hour=assigned.hour + to_call))
    LeadFactory(team=sales_team, created_at=created, source="web")
    rows = {row["key"]: row for row in insights.delays_by_source(Lead.objects.all())}
    assert (rows["ads"]["routing_hours"], rows["ads"]["rep_hours"], rows["ads"]["assigned"]) == (4, 1, 2)
    assert (rows["web"]["routing_hours"], rows["web"]["rep_hours"], rows["web"]["leads"]) == (0, 6, 2)
    assert (rows["all"]["routing_hours"], rows["all"]["rep_hours"], rows["all"]["leads"]) == (4, 1, 4)
    assert list(rows) == ["ads", "web", "all"]
    client.force_login(manager)
    page = client.get("/insights/?start=2026-08-01&end=2026-08-31").content.decode()
    assert "Waiting for a rep (routing)" in page and 'data-chart="delays"' in page
    empty = client.get("/insights/?start=2026-07-01&end=2026-07-31").content.decode()
    assert "No lead was created in this period." in empty


@pytest.mark.parametrize(
    "role", ["admin", "sales_manager", "marketing_manager", "sales_rep", "marketer", "other_manager"]
)
def test_every_role_gets_a_dashboard(client, users, sales_team, role):
    closed_leads(users, sales_team, 4)
    kpi = Kpi.objects.create(name="Company revenue goal", metric="revenue_won")
    Target.objects.create(
        kpi=kpi,
        period="quarter",
        period_start=datetime(2026, 7, 1).date(),
        period_end=datetime(2026, 9, 30).date(),
        target=Decimal(10000),
    )
    scorecards_compute(now=NOW)
    client.force_login(users[role])
    with time_machine.travel(NOW, tick=False):
        page = client.get("/").content.decode()
    assert "Our shared goal" in page and "Company revenue goal" in page


def test_a_rep_sees_their_quota(client, users, sales_team):
    closed_leads(users, sales_team, 4)
    kpi = services.kpi_create(by=users["sales_manager"], name="Quota", metric="revenue_won", team=sales_team)
    services.target_create(
        by=users["sales_manager"],
        kpi=kpi,
        user=users["sales_rep"],
        period="quarter",
        period_start=datetime(2026, 7, 1).date(),
        target=Decimal(4000),
    )
    client.force_login(users["sales_rep"])
    with time_machine.travel(NOW, tick=False):
        page = client.get("/").content.decode()
    assert "Quota" in page and "IDR 2,000 of IDR 4,000" in page


def test_pages_open_for_every_role(client, users, sales_team):
    closed_leads(users, sales_team, 4)
    scorecards_compute(now=NOW)
    for role in ("admin", "sales_manager", "marketing_manager", "sales_rep", "marketer"):
        client.force_login(users[role])
        for path in ("/kpis/", "/scorecards/", "/insights/", "/insights/?start=2026-08-01&end=2026-08-31"):
            response = client.get(path)
            assert response.status_code == 200, (role, path)


def test_bad_insight_dates_show_an_error(client, users):
    client.force_login(users["sales_manager"])
    page = client.get("/insights/?start=2026-08-31&end=2026-08-01").content.decode()
    assert "The end comes after the start." in page


def test_only_managers_add_kpis_and_targets(client, users, sales_team):
    client.force_login(users["sales_rep"])
    assert client.post("/kpis/new/", {"name": "X", "metric": "leads_created"}).status_code == 403
    client.force_login(users["sales_manager"])
    client.post("/kpis/new/", {"name": "Leads", "metric": "leads_created", "team": sales_team.pk, "aggregation": "sum"})
    kpi = Kpi.objects.get()
    response = client.post(
        "/kpis/targets/new/",
        {"kpi": kpi.pk, "team": sales_team.pk, "period": "month", "period_start": "2026-08-01", "target": "40"},
        follow=True,
    )
    assert "Saved." in response.content.decode()
    bad = client.post(
        "/kpis/targets/new/",
        {"kpi": kpi.pk, "team": sales_team.pk, "period": "month", "period_start": "2026-08-05", "target": "40"},
        follow=True,
    )
    assert "starts on its first day" in bad.content.decode()
    assert Target.objects.count() == 1


def test_dashboard_and_scorecards_use_the_same_queries_at_any_size(client, users, sales_team):
    def count(path: str) -> int:
        with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    closed_leads(users, sales_team, 2)
    scorecards_compute(now=NOW)
    client.force_login(users["sales_manager"])
    small = {path: count(path) for path in ("/", "/scorecards/", "/insights/")}
    closed_leads(users, sales_team, 20)
    scorecards_compute(now=NOW)
    large = {path: count(path) for path in ("/", "/scorecards/", "/insights/")}
    assert small == large


def test_a_marketing_manager_imports_values_on_the_kpi_page(client, users, marketing_team):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kpis.models import Measurement

    kpi = services.kpi_create(by=users["marketing_manager"], name="Visitors", metric="manual", team=marketing_team)
    client.force_login(users["marketing_manager"])
    upload = SimpleUploadedFile("v.csv", b"date,value\n2026-08-03,1200\n", content_type="text/csv")
    response = client.post(
        "/kpis/values/import/", {"kpi": kpi.pk, "team": marketing_team.pk, "file": upload}, follow=True
    )
    assert "1 value imported." in response.content.decode()
    assert Measurement.objects.count() == 1
    client.force_login(users["marketer"])
    upload = SimpleUploadedFile("v.csv", b"date,value\n2026-08-04,1\n", content_type="text/csv")
    assert client.post("/kpis/values/import/", {"kpi": kpi.pk, "file": upload}).status_code == 403


def test_insights_count_only_the_leads_the_user_may_see(client, users, sales_team):
    closed_leads(users, sales_team, 4)  # all owned by rep1
    for role, expected in [("sales_rep", "4"), ("other_rep", "0"), ("other_manager", "0"), ("sales_manager", "4")]:
        client.force_login(users[role])
        with time_machine.travel(NOW, tick=False):
            response = client.get("/insights/?start=2026-08-01&end=2026-08-31")
        closed = sum(row["closed"] for row in response.context["by_touches"])
        assert str(closed) == expected, role


def test_the_shared_goal_shows_money_with_its_currency(client, users, sales_team):
    closed_leads(users, sales_team, 4)  # two won at IDR 1,000
    kpi = Kpi.objects.create(name="Company revenue goal", metric="revenue_won")
    Target.objects.create(
        kpi=kpi,
        period="quarter",
        period_start=NOW.date().replace(month=7, day=1),
        period_end=NOW.date().replace(month=9, day=30),
        target=Decimal(10000),
    )
    client.force_login(users["marketer"])
    with time_machine.travel(NOW, tick=False):
        page = client.get("/").content.decode()
    assert "IDR 2,000 of IDR 10,000 (20 %)" in page


def test_a_managers_open_breaches_say_which_name_is_the_lead_and_which_the_rep(client, users, sales_team):
    from slas import services as slas

    slas.sla_create(
        by=users["sales_manager"],
        team=sales_team,
        kind="response",
        name="Within 1 hour",
        target_value=1,
        target_unit="hours",
        now=datetime(2026, 8, 1, tzinfo=JAKARTA),
    )
    lead = LeadFactory(team=sales_team, name="Siti Rahma", created_at=datetime(2026, 8, 18, 9, tzinfo=JAKARTA))
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=lead.created_at)
    slas.sla_sweep(now=NOW)
    client.force_login(users["sales_manager"])
    with time_machine.travel(NOW, tick=False):
        page = client.get("/").content.decode()
    rep = users["sales_rep"].get_full_name()
    assert f'18/08/2026 10:00 · Within 1 hour · Lead: <a href="/leads/{lead.pk}/">Siti Rahma</a> · Rep: {rep}' in page
