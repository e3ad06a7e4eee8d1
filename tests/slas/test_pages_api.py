"""SLA and breach pages and endpoints: permissions, bad input, content."""

from __future__ import annotations

import pytest
import time_machine

from leads import services as leads
from slas import services
from slas.models import Breach, Sla
from tests.factories import LeadFactory
from tests.slas.conftest import jkt

pytestmark = pytest.mark.django_db


@pytest.fixture
def breach(users, sales_team, response_sla) -> Breach:
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9), name="Siti Rahma")
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=jkt(2026, 8, 5, 9))
    services.sla_sweep(now=jkt(2026, 8, 6))
    return Breach.objects.get()


# -- pages ---------------------------------------------------------------------------------------
def test_a_sales_manager_creates_a_response_sla_in_the_browser(client, users, sales_team):
    client.force_login(users["sales_manager"])
    page = client.get("/slas/new/response/").content.decode()
    assert 'name="target_value"' in page and 'name="min_touches"' not in page and 'name="from_team"' not in page
    response = client.post(
        "/slas/new/response/",
        {
            "name": "Fast",
            "team": sales_team.pk,
            "target_value": "1",
            "target_unit": "business_days",
            "warn_at_percent": "75",
        },
    )
    sla = Sla.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/slas/{sla.pk}/"
    assert (sla.kind, sla.target_value, sla.target_unit, sla.created_by) == (
        "response",
        1,
        "business_days",
        users["sales_manager"],
    )


@pytest.mark.parametrize(
    "kind,data,message",
    [
        ("response", {"target_value": "0", "target_unit": "hours"}, "greater than or equal to 1"),
        ("response", {"target_value": "", "target_unit": "hours"}, "required"),
        ("cadence", {"min_touches": "-2", "window_days": "30"}, "greater than or equal to"),
        ("volume", {"leads_per_rep": "50", "period": "month"}, "required"),
    ],
)
def test_bad_sla_input_shows_the_error_and_writes_nothing(client, users, sales_team, kind, data, message):
    client.force_login(users["admin"])
    response = client.post(f"/slas/new/{kind}/", {"name": "X", "team": sales_team.pk, **data})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Sla.objects.exists()


def test_a_volume_sla_is_owed_by_a_marketing_team(users, sales_team, other_sales_team):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as excinfo:
        services.sla_create(by=users["admin"], team=sales_team, kind="volume", name="V", from_team=other_sales_team)
    assert "from_team" in excinfo.value.message_dict


@pytest.mark.parametrize(
    "role,kind,status",
    [
        ("sales_rep", "response", 403),
        ("marketer", "volume", 403),
        ("marketing_manager", "response", 403),
        ("marketing_manager", "volume", 200),
        ("other_manager", "response", 200),
    ],
)
def test_who_may_open_the_sla_form(client, users, role, kind, status):
    client.force_login(users[role])
    assert client.get(f"/slas/new/{kind}/").status_code == status


def test_another_teams_manager_cannot_edit_or_deactivate(client, users, response_sla):
    client.force_login(users["other_manager"])
    assert client.get(f"/slas/{response_sla.pk}/").status_code == 404
    assert client.post(f"/slas/{response_sla.pk}/active/", {"active": "0"}).status_code == 404
    client.force_login(users["marketing_manager"])  # sees every SLA, edits only volume ones it owes
    assert client.get(f"/slas/{response_sla.pk}/edit/").status_code == 403
    assert client.post(f"/slas/{response_sla.pk}/active/", {"active": "0"}).status_code == 403
    response_sla.refresh_from_db()
    assert response_sla.is_active


def test_sla_detail_shows_counts_chart_and_breaches(client, users, breach):
    client.force_login(users["sales_manager"])
    with time_machine.travel(jkt(2026, 8, 7), tick=False):
        page = client.get(f"/slas/{breach.sla_id}/").content.decode()
    assert "Siti Rahma" in page and "compliance-data" in page and "0 %" in page


def test_deactivating_keeps_running_clocks_and_starts_none(client, users, sales_team, response_sla):
    client.force_login(users["sales_manager"])
    client.post(f"/slas/{response_sla.pk}/active/", {"active": "0"})
    response_sla.refresh_from_db()
    assert not response_sla.is_active
    lead = LeadFactory(team=sales_team)
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"])
    assert not lead.clocks.exists()


def test_breach_list_is_scoped_and_filters(client, users, breach):
    client.force_login(users["sales_rep"])
    assert "Siti Rahma" in client.get("/breaches/").content.decode()
    client.force_login(users["other_rep"])
    assert "Siti Rahma" not in client.get("/breaches/").content.decode()
    client.force_login(users["other_manager"])
    assert "Siti Rahma" not in client.get("/breaches/").content.decode()
    client.force_login(users["marketer"])
    assert "Siti Rahma" in client.get("/breaches/?status=open&kind=response").content.decode()
    assert "Siti Rahma" not in client.get("/breaches/?status=waived").content.decode()


def test_a_manager_acknowledges_and_waives(client, users, breach):
    client.force_login(users["sales_manager"])
    client.post(f"/breaches/{breach.pk}/acknowledge/", {"note": "Talked to Dewi"})
    client.post(f"/breaches/{breach.pk}/waive/", {"reason": "Lead was a test entry"})
    breach.refresh_from_db()
    assert (breach.acknowledged_by, breach.note) == (users["sales_manager"], "Talked to Dewi")
    assert (breach.waived, breach.waived_by, breach.waived_reason) == (
        True,
        users["sales_manager"],
        "Lead was a test entry",
    )
    assert breach.history.count() >= 2


def test_waiving_needs_a_reason(client, users, breach):
    client.force_login(users["sales_manager"])
    response = client.post(f"/breaches/{breach.pk}/waive/", {"reason": "  "}, follow=True)
    assert "Say why this breach is waived." in response.content.decode()
    breach.refresh_from_db()
    assert not breach.waived


@pytest.mark.parametrize("role,status", [("sales_rep", 403), ("marketer", 403), ("other_manager", 404)])
def test_others_cannot_acknowledge_or_waive(client, users, breach, role, status):
    client.force_login(users[role])
    assert client.post(f"/breaches/{breach.pk}/acknowledge/", {"note": "x"}).status_code == status
    assert client.post(f"/breaches/{breach.pk}/waive/", {"reason": "x"}).status_code == status
    breach.refresh_from_db()
    assert breach.acknowledged_at is None and not breach.waived


def test_breach_export_is_a_safe_csv(client, users, breach):
    breach.note = "=cmd()"
    breach.save()
    client.force_login(users["sales_manager"])
    text = b"".join(client.get("/breaches/export/").streaming_content).decode()
    assert text.startswith("\ufeffid,sla,kind") and "'=cmd()" in text


def test_the_lead_page_shows_its_clocks(client, users, sales_team, response_sla):
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9))
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=jkt(2026, 8, 5, 9))
    client.force_login(users["sales_rep"])
    with time_machine.travel(jkt(2026, 8, 5, 16), tick=False):
        page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "At risk" in page and "Due in 1 h" in page and "(Asia/Jakarta)" in page


def test_the_queue_puts_the_nearest_deadline_first(client, users, sales_team, response_sla):
    later = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9), name="Later")
    sooner = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 4, 9), name="Sooner")
    leads.lead_assign(lead=later, owner=users["sales_rep"], by=users["sales_manager"], now=jkt(2026, 8, 5, 9))
    leads.lead_assign(lead=sooner, owner=users["sales_rep"], by=users["sales_manager"], now=jkt(2026, 8, 4, 15))
    client.force_login(users["sales_rep"])
    with time_machine.travel(jkt(2026, 8, 5, 13, 30), tick=False):  # Sooner is at risk from 13:00
        page = client.get("/leads/queue/").content.decode()
    assert page.index("Sooner") < page.index("Later")
    assert "First follow-up at risk: due in" in page


def test_the_lead_list_filters_by_sla_state(client, users, breach, sales_team):
    LeadFactory(team=sales_team, name="Quiet")
    client.force_login(users["sales_manager"])
    page = client.get("/leads/?sla=breached").content.decode()
    assert "Siti Rahma" in page and "Quiet" not in page


# -- API -----------------------------------------------------------------------------------------
def test_api_creates_lists_and_patches_slas(api_as, users, sales_team, marketing_team):
    client = api_as(users["sales_manager"])
    response = client.post(
        "/api/v1/slas/",
        {"name": "Fast", "kind": "response", "team": sales_team.pk, "target_value": 4, "target_unit": "business_hours"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    sla_id = response.json()["id"]
    assert client.patch(f"/api/v1/slas/{sla_id}/", {"target_value": 2}, format="json").json()["version"] == 2
    assert client.patch(f"/api/v1/slas/{sla_id}/", {"is_active": False}, format="json").json()["is_active"] is False
    assert client.get("/api/v1/slas/?kind=response").json()["count"] == 1


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"kind": "response", "target_value": 0, "target_unit": "hours"}, "target_value"),
        ({"kind": "response", "target_value": 2, "target_unit": "weeks"}, "target_unit"),
        ({"kind": "cadence", "min_touches": 5, "window_days": 30, "sources": ["tv"]}, "sources"),
        ({"kind": "volume", "leads_per_rep": 50, "period": "month"}, "from_team"),
        ({"kind": "teleport"}, "kind"),
    ],
)
def test_api_refuses_bad_slas_with_400(api_as, users, sales_team, payload, field):
    response = api_as(users["admin"]).post(
        "/api/v1/slas/", {"name": "X", "team": sales_team.pk, **payload}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not Sla.objects.exists()


def test_api_sla_permissions(api_as, users, sales_team, other_sales_team, response_sla):
    payload = {"name": "X", "kind": "response", "team": sales_team.pk, "target_value": 1, "target_unit": "hours"}
    assert api_as(users["sales_rep"]).post("/api/v1/slas/", payload, format="json").status_code == 403
    assert api_as(users["other_manager"]).post("/api/v1/slas/", payload, format="json").status_code == 403
    assert api_as(users["other_manager"]).get(f"/api/v1/slas/{response_sla.pk}/").status_code == 404
    assert (
        api_as(users["marketer"]).patch(f"/api/v1/slas/{response_sla.pk}/", {"name": "Y"}, format="json").status_code
        == 403
    )


def test_api_breaches_fields_filters_and_patch(api_as, users, breach, sales_team):
    client = api_as(users["sales_manager"])
    body = client.get(f"/api/v1/breaches/?team={sales_team.pk}&since=2026-08-01").json()
    row = body["results"][0]
    fields = "id sla kind lead team responsible_user responsible_team due_at detected_at expected actual"
    fields += " resolved_at acknowledged_by acknowledged_at note waived waived_reason"
    for field in fields.split():
        assert field in row
    assert row["due_at"] == "2026-08-05T17:00:00+07:00"
    response = client.patch(f"/api/v1/breaches/{breach.pk}/", {"acknowledged": True, "note": "seen"}, format="json")
    assert response.status_code == 200 and response.json()["acknowledged_by"] == users["sales_manager"].pk
    assert client.patch(f"/api/v1/breaches/{breach.pk}/", {"waived": True}, format="json").status_code == 400
    response = client.patch(
        f"/api/v1/breaches/{breach.pk}/", {"waived": True, "waived_reason": "test lead"}, format="json"
    )
    assert response.status_code == 200 and response.json()["waived"] is True
    assert (
        api_as(users["sales_rep"]).patch(f"/api/v1/breaches/{breach.pk}/", {"note": "x"}, format="json").status_code
        == 403
    )
    assert api_as(users["other_manager"]).get(f"/api/v1/breaches/{breach.pk}/").status_code == 404


def test_lead_api_detail_has_sla_status(api_as, users, sales_team, response_sla, cadence_sla):
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9))
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=jkt(2026, 8, 5, 9))
    with time_machine.travel(jkt(2026, 8, 5, 10), tick=False):
        status = api_as(users["sales_rep"]).get(f"/api/v1/leads/{lead.pk}/").json()["sla_status"]
    assert {(s["kind"], s["state"]) for s in status} == {("response", "pending"), ("cadence", "pending")}
    assert {s["due_at"] for s in status} >= {"2026-08-05T17:00:00+07:00"}


@pytest.mark.parametrize("value", ["-2.07e+37", "99999999999999999999999", "abc", "0"])
def test_a_wild_lead_filter_is_a_400_not_a_500(api_as, users, value):
    assert api_as(users["admin"]).get("/api/v1/breaches/", {"lead": value}).status_code == 400


def test_the_sla_list_costs_the_same_queries_for_one_sla_or_three(client, users, sales_team, marketing_team, breach):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/slas/").status_code == 200
        return len(queries)

    client.force_login(users["admin"])
    one = count()
    services.sla_create(by=users["admin"], team=sales_team, kind="cadence", name="Cadence")
    services.sla_create(by=users["admin"], team=sales_team, kind="volume", name="Volume", from_team=marketing_team)
    assert count() == one
    page = client.get("/slas/").content.decode()
    assert "Cadence" in page and "Volume" in page


def test_the_dashboard_and_the_queue_show_the_same_deadline_badge(client, users, sales_team, response_sla):
    """Both come from slas.badges.due_badge: the dashboard's through slas/_due_badge.html."""
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 4, 9), name="Sooner")
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=jkt(2026, 8, 4, 15))
    client.force_login(users["sales_rep"])
    with time_machine.travel(jkt(2026, 8, 5, 13, 30), tick=False):
        dashboard = client.get("/").content.decode()
        queue = client.get("/leads/queue/").content.decode()
    badge = (
        '<span class="badge text-bg-warning"><i class="bi bi-exclamation-triangle" aria-hidden="true"></i>'
        " First follow-up at risk"
    )
    assert badge in dashboard and badge in queue
    with time_machine.travel(jkt(2026, 8, 6, 9), tick=False):
        assert "First follow-up overdue by" in client.get("/").content.decode()
