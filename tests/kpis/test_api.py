"""KPI endpoints: kpis/, kpi-targets/ with progress, kpi-measurements/, scorecards/."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kpis.models import Kpi, Scorecard, Target
from kpis.scorecards import scorecards_compute

pytestmark = pytest.mark.django_db


def test_a_manager_defines_a_kpi_and_a_quarterly_target_and_reads_its_progress(api_as, users, sales_team):
    client = api_as(users["sales_manager"])
    kpi = client.post("/api/v1/kpis/", {"name": "Quota", "metric": "revenue_won", "team": sales_team.pk}, format="json")
    assert kpi.status_code == 201, kpi.json()
    assert kpi.json()["unit"] == "currency"
    payload = {
        "kpi": kpi.json()["id"],
        "user": users["sales_rep"].pk,
        "period_start": "2026-07-01",
        "period_end": "2026-09-30",
        "target": "20000000",
    }
    target = client.post("/api/v1/kpi-targets/", payload, format="json")
    assert target.status_code == 201, target.json()
    assert target.json()["period"] == "quarter"
    with time_machine.travel(datetime(2026, 8, 15, tzinfo=ZoneInfo("Asia/Jakarta")), tick=False):
        progress = client.get(f"/api/v1/kpi-targets/{target.json()['id']}/progress/").json()
    assert set(progress) >= {"actual", "target", "attainment", "expected", "status"}
    assert progress["status"] == "off_track" and progress["attainment"] == 0.0


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"name": "X", "metric": "happiness"}, "metric"),
        ({"metric": "leads_created"}, "name"),
    ],
)
def test_bad_kpis_answer_400(api_as, users, payload, field):
    response = api_as(users["admin"]).post("/api/v1/kpis/", payload, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not Kpi.objects.exists()


def test_bad_targets_answer_400_and_write_nothing(api_as, users, sales_team):
    kpi = Kpi.objects.create(name="Leads", metric="leads_created")
    client = api_as(users["admin"])
    base = {"kpi": kpi.pk, "team": sales_team.pk, "target": "100"}
    for change, field in [
        ({"period_start": "2026-08-01", "period_end": "2026-07-01"}, "period_end"),
        ({"period_start": "2026-08-05", "period": "month"}, "period_start"),
        ({"period_start": "2026-08-01", "period_end": "2026-08-31", "target": "abc"}, "target"),
        ({"period_start": "2026-08-01", "period_end": "2026-08-31", "user": users["sales_rep"].pk}, "non_field_errors"),
    ]:
        response = client.post("/api/v1/kpi-targets/", {**base, **change}, format="json")
        assert response.status_code == 400 and field in response.json(), (change, response.json())
    assert not Target.objects.exists()


def test_kpi_permissions(api_as, users, sales_team, other_sales_team):
    attempts = [
        ("sales_rep", sales_team.pk),
        ("sales_manager", other_sales_team.pk),
        ("marketer", None),
    ]
    for role, team in attempts:
        payload = {"name": "X", "metric": "leads_created", "team": team}
        assert api_as(users[role]).post("/api/v1/kpis/", payload, format="json").status_code == 403, role
    assert not Kpi.objects.exists()


def test_manual_measurements(api_as, users, marketing_team):
    client = api_as(users["marketing_manager"])
    kpi = client.post(
        "/api/v1/kpis/", {"name": "Visitors", "metric": "manual", "team": marketing_team.pk}, format="json"
    )
    value = {"kpi": kpi.json()["id"], "team": marketing_team.pk, "date": "2026-08-03", "value": "1200"}
    response = client.post("/api/v1/kpi-measurements/", value, format="json")
    assert response.status_code == 201, response.json()
    assert client.get("/api/v1/kpi-measurements/").json()["count"] == 1


def test_scorecards_are_listed_by_team_and_period(api_as, users, sales_team, other_sales_team):
    scorecards_compute(now=datetime(2026, 9, 2, tzinfo=ZoneInfo("Asia/Jakarta")))
    client = api_as(users["sales_manager"])
    body = client.get(f"/api/v1/scorecards/?team={sales_team.pk}&period_start=2026-08-01").json()
    assert body["count"] == 1
    card = body["results"][0]
    assert set(card) == {"id", "team", "period", "period_start", "period_end", "computed_at", "metrics"}
    assert {"leads_received", "breaches", "response_sla_compliance", "revenue_won"} <= set(card["metrics"])
    # Another team's card is not found for a sales manager; marketing sees every card.
    other = Scorecard.objects.filter(team=other_sales_team).first()
    assert client.get(f"/api/v1/scorecards/{other.pk}/").status_code == 404
    assert api_as(users["marketer"]).get(f"/api/v1/scorecards/{other.pk}/").status_code == 200


def test_patching_only_a_targets_value_keeps_its_period(api_as, users, sales_team):
    from datetime import date
    from decimal import Decimal

    from kpis import services

    kpi = services.kpi_create(by=users["admin"], name="Leads", metric="leads_created")
    target = services.target_create(
        by=users["admin"], kpi=kpi, team=sales_team, period="month", period_start=date(2026, 8, 1), target=Decimal(5)
    )
    response = api_as(users["admin"]).patch(f"/api/v1/kpi-targets/{target.pk}/", {"target": "7"}, format="multipart")
    assert response.status_code == 200, response.content
    target.refresh_from_db()
    assert (target.target, target.period, target.period_end) == (Decimal(7), "month", date(2026, 8, 31))


def test_a_value_for_another_teams_kpi_is_refused_through_the_api(api_as, users, sales_team, marketing_team):
    from kpis import services
    from kpis.models import Measurement

    visitors = services.kpi_create(by=users["marketing_manager"], name="Visitors", metric="manual", team=marketing_team)
    value = {"kpi": visitors.pk, "team": sales_team.pk, "date": "2026-08-03", "value": "5"}
    assert api_as(users["sales_manager"]).post("/api/v1/kpi-measurements/", value, format="json").status_code == 403
    assert not Measurement.objects.exists()
