"""Lead pages: list, queue, detail and quick actions, create, import, bulk assign, export, campaigns."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.models import Assignment, Campaign, ImportBatch, Lead, Rejection, Touch
from tests.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db


def _names(response) -> set[str]:
    return {lead.name for lead in response.context["page"].object_list}


def _csv_upload(text: str, name: str = "leads.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def _query_count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries)


# -- login ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["/leads/", "/leads/queue/", "/leads/new/", "/leads/export/", "/leads/campaigns/"])
def test_lead_pages_need_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# -- list ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "role,expected",
    [
        ("sales_rep", {"Own Lead", "Unassigned Lead"}),
        ("sales_manager", {"Own Lead", "Teammate Lead", "Unassigned Lead"}),
        ("other_manager", {"Papua Lead"}),
        ("marketer", {"Own Lead", "Teammate Lead", "Unassigned Lead", "Papua Lead"}),
    ],
)
def test_the_list_shows_only_visible_leads(client, users, leads, role, expected):
    client.force_login(users[role])
    response = client.get("/leads/")
    assert response.status_code == 200
    assert _names(response) == expected
    page = response.content.decode()
    for lead in leads.values():
        assert (lead.name in page) == (lead.name in expected)


def test_the_list_filters_by_status_and_search(client, users, sales_team):
    LeadFactory(name="Andi", team=sales_team, status="working", company="CV Sentosa")
    LeadFactory(name="Budi", team=sales_team, company="PT Maju Jaya")
    LeadFactory(name="Citra", team=sales_team, email="citra@majujaya.co.id")
    client.force_login(users["sales_manager"])
    assert _names(client.get("/leads/?status=working")) == {"Andi"}
    assert _names(client.get("/leads/?status=new")) == {"Budi", "Citra"}
    assert _names(client.get("/leads/?q=maju")) == {"Budi", "Citra"}
    assert _names(client.get("/leads/?q=maju&status=working")) == set()
    assert "No lead matches these filters." in client.get("/leads/?q=nobody").content.decode()


def test_the_list_is_paginated(client, users, sales_team):
    LeadFactory.create_batch(60, team=sales_team)
    client.force_login(users["sales_manager"])
    first = client.get("/leads/")
    assert first.context["page"].paginator.count == 60
    assert len(first.context["page"].object_list) == 50
    assert "page=2" in first.content.decode()
    second = client.get("/leads/?page=2")
    assert second.status_code == 200
    assert second.context["page"].number == 2
    assert len(second.context["page"].object_list) == 10
    ids = [lead.pk for page in (first, second) for lead in page.context["page"].object_list]
    assert sorted(ids) == sorted(Lead.objects.values_list("pk", flat=True))


def test_the_list_offers_bulk_assignment_to_managers_only(client, users, leads):
    client.force_login(users["sales_manager"])
    assert 'name="leads"' in client.get("/leads/").content.decode()
    client.force_login(users["sales_rep"])
    assert 'name="leads"' not in client.get("/leads/").content.decode()


# -- queue ---------------------------------------------------------------------------------------
def test_the_queue_shows_the_reps_open_leads_unanswered_first(client, users, sales_team):
    rep, now = users["sales_rep"], timezone.now()
    answered = LeadFactory(name="Answered", team=sales_team, owner=rep, created_at=now - timedelta(hours=3))
    Touch.objects.create(lead=answered, user=rep, kind="call", occurred_at=now - timedelta(hours=2, minutes=50))
    LeadFactory(name="Waiting Longest", team=sales_team, owner=rep, created_at=now - timedelta(hours=2))
    LeadFactory(name="Waiting Less", team=sales_team, owner=rep, created_at=now - timedelta(hours=1))
    LeadFactory(name="Closed Won", team=sales_team, owner=rep, status="won", closed_at=now)
    LeadFactory(name="Teammate Lead", team=sales_team, owner=users["other_rep"])
    client.force_login(rep)
    response = client.get("/leads/queue/")
    assert response.status_code == 200
    assert [lead.name for lead in response.context["queue"].leads] == ["Waiting Longest", "Waiting Less", "Answered"]
    assert response.context["queue"].unanswered == 2
    page = response.content.decode()
    assert page.index("Waiting Longest") < page.index("Waiting Less") < page.index("Answered")
    assert "Closed Won" not in page and "Teammate Lead" not in page


def test_a_long_queue_is_paged_fifty_at_a_time_in_the_same_order(client, users, sales_team):
    rep, now = users["sales_rep"], timezone.now()
    for n in range(53):
        LeadFactory(name=f"Lead {n:02d}", team=sales_team, owner=rep, created_at=now - timedelta(hours=60 - n))
    answered = LeadFactory(name="Answered", team=sales_team, owner=rep, created_at=now - timedelta(hours=99))
    Touch.objects.create(lead=answered, user=rep, kind="call", occurred_at=now - timedelta(hours=1))
    client.force_login(rep)
    first = client.get("/leads/queue/")
    assert [lead.name for lead in first.context["queue"].leads] == [f"Lead {n:02d}" for n in range(50)]
    assert first.context["queue"].unanswered == 53  # counted over every page
    html = first.content.decode()
    assert "54 open leads" in html and "Page 1 of 2" in html and 'href="?page=2"' in html
    second = client.get("/leads/queue/?page=2")
    assert [lead.name for lead in second.context["queue"].leads] == ["Lead 50", "Lead 51", "Lead 52", "Answered"]
    assert client.get("/leads/queue/?page=99").context["page"].number == 2  # past the end: the last page
    assert client.get("/leads/queue/?page=x").context["page"].number == 1


def test_a_rep_sees_the_teams_unassigned_leads_with_a_take_it_button(client, users, leads, other_sales_team):
    LeadFactory(name="Papua Unassigned", team=other_sales_team)
    client.force_login(users["sales_rep"])
    response = client.get("/leads/queue/")
    page = response.content.decode()
    assert [lead.name for lead in response.context["unassigned"]] == ["Unassigned Lead"]
    assert "Take it" in page
    assert f'action="/leads/{leads["unassigned"].pk}/claim/"' in page
    assert "Papua Unassigned" not in page


def test_an_empty_queue_says_so(client, users):
    client.force_login(users["sales_rep"])
    page = client.get("/leads/queue/").content.decode()
    assert "Your queue is empty" in page
    assert "Take it" not in page


# -- detail --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "role,kind,status",
    [
        ("sales_rep", "own", 200),
        ("sales_rep", "unassigned", 200),
        ("sales_rep", "teammate", 404),
        ("sales_rep", "other_team", 404),
        ("sales_manager", "teammate", 200),
        ("sales_manager", "other_team", 404),
        ("marketer", "other_team", 200),
        ("other_manager", "own", 404),
    ],
)
def test_lead_detail_is_found_only_when_visible(client, users, leads, role, kind, status):
    client.force_login(users[role])
    response = client.get(f"/leads/{leads[kind].pk}/")
    assert response.status_code == status
    if status == 200:
        assert leads[kind].name in response.content.decode()


def test_a_missing_lead_is_404(client, users):
    client.force_login(users["admin"])
    assert client.get("/leads/999999/").status_code == 404


# -- quick actions -------------------------------------------------------------------------------
def test_logging_a_touch_redirects_back_to_the_lead(client, users, leads):
    lead = leads["own"]
    client.force_login(users["sales_rep"])
    response = client.post(f"/leads/{lead.pk}/touch/", {"kind": "call", "outcome": "no_answer"})
    assert response.status_code == 302
    assert response["Location"] == f"/leads/{lead.pk}/"
    touch = Touch.objects.get(lead=lead)
    assert (touch.kind, touch.outcome, touch.user) == ("call", "no_answer", users["sales_rep"])
    lead.refresh_from_db()
    assert lead.status == "working"


def test_logging_a_touch_with_htmx_returns_the_refreshed_fragment(client, users, leads):
    lead = leads["own"]
    client.force_login(users["sales_rep"])
    response = client.post(f"/leads/{lead.pk}/touch/", {"kind": "call", "fragment": "timeline"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="lead-activity"' in page
    assert "Call logged for Own Lead." in page
    assert "<html" not in page
    assert Touch.objects.filter(lead=lead, kind="call").count() == 1


def test_logging_a_touch_from_the_queue_with_htmx_returns_the_card(client, users, leads):
    lead = leads["own"]
    client.force_login(users["sales_rep"])
    response = client.post(f"/leads/{lead.pk}/touch/", {"kind": "email", "fragment": "queue"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="queue-lead-{lead.pk}"' in page
    assert "Follow-ups: 1" in page and "Call logged" not in page and "E-mail logged for Own Lead." in page
    assert 'name="next" value="/leads/queue/"' in page  # a plain post from the new card goes back to the queue


def test_a_touch_without_a_kind_is_refused_and_nothing_is_logged(client, users, leads):
    client.force_login(users["sales_rep"])
    response = client.post(f"/leads/{leads['own'].pk}/touch/", {"kind": "fax"})
    assert response.status_code == 400
    assert not Touch.objects.exists()


def test_a_bad_touch_with_htmx_answers_422_retargeted_to_the_flash_area(client, users, leads):
    client.force_login(users["sales_rep"])
    future = (timezone.localtime() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/leads/{leads['own'].pk}/touch/", {"kind": "call", "occurred_at": future}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#flash-area"
    assert "cannot be in the future" in response.content.decode()
    assert not Touch.objects.exists()


@pytest.mark.parametrize("role", ["marketer", "marketing_manager"])
def test_marketing_may_not_log_touches(client, users, leads, role):
    client.force_login(users[role])
    assert client.post(f"/leads/{leads['own'].pk}/touch/", {"kind": "call"}).status_code == 403
    assert not Touch.objects.exists()


def test_touching_another_reps_lead_is_not_found(client, users, leads):
    client.force_login(users["sales_rep"])
    assert client.post(f"/leads/{leads['teammate'].pk}/touch/", {"kind": "call"}).status_code == 404
    assert not Touch.objects.exists()


def test_a_rep_claims_an_unassigned_lead_of_their_team(client, users, leads):
    lead = leads["unassigned"]
    client.force_login(users["sales_rep"])
    response = client.post(f"/leads/{lead.pk}/claim/", {"next": "/leads/queue/"})
    assert response.status_code == 302
    assert response["Location"] == "/leads/queue/"
    lead.refresh_from_db()
    assert lead.owner == users["sales_rep"] and lead.assigned_at is not None
    assert Assignment.objects.get(lead=lead).owner == users["sales_rep"]


def test_a_rep_cannot_claim_another_reps_lead(client, users, leads):
    client.force_login(users["sales_rep"])
    assert client.post(f"/leads/{leads['teammate'].pk}/claim/").status_code == 404
    assert Lead.objects.get(pk=leads["teammate"].pk).owner == users["other_rep"]


def test_the_detail_offers_a_rep_to_take_an_unassigned_lead(client, users, leads):
    client.force_login(users["sales_rep"])
    page = client.get(f"/leads/{leads['unassigned'].pk}/").content.decode()
    assert "Take this lead" in page
    assert "Log a follow-up" not in page  # not theirs yet
    page = client.get(f"/leads/{leads['own'].pk}/").content.decode()
    assert "Take this lead" not in page and "Log a follow-up" in page


@pytest.mark.parametrize("role,status", [("sales_rep", 200), ("sales_manager", 200), ("marketer", 403)])
def test_only_who_works_the_lead_edits_it(client, users, leads, role, status):
    client.force_login(users[role])
    assert client.get(f"/leads/{leads['own'].pk}/edit/").status_code == status
    response = client.post(f"/leads/{leads['own'].pk}/edit/", {"name": "Renamed", "source": "web"})
    assert response.status_code == (302 if status == 200 else 403)
    assert Lead.objects.get(pk=leads["own"].pk).name == ("Renamed" if status == 200 else "Own Lead")


def test_rejecting_without_a_reason_is_refused_and_changes_nothing(client, users, leads):
    lead = leads["own"]
    client.force_login(users["sales_rep"])
    response = client.post(f"/leads/{lead.pk}/reject/", {"note": "no reason given"})
    assert response.status_code == 400
    lead.refresh_from_db()
    assert (lead.status, lead.closed_at) == ("new", None)
    assert not Rejection.objects.exists()


def test_rejecting_with_a_reason_closes_the_lead(client, users, leads):
    lead = leads["own"]
    client.force_login(users["sales_rep"])
    response = client.post(f"/leads/{lead.pk}/reject/", {"reason": "spam", "note": "Bot"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == "rejected" and lead.closed_at is not None
    assert Rejection.objects.get(lead=lead).reason == "spam"


# -- new lead ------------------------------------------------------------------------------------
def test_a_marketer_creates_a_lead_for_a_sales_team(client, users, sales_team):
    client.force_login(users["marketer"])
    form = client.get("/leads/new/")
    assert form.status_code == 200
    assert "Sales Jakarta" in form.content.decode()
    response = client.post(
        "/leads/new/",
        {
            "name": "Siti Rahma",
            "email": "siti@contoh.co.id",
            "company": "PT Maju Jaya",
            "source": "web",
            "team": sales_team.pk,
        },
    )
    lead = Lead.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/leads/{lead.pk}/"
    assert (lead.name, lead.team, lead.status, lead.owner, lead.created_by) == (
        "Siti Rahma",
        sales_team,
        "new",
        None,
        users["marketer"],
    )


def test_an_invalid_email_shows_the_form_error_and_creates_nothing(client, users, sales_team):
    client.force_login(users["marketer"])
    response = client.post(
        "/leads/new/", {"name": "Siti", "email": "siti-at-contoh", "source": "web", "team": sales_team.pk}
    )
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert "Enter a valid email address." in response.content.decode()
    assert not Lead.objects.exists()


def test_a_rep_cannot_create_a_lead_for_another_team(client, users, sales_team, other_sales_team):
    client.force_login(users["sales_rep"])
    response = client.post("/leads/new/", {"name": "Siti", "source": "web", "team": other_sales_team.pk})
    assert response.status_code == 200
    assert "team" in response.context["form"].errors
    assert not Lead.objects.exists()


# -- import --------------------------------------------------------------------------------------
GOOD_CSV = (
    "nama,email,perusahaan,sumber,telepon\n"
    "Siti Rahma,siti@contoh.co.id,PT Maju Jaya,web,+62 812 1111 2222\n"
    "Andi Wijaya,andi@contoh.co.id,CV Sentosa,event,\n"
)


def test_import_previews_then_confirms_exactly_once(client, users, sales_team):
    client.force_login(users["marketer"])
    preview = client.post("/leads/import/", {"file": _csv_upload(GOOD_CSV), "team": sales_team.pk})
    assert preview.status_code == 200
    batch = preview.context["batch"]
    page = preview.content.decode()
    assert f'action="/leads/import/{batch.pk}/confirm/"' in page
    assert "Import 2 leads" in page and "Siti Rahma" in page
    assert not Lead.objects.exists()

    confirm = client.post(f"/leads/import/{batch.pk}/confirm/")
    assert confirm.status_code == 302
    assert confirm["Location"] == f"/leads/?team={sales_team.pk}"
    assert sorted(Lead.objects.values_list("name", flat=True)) == ["Andi Wijaya", "Siti Rahma"]
    assert set(Lead.objects.values_list("team", flat=True)) == {sales_team.pk}

    again = client.post(f"/leads/import/{batch.pk}/confirm/", follow=True)
    assert "This file was already imported." in again.content.decode()
    assert Lead.objects.count() == 2


def test_import_of_a_bad_file_lists_the_problems_and_keeps_nothing(client, users, sales_team):
    client.force_login(users["marketer"])
    text = "name,email\nSiti,siti@contoh.co.id\nAndi,andi-at-contoh\n"
    response = client.post("/leads/import/", {"file": _csv_upload(text), "team": sales_team.pk})
    assert response.status_code == 400
    assert [(e.row, e.column) for e in response.context["report"].errors] == [(3, "email")]
    assert "nothing was created" in response.content.decode()
    assert not ImportBatch.objects.exists()
    assert not Lead.objects.exists()


def test_another_user_cannot_confirm_someone_elses_import(client, users, sales_team):
    client.force_login(users["marketer"])
    preview = client.post("/leads/import/", {"file": _csv_upload(GOOD_CSV), "team": sales_team.pk})
    batch = preview.context["batch"]
    client.force_login(users["marketing_manager"])
    assert client.post(f"/leads/import/{batch.pk}/confirm/").status_code == 404
    assert not Lead.objects.exists()


# -- bulk assignment -----------------------------------------------------------------------------
def test_the_sales_manager_bulk_assigns_ticked_leads_to_a_rep(client, users, sales_team):
    ticked = LeadFactory.create_batch(3, team=sales_team)
    untouched = LeadFactory(team=sales_team)
    client.force_login(users["sales_manager"])
    response = client.post(
        "/leads/bulk-assign/", {"leads": [lead.pk for lead in ticked], "owner": users["sales_rep"].pk}, follow=True
    )
    assert response.status_code == 200
    assert "3 leads assigned." in response.content.decode()
    assert set(Lead.objects.filter(pk__in=[lead.pk for lead in ticked]).values_list("owner", flat=True)) == {
        users["sales_rep"].pk
    }
    assert Assignment.objects.filter(owner=users["sales_rep"]).count() == 3
    untouched.refresh_from_db()
    assert untouched.owner is None


def test_round_robin_shares_the_leads_among_the_teams_reps(client, users, sales_team):
    ticked = LeadFactory.create_batch(4, team=sales_team)
    client.force_login(users["sales_manager"])
    response = client.post("/leads/bulk-assign/", {"leads": [lead.pk for lead in ticked], "round_robin": "on"})
    assert response.status_code == 302
    owners = Counter(Lead.objects.values_list("owner", flat=True))
    assert owners == {users["sales_rep"].pk: 2, users["other_rep"].pk: 2}


def test_bulk_assign_without_an_owner_or_round_robin_shows_an_error(client, users, sales_team):
    lead = LeadFactory(team=sales_team)
    client.force_login(users["sales_manager"])
    response = client.post("/leads/bulk-assign/", {"leads": [lead.pk]}, follow=True)
    assert "Choose a rep, or share the leads out in turn." in response.content.decode()
    lead.refresh_from_db()
    assert lead.owner is None


def test_one_closed_lead_refuses_the_whole_bulk_assignment(client, users, sales_team):
    open_lead = LeadFactory(team=sales_team)
    closed = LeadFactory(team=sales_team, status="lost", closed_at=timezone.now())
    client.force_login(users["sales_manager"])
    response = client.post(
        "/leads/bulk-assign/", {"leads": [open_lead.pk, closed.pk], "owner": users["sales_rep"].pk}, follow=True
    )
    assert "This lead is closed." in response.content.decode()
    assert not Lead.objects.filter(owner__isnull=False).exists()
    assert not Assignment.objects.exists()


def test_an_admin_bulk_assigns_ticked_leads_to_a_rep(client, users, sales_team):
    ticked = LeadFactory.create_batch(2, team=sales_team)
    client.force_login(users["admin"])
    rep = users["sales_rep"]
    page = client.get("/leads/").content.decode()
    assert f'<option value="{rep.pk}">{rep} ({rep.team})</option>' in page  # not the admin's team
    client.post("/leads/bulk-assign/", {"leads": [lead.pk for lead in ticked], "owner": users["sales_rep"].pk})
    assert set(Lead.objects.values_list("owner", flat=True)) == {users["sales_rep"].pk}


@pytest.mark.parametrize("payload", [{"owner": "other_rep"}, {"round_robin": "on"}])
def test_a_rep_may_not_bulk_assign(client, users, sales_team, payload):
    unassigned = LeadFactory.create_batch(2, team=sales_team)
    payload = {**payload, "leads": [lead.pk for lead in unassigned]}
    if "owner" in payload:
        payload["owner"] = users[payload["owner"]].pk
    client.force_login(users["sales_rep"])
    response = client.post("/leads/bulk-assign/", payload)
    assert response.status_code in (302, 403)
    assert not Lead.objects.filter(owner__isnull=False).exists()
    assert not Assignment.objects.exists()


def test_a_manager_cannot_bulk_assign_another_teams_leads(client, users, other_sales_team):
    lead = LeadFactory(team=other_sales_team)
    client.force_login(users["sales_manager"])
    response = client.post("/leads/bulk-assign/", {"leads": [lead.pk], "owner": users["sales_rep"].pk})
    assert response.status_code in (302, 403)
    lead.refresh_from_db()
    assert lead.owner is None


# -- export --------------------------------------------------------------------------------------
def test_export_streams_a_csv_of_the_visible_leads(client, users, leads):
    client.force_login(users["sales_rep"])
    response = client.get("/leads/export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:2] == ["id", "name"]
    assert sorted(row[1] for row in rows[1:]) == ["Own Lead", "Unassigned Lead"]


def test_export_applies_the_filters_and_escapes_formulas(client, users, sales_team):
    LeadFactory(name="=HYPERLINK(1)", team=sales_team, status="working")
    LeadFactory(name="Plain", team=sales_team)
    client.force_login(users["sales_manager"])
    response = client.get("/leads/export/?status=working")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == ["'=HYPERLINK(1)"]


# -- campaigns -----------------------------------------------------------------------------------
def test_campaign_list_and_detail_are_open_to_everyone(client, users, marketing_team, sales_team):
    campaign = CampaignFactory(name="Expo Jakarta", team=marketing_team)
    LeadFactory(team=sales_team, campaign=campaign, status="won")
    client.force_login(users["sales_rep"])
    listing = client.get("/leads/campaigns/")
    assert listing.status_code == 200
    assert "Expo Jakarta" in listing.content.decode()
    assert "New campaign" not in listing.content.decode()
    detail = client.get(f"/leads/campaigns/{campaign.pk}/")
    assert detail.status_code == 200
    assert "Expo Jakarta" in detail.content.decode()
    assert detail.context["campaign"].won_count == 1


def test_a_marketing_manager_creates_a_campaign(client, users, marketing_team):
    client.force_login(users["marketing_manager"])
    assert client.get("/leads/campaigns/new/").status_code == 200
    response = client.post(
        "/leads/campaigns/new/",
        {
            "name": "Promo Lebaran",
            "channel": "social",
            "team": marketing_team.pk,
            "start_date": "2026-03-01",
            "end_date": "2026-04-15",
            "spend": "25000000",
            "currency": "IDR",
        },
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/leads/campaigns/{campaign.pk}/"
    assert (campaign.name, campaign.team, campaign.channel) == ("Promo Lebaran", marketing_team, "social")


def test_a_campaign_ending_before_it_starts_is_refused(client, users, marketing_team):
    client.force_login(users["marketing_manager"])
    response = client.post(
        "/leads/campaigns/new/",
        {
            "name": "Backwards",
            "channel": "social",
            "team": marketing_team.pk,
            "start_date": "2026-04-15",
            "end_date": "2026-03-01",
            "spend": "0",
            "currency": "IDR",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("role", ["sales_rep", "marketer", "sales_manager"])
def test_others_may_not_create_or_edit_campaigns(client, users, marketing_team, role):
    campaign = CampaignFactory(name="Expo Jakarta", team=marketing_team)
    client.force_login(users[role])
    assert client.get("/leads/campaigns/new/").status_code == 403
    data = {"name": "X", "channel": "social", "team": marketing_team.pk, "start_date": "2026-03-01", "spend": "0"}
    assert client.post("/leads/campaigns/new/", data).status_code == 403
    assert client.post(f"/leads/campaigns/{campaign.pk}/edit/", data).status_code == 403
    assert list(Campaign.objects.values_list("name", flat=True)) == ["Expo Jakarta"]


# -- query budgets -------------------------------------------------------------------------------
# Recorded baselines (SPEC §10): a page's queries do not grow with its rows.
LIST_QUERIES = 11
QUEUE_QUERIES = 6  # the order of every open lead (counts included), then the page's cards


def _many_leads(n: int, *, team, reps, campaign) -> None:
    """Leads that exercise every related row a list row shows: owners, campaigns, unassigned."""
    for i in range(n):
        owner = reps[i % (len(reps) + 1)] if i % (len(reps) + 1) < len(reps) else None
        LeadFactory(team=team, owner=owner, campaign=campaign if i % 2 else None, value=1000 * i)


def test_the_lead_list_uses_the_same_number_of_queries_for_5_and_200_leads(
    client, users, sales_team, marketing_team, django_assert_max_num_queries
):
    reps, campaign = [users["sales_rep"], users["other_rep"]], CampaignFactory(team=marketing_team)
    _many_leads(5, team=sales_team, reps=reps, campaign=campaign)
    client.force_login(users["sales_manager"])
    client.get("/leads/")  # warm up the session and caches
    small = _query_count(client, "/leads/")
    assert small <= LIST_QUERIES
    _many_leads(195, team=sales_team, reps=reps, campaign=campaign)
    with django_assert_max_num_queries(small):
        response = client.get("/leads/")
    assert len(response.context["page"].object_list) == 50
    assert _query_count(client, "/leads/") == small


def test_the_queue_uses_the_same_number_of_queries_for_5_and_200_leads(
    client, users, sales_team, django_assert_max_num_queries
):
    rep, now = users["sales_rep"], timezone.now()

    def add(n: int) -> None:
        for i in range(n):
            lead = LeadFactory(team=sales_team, owner=rep, created_at=now - timedelta(hours=1))
            if i % 2:
                Touch.objects.create(lead=lead, user=rep, kind="call", occurred_at=now)
            LeadFactory(team=sales_team)  # unassigned, listed under "Take it"

    add(5)
    client.force_login(rep)
    client.get("/leads/queue/")  # warm up the session and caches
    small = _query_count(client, "/leads/queue/")
    assert small <= QUEUE_QUERIES
    add(195)
    with django_assert_max_num_queries(small):
        response = client.get("/leads/queue/")
    assert len(response.context["queue"].leads) == 50 and response.context["page"].paginator.count == 200
    assert _query_count(client, "/leads/queue/") == small


def test_ids_are_never_grouped_in_pages(client, users, sales_team):
    lead = LeadFactory(id=12345, team=sales_team, owner=users["sales_rep"])
    client.force_login(users["sales_manager"])
    page = client.get("/leads/").content.decode()
    assert f'value="{lead.pk}"' in page and "12,345" not in page and "12.345" not in page
    client.force_login(users["sales_rep"])
    assert 'id="queue-lead-12345"' in client.get("/leads/queue/").content.decode()


def test_the_lead_list_keeps_the_chosen_filters_selected_and_escapes_the_choices(client, users, sales_team):
    campaign = CampaignFactory(name="<i>Flash</i> & sale", team=users["marketer"].team)
    LeadFactory(team=sales_team, owner=users["sales_rep"], status="new", campaign=campaign, name="Chosen")
    client.force_login(users["sales_manager"])
    query = {"status": ["new", "working"], "owner": users["sales_rep"].pk, "campaign": campaign.pk, "sla": ""}
    page = client.get("/leads/", query).content.decode()
    assert '<option value="new" selected>' in page and '<option value="working" selected>' in page
    assert '<option value="won">' in page
    assert f'<option value="{users["sales_rep"].pk}" selected>{users["sales_rep"]}</option>' in page
    assert f'<option value="{campaign.pk}" selected>&lt;i&gt;Flash&lt;/i&gt; &amp; sale</option>' in page
    assert (
        '<select name="sla" id="id_sla" class="form-select"><option value="">Any</option><option value="at_risk">'
        in page
    )
    assert "Chosen" in page


@pytest.mark.parametrize(
    ("role", "shown"),
    [("sales_manager", False), ("sales_rep", False), ("marketer", True), ("marketing_manager", True), ("admin", True)],
)
def test_the_team_filter_is_offered_to_those_who_see_more_than_one_team(client, users, sales_team, role, shown):
    LeadFactory(team=sales_team, owner=users["sales_rep"])
    client.force_login(users[role])
    page = client.get("/leads/").content.decode()
    assert ('<select name="team" id="id_team"' in page) is shown
    assert f'<option value="{sales_team.pk}">{sales_team.name}</option>' in page or not shown
