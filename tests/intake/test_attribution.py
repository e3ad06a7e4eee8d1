"""Where leads came from, used (SPEC §13): the lead list's and the API's filters by arrival,
utm_source and utm_campaign, and the insights' quality by utm_source and utm_campaign."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kpis import insights
from leads.models import Lead, Rejection, attribution_empty
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db
JAKARTA = ZoneInfo("Asia/Jakarta")
CREATED = datetime(2026, 8, 3, 9, tzinfo=JAKARTA)


def lead(team, name: str, via: str = "manual", status: str = "new", **attribution: str) -> Lead:
    return LeadFactory(
        team=team,
        name=name,
        arrived_via=via,
        status=status,
        created_at=CREATED,
        attribution={**attribution_empty(), **attribution},
    )


@pytest.fixture
def arrived(sales_team) -> dict[str, Lead]:
    return {
        "form": lead(sales_team, "From the form", "form", utm_source="google", utm_campaign="Lebaran-2026"),
        "hook": lead(sales_team, "From the hook", "hook", utm_source="webinar"),
        "whatsapp": lead(sales_team, "From WhatsApp", "whatsapp", "won", utm_source="whatsapp"),
        "manual": lead(sales_team, "Typed in"),
    }


def names(response) -> set[str]:
    return {row["name"] for row in response.json()["results"]}


def test_the_api_filters_leads_by_arrival_and_utm(api_client, users, arrived):
    api_client.force_authenticate(users["sales_manager"])
    assert names(api_client.get("/api/v1/leads/?arrived_via=form&arrived_via=whatsapp")) == {
        "From the form",
        "From WhatsApp",
    }
    assert names(api_client.get("/api/v1/leads/?utm_source=GOOGLE")) == {"From the form"}
    assert names(api_client.get("/api/v1/leads/?utm_campaign=lebaran-2026")) == {"From the form"}
    assert api_client.get("/api/v1/leads/?arrived_via=carrier-pigeon").status_code == 400


def test_the_lead_list_filters_by_arrival_and_utm(client, users, arrived):
    client.force_login(users["sales_manager"])
    page = client.get("/leads/?arrived_via=hook").content.decode()
    assert "From the hook" in page and "From the form" not in page and "Typed in" not in page
    page = client.get("/leads/?utm_source=webinar").content.decode()
    assert "From the hook" in page and "From WhatsApp" not in page
    assert 'name="utm_campaign"' in page  # the filter is on the page


def test_another_teams_leads_stay_out_of_a_filtered_list(api_client, users, arrived, other_sales_team):
    lead(other_sales_team, "Papua form lead", "form", utm_source="google")
    api_client.force_authenticate(users["sales_manager"])
    assert names(api_client.get("/api/v1/leads/?utm_source=google")) == {"From the form"}


def test_insights_split_quality_by_utm_source_and_campaign(client, users, arrived):
    Rejection.objects.create(lead=arrived["hook"], reason="not_icp", by=users["sales_manager"], at=CREATED)
    Lead.objects.filter(pk=arrived["hook"].pk).update(status="rejected")
    found = insights.insights_for(user=users["marketer"], team=None, first=CREATED.date(), last=CREATED.date())
    by_source = {row["key"]: row for row in found["by_utm_source"]}
    assert set(by_source) == {"google", "webinar", "whatsapp"}  # the lead typed in has none
    assert (by_source["whatsapp"]["won_rate"], by_source["webinar"]["rejected_rate"]) == (1, 1)
    assert by_source["webinar"]["reasons"] == {"not_icp": 1}
    assert [row["key"] for row in found["by_utm_campaign"]] == ["Lebaran-2026"]
    client.force_login(users["marketer"])
    page = client.get("/insights/?start=2026-08-01&end=2026-08-31").content.decode()
    assert "By utm_source" in page and "Lebaran-2026" in page
