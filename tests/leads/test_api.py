"""REST API of the leads app: campaigns/, leads/ and its actions, export and import (SPEC §1, §2, §7)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from leads import services
from leads.models import Assignment, Campaign, Lead, Rejection, StatusChange, Touch
from tests.factories import CampaignFactory, LeadFactory, MarketingTeamFactory

pytestmark = pytest.mark.django_db

LEADS = "/api/v1/leads/"
CAMPAIGNS = "/api/v1/campaigns/"


def _csv_file(text: str, *, encoding: str = "utf-8", name: str = "leads.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def _csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


# -- visibility (SPEC §1) -----------------------------------------------------------------------
ALL = {"own": 200, "teammate": 200, "unassigned": 200, "other_team": 200}


@pytest.mark.parametrize(
    "role,expected",
    [
        ("admin", ALL),
        ("marketing_manager", ALL),
        ("marketer", ALL),
        ("sales_manager", {"own": 200, "teammate": 200, "unassigned": 200, "other_team": 404}),
        ("sales_rep", {"own": 200, "teammate": 404, "unassigned": 200, "other_team": 404}),
        ("other_rep", {"own": 404, "teammate": 200, "unassigned": 200, "other_team": 404}),
        ("other_manager", {"own": 404, "teammate": 404, "unassigned": 404, "other_team": 200}),
        ("other_team_rep", {"own": 404, "teammate": 404, "unassigned": 404, "other_team": 200}),
    ],
)
def test_lead_detail_visibility_matrix(api_as, users, leads, role, expected):
    client = api_as(users[role])
    got = {kind: client.get(f"{LEADS}{lead.pk}/").status_code for kind, lead in leads.items()}
    assert got == expected
    listed = {row["id"] for row in client.get(LEADS).json()["results"]}
    assert listed == {leads[kind].pk for kind, code in expected.items() if code == 200}


def test_the_leads_api_needs_authentication(api_client, leads):
    assert api_client.get(LEADS).status_code in (401, 403)
    assert api_client.get(f"{LEADS}{leads['own'].pk}/").status_code in (401, 403)
    assert api_client.post(LEADS, {"name": "X"}, format="json").status_code in (401, 403)


def test_lead_detail_has_the_documented_fields(api_as, users, leads):
    body = api_as(users["sales_rep"]).get(f"{LEADS}{leads['own'].pk}/").json()
    assert body["name"] == "Own Lead"
    assert body["owner"] == users["sales_rep"].pk
    assert body["status"] == "new"
    assert body["assigned_at"] is not None


# -- campaigns/ -------------------------------------------------------------------------------
GOOD_CAMPAIGN = {
    "name": "Promo Lebaran",
    "channel": "social",
    "start_date": "2026-03-01",
    "end_date": "2026-04-15",
    "spend": "25000000.00",
}


def test_everyone_signed_in_reads_campaigns(api_as, users, marketing_team):
    CampaignFactory(name="Webinar Q1", team=marketing_team)
    body = api_as(users["sales_rep"]).get(CAMPAIGNS).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [c["name"] for c in body["results"]] == ["Webinar Q1"]
    assert body["results"][0]["currency"] == "IDR"


@pytest.mark.parametrize("role", ["admin", "marketing_manager"])
def test_admins_and_marketing_managers_create_and_edit_campaigns(api_as, users, marketing_team, role):
    client = api_as(users[role])
    response = client.post(CAMPAIGNS, {**GOOD_CAMPAIGN, "team": marketing_team.pk}, format="json")
    assert response.status_code == 201, response.json()
    campaign = Campaign.objects.get(pk=response.json()["id"])
    assert (campaign.name, campaign.team, campaign.spend) == ("Promo Lebaran", marketing_team, Decimal("25000000"))
    response = client.patch(f"{CAMPAIGNS}{campaign.pk}/", {"spend": "30000000"}, format="json")
    assert response.status_code == 200, response.json()
    campaign.refresh_from_db()
    assert campaign.spend == Decimal("30000000")


@pytest.mark.parametrize("role", ["marketer", "sales_manager", "sales_rep", "other_manager"])
def test_others_may_not_write_campaigns(api_as, users, marketing_team, role):
    campaign = CampaignFactory(name="Webinar Q1", team=marketing_team, spend=1000)
    client = api_as(users[role])
    response = client.post(CAMPAIGNS, {**GOOD_CAMPAIGN, "team": marketing_team.pk}, format="json")
    assert response.status_code == 403
    response = client.patch(f"{CAMPAIGNS}{campaign.pk}/", {"name": "Hijacked"}, format="json")
    assert response.status_code == 403
    assert list(Campaign.objects.values_list("name", "spend")) == [("Webinar Q1", Decimal("1000"))]


def test_a_marketing_manager_writes_only_their_own_teams_campaigns(api_as, users):
    other_marketing = MarketingTeamFactory(name="Marketing Bali")
    campaign = CampaignFactory(name="Bali Expo", team=other_marketing)
    client = api_as(users["marketing_manager"])
    assert client.post(CAMPAIGNS, {**GOOD_CAMPAIGN, "team": other_marketing.pk}, format="json").status_code == 403
    assert client.patch(f"{CAMPAIGNS}{campaign.pk}/", {"name": "Mine"}, format="json").status_code == 403
    assert list(Campaign.objects.values_list("name", flat=True)) == ["Bali Expo"]


@pytest.mark.parametrize(
    "change,field",
    [
        ({"start_date": "2026-05-01", "end_date": "2026-04-01"}, "end_date"),
        ({"spend": "-1"}, "spend"),
        ({"channel": "television"}, "channel"),
        ({"start_date": "next monday"}, "start_date"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_campaign_input_answers_400_with_the_field(api_as, users, marketing_team, change, field):
    response = api_as(users["marketing_manager"]).post(
        CAMPAIGNS, {**GOOD_CAMPAIGN, "team": marketing_team.pk, **change}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Campaign.objects.exists()


def test_a_campaign_cannot_belong_to_a_sales_team(api_as, users, sales_team):
    response = api_as(users["admin"]).post(CAMPAIGNS, {**GOOD_CAMPAIGN, "team": sales_team.pk}, format="json")
    assert response.status_code == 400
    assert "team" in response.json()
    assert not Campaign.objects.exists()


def test_patching_a_campaign_to_end_before_it_starts_answers_400(api_as, users, marketing_team):
    campaign = CampaignFactory(team=marketing_team, start_date="2026-03-01", end_date="2026-03-31")
    response = api_as(users["marketing_manager"]).patch(
        f"{CAMPAIGNS}{campaign.pk}/", {"end_date": "2026-02-01"}, format="json"
    )
    assert response.status_code == 400
    assert "end_date" in response.json()
    campaign.refresh_from_db()
    assert str(campaign.end_date) == "2026-03-31"


# -- leads/ list and filters -----------------------------------------------------------------------
def test_lead_list_is_paginated(api_as, users, sales_team):
    LeadFactory.create_batch(51, team=sales_team)
    body = api_as(users["sales_manager"]).get(LEADS).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 51
    assert len(body["results"]) == 50
    assert body["previous"] is None and "page=2" in body["next"]
    page2 = api_as(users["sales_manager"]).get(body["next"]).json()
    assert len(page2["results"]) == 1


@pytest.fixture
def varied_leads(users, sales_team, other_sales_team, marketing_team) -> dict[str, Lead]:
    campaign = CampaignFactory(name="Expo Jakarta", team=marketing_team)
    return {
        "working": LeadFactory(name="Andi", team=sales_team, owner=users["sales_rep"], status="working"),
        "event": LeadFactory(name="Budi", team=sales_team, source="event", campaign=campaign),
        "other": LeadFactory(name="Citra", team=other_sales_team, company="PT Maju Jaya"),
        "email": LeadFactory(name="Dewi", team=sales_team, owner=users["other_rep"], email="dewi@sentosa.co.id"),
    }


@pytest.mark.parametrize(
    "query,expected",
    [
        ("status=working", {"working"}),
        ("status=new", {"event", "other", "email"}),
        ("source=event", {"event"}),
        ("owner={other_rep}", {"email"}),
        ("campaign={campaign}", {"event"}),
        ("team={other_team}", {"other"}),
        ("q=maju", {"other"}),
        ("q=SENTOSA", {"email"}),
        ("q=budi", {"event"}),
        ("unassigned=true", {"event", "other"}),
    ],
)
def test_lead_list_filters(api_as, users, varied_leads, other_sales_team, query, expected):
    query = query.format(
        other_rep=users["other_rep"].pk,
        campaign=varied_leads["event"].campaign_id,
        other_team=other_sales_team.pk,
    )
    body = api_as(users["admin"]).get(f"{LEADS}?{query}").json()
    assert {row["id"] for row in body["results"]} == {varied_leads[key].pk for key in expected}
    assert body["count"] == len(expected)


def test_an_unknown_filter_value_answers_400_not_500(api_as, users, varied_leads):
    response = api_as(users["admin"]).get(f"{LEADS}?status=sleeping")
    assert response.status_code == 400
    assert "status" in response.json()


# -- leads/ POST ------------------------------------------------------------------------------
def test_a_marketer_creates_a_new_lead_for_a_sales_team(api_as, users, sales_team):
    response = api_as(users["marketer"]).post(
        LEADS,
        {"name": "Siti Rahma", "email": "Siti@Contoh.co.id", "source": "web", "team": sales_team.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "new" and body["owner"] is None and body["assigned_at"] is None
    lead = Lead.objects.get(pk=body["id"])
    assert (lead.team, lead.status, lead.created_by) == (sales_team, "new", users["marketer"])
    assert lead.email == "siti@contoh.co.id"
    assert not Assignment.objects.filter(lead=lead).exists()


def test_posting_with_an_owner_assigns_at_once(api_as, users, sales_team):
    response = api_as(users["sales_manager"]).post(
        LEADS, {"name": "Andi Wijaya", "source": "event", "owner": users["sales_rep"].pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"] == users["sales_rep"].pk and body["assigned_at"] is not None
    lead = Lead.objects.get(pk=body["id"])
    assert lead.team == sales_team  # the manager's own team by default
    assignment = Assignment.objects.get(lead=lead)
    assert (assignment.owner, assignment.assigned_by, assignment.ended_at) == (
        users["sales_rep"],
        users["sales_manager"],
        None,
    )
    assert assignment.assigned_at == lead.assigned_at


def test_a_marketer_may_not_assign_on_creation(api_as, users, sales_team):
    response = api_as(users["marketer"]).post(
        LEADS, {"name": "Andi", "team": sales_team.pk, "owner": users["sales_rep"].pk}, format="json"
    )
    assert response.status_code == 403
    assert not Lead.objects.exists()


def test_a_rep_may_not_create_leads_for_another_team(api_as, users, other_sales_team):
    response = api_as(users["sales_rep"]).post(LEADS, {"name": "Andi", "team": other_sales_team.pk}, format="json")
    assert response.status_code == 403
    assert not Lead.objects.exists()


def test_a_rep_creates_a_lead_for_their_own_team(api_as, users, sales_team):
    response = api_as(users["sales_rep"]).post(LEADS, {"name": "Andi"}, format="json")
    assert response.status_code == 201
    assert Lead.objects.get().team == sales_team


@pytest.mark.parametrize(
    "change,field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"source": "television"}, "source"),
        ({"name": "x" * 201}, "name"),
        ({"value": "-5"}, "value"),
        ({"name": ""}, "name"),
        ({"status": "won"}, "status"),
        ({"campaign": 999999}, "campaign"),
        ({"team": "marketing"}, "team"),
    ],
)
def test_bad_lead_input_answers_400_with_the_field_and_creates_nothing(
    api_as, users, sales_team, marketing_team, change, field
):
    payload = {"name": "Andi", "team": sales_team.pk, **change}
    if payload["team"] == "marketing":
        payload["team"] = marketing_team.pk
    response = api_as(users["marketer"]).post(LEADS, payload, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Lead.objects.exists()


def test_a_marketer_without_a_sales_team_must_name_one(api_as, users):
    response = api_as(users["marketer"]).post(LEADS, {"name": "Andi"}, format="json")
    assert response.status_code == 400
    assert "team" in response.json()
    assert not Lead.objects.exists()


def test_a_malformed_json_body_answers_400_and_creates_nothing(api_as, users, sales_team):
    response = api_as(users["marketer"]).post(LEADS, data='{"name": ', content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()
    assert not Lead.objects.exists()


# -- leads/ PATCH ------------------------------------------------------------------------------
def test_the_owner_edits_the_details(api_as, users, leads):
    lead = leads["own"]
    response = api_as(users["sales_rep"]).patch(
        f"{LEADS}{lead.pk}/", {"company": "PT Baru", "phone": "+62 812 1111 2222", "value": "1500000"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["company"] == "PT Baru"
    lead.refresh_from_db()
    assert (lead.company, lead.phone, lead.value) == ("PT Baru", "+6281211112222", Decimal("1500000"))  # in E.164


def test_patching_bad_details_answers_400_and_changes_nothing(api_as, users, leads):
    lead = leads["own"]
    response = api_as(users["sales_rep"]).patch(f"{LEADS}{lead.pk}/", {"email": "nope"}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()
    assert Lead.objects.get(pk=lead.pk).email == lead.email


def test_a_lead_stays_in_its_team(api_as, users, leads, other_sales_team):
    lead = leads["own"]
    response = api_as(users["admin"]).patch(f"{LEADS}{lead.pk}/", {"team": other_sales_team.pk}, format="json")
    assert response.status_code == 400
    assert "team" in response.json()
    assert Lead.objects.get(pk=lead.pk).team_id == lead.team_id


@pytest.mark.parametrize("status", ["working", "qualified", "won", "lost"])
def test_the_owner_moves_the_status_forward(api_as, users, leads, status):
    lead = leads["own"]
    response = api_as(users["sales_rep"]).patch(f"{LEADS}{lead.pk}/", {"status": status}, format="json")
    assert response.status_code == 200, response.json()
    lead.refresh_from_db()
    assert lead.status == status
    assert (lead.closed_at is not None) == (status in ("won", "lost"))
    change = StatusChange.objects.get(lead=lead)
    assert (change.from_status, change.to_status, change.by) == ("new", status, users["sales_rep"])


def test_a_rep_may_not_move_a_lead_backwards(api_as, users, sales_team):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], status="qualified")
    response = api_as(users["sales_rep"]).patch(f"{LEADS}{lead.pk}/", {"status": "working"}, format="json")
    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.status == "qualified"
    assert not StatusChange.objects.exists()


def test_a_rep_may_not_reopen_a_closed_lead(api_as, users, sales_team):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], status="won", closed_at=timezone.now())
    response = api_as(users["sales_rep"]).patch(f"{LEADS}{lead.pk}/", {"status": "working"}, format="json")
    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.status == "won" and lead.closed_at is not None


def test_the_sales_manager_moves_a_lead_backwards_and_reopens_it(api_as, users, sales_team):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], status="lost", closed_at=timezone.now())
    response = api_as(users["sales_manager"]).patch(f"{LEADS}{lead.pk}/", {"status": "working"}, format="json")
    assert response.status_code == 200, response.json()
    lead.refresh_from_db()
    assert (lead.status, lead.closed_at) == ("working", None)


def test_a_refused_status_change_rolls_back_the_details_patched_with_it(api_as, users, sales_team):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], status="qualified", company="PT Lama")
    response = api_as(users["sales_rep"]).patch(
        f"{LEADS}{lead.pk}/", {"company": "PT Baru", "status": "working"}, format="json"
    )
    assert response.status_code == 403
    lead.refresh_from_db()
    assert (lead.company, lead.status) == ("PT Lama", "qualified")


@pytest.mark.parametrize("payload", [{"company": "PT Iklan"}, {"status": "working"}])
def test_a_marketer_may_not_patch_a_lead(api_as, users, leads, payload):
    lead = leads["own"]
    response = api_as(users["marketer"]).patch(f"{LEADS}{lead.pk}/", payload, format="json")
    assert response.status_code == 403
    fresh = Lead.objects.get(pk=lead.pk)
    assert (fresh.company, fresh.status) == (lead.company, "new")


def test_patching_another_reps_lead_is_not_found(api_as, users, leads):
    lead = leads["teammate"]
    response = api_as(users["sales_rep"]).patch(f"{LEADS}{lead.pk}/", {"company": "X"}, format="json")
    assert response.status_code == 404
    assert Lead.objects.get(pk=lead.pk).company == lead.company


# -- leads/{id}/assign/ ------------------------------------------------------------------------
def test_the_teams_manager_reassigns_a_lead(api_as, users, leads):
    lead = leads["own"]
    response = api_as(users["sales_manager"]).post(
        f"{LEADS}{lead.pk}/assign/", {"owner": users["other_rep"].pk}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["owner"] == users["other_rep"].pk
    lead.refresh_from_db()
    assert lead.owner == users["other_rep"]
    old, new = Assignment.objects.filter(lead=lead).order_by("assigned_at", "id")
    assert old.owner == users["sales_rep"] and old.ended_at is not None
    assert new.owner == users["other_rep"] and new.ended_at is None and new.assigned_by == users["sales_manager"]


def test_another_teams_manager_does_not_find_the_lead(api_as, users, leads):
    lead = leads["unassigned"]
    response = api_as(users["other_manager"]).post(
        f"{LEADS}{lead.pk}/assign/", {"owner": users["other_team_rep"].pk}, format="json"
    )
    assert response.status_code == 404
    lead.refresh_from_db()
    assert lead.owner is None


@pytest.mark.parametrize("kind", ["own", "unassigned"])
def test_a_rep_may_not_hand_a_lead_to_someone_else(api_as, users, leads, kind):
    lead = leads[kind]
    response = api_as(users["sales_rep"]).post(
        f"{LEADS}{lead.pk}/assign/", {"owner": users["other_rep"].pk}, format="json"
    )
    assert response.status_code == 403
    assert Lead.objects.get(pk=lead.pk).owner_id == lead.owner_id


def test_a_rep_claims_an_unassigned_lead_of_their_team(api_as, users, leads):
    lead = leads["unassigned"]
    response = api_as(users["sales_rep"]).post(
        f"{LEADS}{lead.pk}/assign/", {"owner": users["sales_rep"].pk}, format="json"
    )
    assert response.status_code == 200, response.json()
    lead.refresh_from_db()
    assert lead.owner == users["sales_rep"] and lead.assigned_at is not None
    assert Assignment.objects.get(lead=lead).owner == users["sales_rep"]


@pytest.mark.parametrize("owner", ["other_team_rep", "marketer", "sales_manager"])
def test_the_owner_must_be_a_rep_of_the_leads_team(api_as, users, leads, owner):
    lead = leads["unassigned"]
    response = api_as(users["sales_manager"]).post(
        f"{LEADS}{lead.pk}/assign/", {"owner": users[owner].pk}, format="json"
    )
    assert response.status_code == 400
    assert "owner" in response.json()
    lead.refresh_from_db()
    assert lead.owner is None
    assert not Assignment.objects.filter(lead=lead).exists()


def test_assigning_to_an_unknown_user_answers_400(api_as, users, leads):
    response = api_as(users["sales_manager"]).post(
        f"{LEADS}{leads['unassigned'].pk}/assign/", {"owner": 999999}, format="json"
    )
    assert response.status_code == 400
    assert "owner" in response.json()


# -- leads/{id}/reject/ ------------------------------------------------------------------------
def test_the_owner_rejects_a_lead_with_a_reason(api_as, users, leads):
    lead = leads["own"]
    response = api_as(users["sales_rep"]).post(
        f"{LEADS}{lead.pk}/reject/", {"reason": "not_icp", "note": "Student, no budget"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "rejected"
    lead.refresh_from_db()
    assert lead.status == "rejected" and lead.closed_at is not None
    rejection = Rejection.objects.get(lead=lead)
    assert (rejection.reason, rejection.note, rejection.by) == ("not_icp", "Student, no budget", users["sales_rep"])


def test_rejecting_with_an_unknown_reason_answers_400(api_as, users, leads):
    lead = leads["own"]
    response = api_as(users["sales_rep"]).post(f"{LEADS}{lead.pk}/reject/", {"reason": "boring"}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    lead.refresh_from_db()
    assert (lead.status, lead.closed_at) == ("new", None)
    assert not Rejection.objects.exists()


def test_rejecting_another_reps_lead_is_not_found(api_as, users, leads):
    lead = leads["teammate"]
    response = api_as(users["sales_rep"]).post(f"{LEADS}{lead.pk}/reject/", {"reason": "spam"}, format="json")
    assert response.status_code == 404
    assert Lead.objects.get(pk=lead.pk).status == "new"
    assert not Rejection.objects.exists()


@pytest.mark.parametrize("role,kind", [("marketer", "own"), ("marketing_manager", "own"), ("sales_rep", "unassigned")])
def test_who_sees_but_may_not_work_a_lead_gets_403_on_reject(api_as, users, leads, role, kind):
    response = api_as(users[role]).post(f"{LEADS}{leads[kind].pk}/reject/", {"reason": "spam"}, format="json")
    assert response.status_code == 403
    assert not Rejection.objects.exists()
    assert Lead.objects.get(pk=leads[kind].pk).status == "new"


def test_rejecting_a_closed_lead_answers_400(api_as, users, sales_team):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], status="won", closed_at=timezone.now())
    response = api_as(users["sales_rep"]).post(f"{LEADS}{lead.pk}/reject/", {"reason": "spam"}, format="json")
    assert response.status_code == 400
    assert Lead.objects.get(pk=lead.pk).status == "won"
    assert not Rejection.objects.exists()


# -- leads/{id}/touches/ -----------------------------------------------------------------------
def test_touches_are_listed_newest_first(api_as, users, leads):
    lead = leads["own"]
    first = services.touch_log(lead=lead, by=users["sales_rep"], kind="call", outcome="no_answer")
    second = services.touch_log(lead=lead, by=users["sales_rep"], kind="email", notes="Sent the brochure")
    body = api_as(users["sales_rep"]).get(f"{LEADS}{lead.pk}/touches/").json()
    assert body["count"] == 2
    assert [t["id"] for t in body["results"]] == [second.pk, first.pk]
    assert body["results"][1]["outcome"] == "no_answer"
    assert body["results"][0]["user"] == users["sales_rep"].pk


def test_marketing_reads_the_touches_of_any_lead(api_as, users, leads):
    services.touch_log(lead=leads["other_team"], by=users["other_team_rep"], kind="meeting")
    body = api_as(users["marketer"]).get(f"{LEADS}{leads['other_team'].pk}/touches/").json()
    assert [t["kind"] for t in body["results"]] == ["meeting"]


def test_touches_of_an_invisible_lead_are_not_found(api_as, users, leads):
    assert api_as(users["sales_rep"]).get(f"{LEADS}{leads['teammate'].pk}/touches/").status_code == 404


def test_logging_the_first_touch_moves_a_new_lead_to_working(api_as, users, leads):
    lead = leads["own"]
    response = api_as(users["sales_rep"]).post(
        f"{LEADS}{lead.pk}/touches/", {"kind": "call", "outcome": "connected", "notes": "Keen"}, format="json"
    )
    assert response.status_code == 201, response.json()
    touch = Touch.objects.get(pk=response.json()["id"])
    assert (touch.lead, touch.user, touch.kind, touch.outcome) == (lead, users["sales_rep"], "call", "connected")
    lead.refresh_from_db()
    assert lead.status == "working"


def test_a_touch_may_be_a_little_in_the_future_for_clock_skew(api_as, users, leads):
    when = timezone.now() + timedelta(minutes=4)
    response = api_as(users["sales_rep"]).post(
        f"{LEADS}{leads['own'].pk}/touches/", {"kind": "call", "occurred_at": when.isoformat()}, format="json"
    )
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"kind": "call", "occurred_at": "+10m"}, "occurred_at"),
        ({"kind": "call", "occurred_at": "-2h"}, "occurred_at"),
        ({"kind": "fax"}, "kind"),
        ({"kind": "call", "outcome": "maybe"}, "outcome"),
        ({"kind": "call", "occurred_at": "yesterday-ish"}, "occurred_at"),
        ({}, "kind"),
    ],
)
def test_bad_touches_answer_400_and_log_nothing(api_as, users, sales_team, payload, field):
    now = timezone.now()
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], created_at=now - timedelta(hours=1))
    shifts = {"+10m": timedelta(minutes=10), "-2h": -timedelta(hours=2)}
    if payload.get("occurred_at") in shifts:
        payload = {**payload, "occurred_at": (now + shifts[payload["occurred_at"]]).isoformat()}
    response = api_as(users["sales_rep"]).post(f"{LEADS}{lead.pk}/touches/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Touch.objects.exists()
    lead.refresh_from_db()
    assert lead.status == "new"


@pytest.mark.parametrize("role", ["marketer", "marketing_manager"])
def test_marketing_may_not_log_touches(api_as, users, leads, role):
    response = api_as(users[role]).post(f"{LEADS}{leads['own'].pk}/touches/", {"kind": "call"}, format="json")
    assert response.status_code == 403
    assert not Touch.objects.exists()


def test_a_rep_may_not_log_a_touch_on_an_unassigned_lead(api_as, users, leads):
    response = api_as(users["sales_rep"]).post(
        f"{LEADS}{leads['unassigned'].pk}/touches/", {"kind": "call"}, format="json"
    )
    assert response.status_code == 403
    assert not Touch.objects.exists()


# -- leads/export/ -----------------------------------------------------------------------------
def test_export_is_a_csv_of_the_visible_leads(api_as, users, leads):
    response = api_as(users["sales_rep"]).get(f"{LEADS}export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = _csv_rows(response)
    assert rows[0][:3] == ["id", "name", "email"]
    assert {"status", "owner", "team", "created_at"} <= set(rows[0])
    assert sorted(row[1] for row in rows[1:]) == ["Own Lead", "Unassigned Lead"]


def test_export_applies_the_list_filters(api_as, users, varied_leads):
    response = api_as(users["admin"]).get(f"{LEADS}export/?source=event")
    rows = _csv_rows(response)
    header = rows[0]
    assert [dict(zip(header, row, strict=True))["name"] for row in rows[1:]] == ["Budi"]
    assert dict(zip(header, rows[1], strict=True))["campaign"] == "Expo Jakarta"


def test_export_escapes_formulas(api_as, users, sales_team):
    LeadFactory(name="=HYPERLINK(1)", company="@SUM(A1)", team=sales_team)
    rows = _csv_rows(api_as(users["sales_manager"]).get(f"{LEADS}export/"))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["name"] == "'=HYPERLINK(1)"
    assert row["company"] == "'@SUM(A1)"


def test_export_with_a_bad_filter_answers_400(api_as, users, leads):
    response = api_as(users["admin"]).get(f"{LEADS}export/?status=sleeping")
    assert response.status_code == 400


# -- leads/import/ -----------------------------------------------------------------------------
GOOD_CSV = "name,email,company,source\nSiti Rahma,siti@contoh.co.id,PT Maju Jaya,web\nAndi Wijaya,,CV Sentosa,event\n"


def _import(client, text: str, **extra):
    return client.post(
        f"{LEADS}import/", {"file": _csv_file(text, **extra.pop("file", {})), **extra}, format="multipart"
    )


def test_importing_a_valid_csv_creates_the_leads(api_as, users, sales_team):
    response = _import(api_as(users["sales_manager"]), GOOD_CSV)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["rows"], body["created"], body["errors"], body["dry_run"]) == (2, 2, [], False)
    leads = {lead.name: lead for lead in Lead.objects.all()}
    assert set(leads) == {"Siti Rahma", "Andi Wijaya"}
    assert leads["Andi Wijaya"].source == "event" and leads["Andi Wijaya"].team == sales_team
    assert all(lead.status == "new" and lead.created_by == users["sales_manager"] for lead in leads.values())


def test_a_marketer_imports_for_a_named_sales_team(api_as, users, other_sales_team):
    response = _import(api_as(users["marketer"]), GOOD_CSV, team=other_sales_team.pk)
    assert response.status_code == 201, response.json()
    assert set(Lead.objects.values_list("team", flat=True)) == {other_sales_team.pk}


def test_a_marketer_without_a_team_to_import_for_gets_400(api_as, users):
    response = _import(api_as(users["marketer"]), GOOD_CSV)
    assert response.status_code == 400
    assert "team" in response.json()
    assert not Lead.objects.exists()


def test_a_rep_may_not_import_for_another_team(api_as, users, other_sales_team):
    response = _import(api_as(users["sales_rep"]), GOOD_CSV, team=other_sales_team.pk)
    assert response.status_code == 403
    assert not Lead.objects.exists()


def test_a_dry_run_counts_rows_and_creates_nothing(api_as, users):
    response = _import(api_as(users["sales_manager"]), GOOD_CSV, dry_run="true")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["dry_run"], body["rows"], body["created"], body["errors"]) == (True, 2, 0, [])
    assert not Lead.objects.exists()


def test_a_bad_row_reports_row_and_column_and_creates_nothing(api_as, users):
    text = "name,email\nSiti,siti@contoh.co.id\nAndi,andi-at-contoh\nDewi,dewi@contoh.co.id\n"
    response = _import(api_as(users["sales_manager"]), text)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(3, "email")]
    assert "andi-at-contoh" in errors[0]["message"]
    assert not Lead.objects.exists()


def test_every_bad_row_is_reported(api_as, users):
    text = "name,email,source,value\n,a@b.co,web,1\nAndi,x@y.co,tv,1\nDewi,d@y.co,web,-3\n"
    response = _import(api_as(users["sales_manager"]), text)
    assert response.status_code == 400
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [(2, "name"), (3, "source"), (4, "value")]
    assert not Lead.objects.exists()


def test_a_latin1_file_answers_400_with_a_whole_file_error(api_as, users):
    text = "name,email\nRené Café,rene@contoh.co.id\n"
    response = _import(api_as(users["sales_manager"]), text, file={"encoding": "latin-1"})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors and errors[0]["row"] == 0
    assert "UTF-8" in errors[0]["message"]
    assert not Lead.objects.exists()


def test_indonesian_headers_are_understood(api_as, users, sales_team):
    text = "nama,email,perusahaan,sumber,telepon\nSiti Rahma,siti@contoh.co.id,PT Maju Jaya,acara,+62 812 1111 2222\n"
    response = _import(api_as(users["sales_manager"]), text)
    assert response.status_code == 201, response.json()
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.company, lead.source, lead.phone) == (
        "Siti Rahma",
        "siti@contoh.co.id",
        "PT Maju Jaya",
        "event",
        "+6281211112222",
    )


def test_an_import_without_a_file_answers_400(api_as, users):
    response = api_as(users["sales_manager"]).post(f"{LEADS}import/", {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()


def test_an_oversized_file_is_refused_as_a_whole(api_as, users, settings):
    settings.IMPORT_MAX_BYTES = 20
    response = _import(api_as(users["sales_manager"]), GOOD_CSV)
    assert response.status_code == 400
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [(0, "file")]
    assert not Lead.objects.exists()


def test_the_sales_manager_imports_leads_with_their_owners(api_as, users):
    text = "name,owner\nSiti,rep1\nAndi,\n"
    response = _import(api_as(users["sales_manager"]), text)
    assert response.status_code == 201, response.json()
    siti = Lead.objects.get(name="Siti")
    assert siti.owner == users["sales_rep"] and siti.assigned_at is not None
    assert Assignment.objects.get().lead == siti
    assert Lead.objects.get(name="Andi").owner is None


def test_an_owner_who_is_not_a_rep_of_the_team_is_a_row_error(api_as, users):
    response = _import(api_as(users["sales_manager"]), "name,owner\nSiti,rep3\n")
    assert response.status_code == 400
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [(2, "owner")]
    assert not Lead.objects.exists()


@pytest.mark.parametrize("role,owner", [("marketer", "rep1"), ("marketing_manager", "rep1"), ("sales_rep", "rep2")])
def test_importing_does_not_let_users_assign_leads_they_may_not_assign(api_as, users, sales_team, role, owner):
    response = _import(api_as(users[role]), f"name,owner\nSiti,{owner}\n", team=sales_team.pk)
    assert response.status_code in (201, 400, 403)
    assert not Lead.objects.filter(owner__isnull=False).exists()
    assert not Assignment.objects.exists()


def test_creating_a_likely_duplicate_says_so(api_as, users, sales_team):
    first = LeadFactory(team=sales_team, email="siti@contoh.co.id")
    response = api_as(users["marketer"]).post(
        "/api/v1/leads/", {"name": "Siti", "email": "Siti@Contoh.co.id", "team": sales_team.pk}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["likely_duplicates"] == [first.pk]
    listed = api_as(users["marketer"]).get("/api/v1/leads/").json()["results"]
    assert all(row["likely_duplicates"] is None for row in listed)


def test_a_nul_character_in_an_imported_cell_is_a_row_error(api_as, users, sales_team):
    response = _import(api_as(users["sales_manager"]), "name,company\nSiti,PT\x00Maju\n")
    assert response.status_code == 400
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [(2, "company")]
    assert not Lead.objects.exists()
