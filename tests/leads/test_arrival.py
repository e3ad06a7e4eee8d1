"""How a lead arrived and where from (SPEC §2): `arrived_via` and `attribution`, read-only;
phones in E.164, read in the team's country; old numbers normalised by a migration, an
unreadable one kept and flagged; campaigns' `utm_campaign`."""

from __future__ import annotations

import importlib
from io import BytesIO

import phonenumbers
import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from leads import services
from leads.models import Lead
from leads.phones import phone_display, phone_e164
from tests.factories import LeadFactory
from tests.slas.conftest import jkt

pytestmark = pytest.mark.django_db
LEADS = "/api/v1/leads/"
EMPTY = dict.fromkeys(
    ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "gclid", "fbclid", "ctwa_clid",
     "page_url", "referrer"], "",
)  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("0812-3456-7890", "ID", "+6281234567890"),
        ("+62 812 3456 7890", "ID", "+6281234567890"),
        ("6281234567890", "ID", "+6281234567890"),
        ("(021) 555-1234", "ID", "+62215551234"),
        ("8123 4567", "SG", "+6581234567"),
        ("+1 415 555 0100", "ID", "+14155550100"),
        ("0812-3456-7890", "", "+6281234567890"),  # a team without a holiday country reads Indonesian numbers
        ("  ", "ID", ""),
    ],
)
def test_a_phone_is_stored_in_e164_read_in_the_teams_country(raw, region, expected):
    assert phone_e164(raw, region=region) == expected


@pytest.mark.parametrize("raw", ["0812", "abc", "+62 8", "123456789012345678"])
def test_what_is_not_a_phone_number_is_refused(raw):
    with pytest.raises(ValidationError, match="is not a phone number"):
        phone_e164(raw, region="ID")


def test_a_stored_number_is_shown_as_people_write_it():
    assert phone_display("+6281234567890") == "+62 812-3456-7890"
    assert phone_display("0812") == "0812"


def test_a_number_shown_again_is_not_parsed_again(monkeypatch):
    """A queue shows each card's number three times: it is parsed once."""
    parsed = []
    parse = phonenumbers.parse
    monkeypatch.setattr(phonenumbers, "parse", lambda *args: parsed.append(args) or parse(*args))
    phone_display.cache_clear()
    shown = [phone_display("+6281298765432") for _ in range(3)]
    assert shown == ["+62 812-9876-5432"] * 3
    assert len(parsed) == 1


def test_a_lead_made_by_hand_by_api_and_by_import_says_so(client, api_as, users, sales_team):
    client.force_login(users["marketer"])
    client.post("/leads/new/", {"name": "By hand", "source": "web", "team": sales_team.pk, "phone": "0812 1111 2222"})
    answer = api_as(users["marketer"]).post(LEADS, {"name": "By API", "team": sales_team.pk}, format="json")
    assert answer.status_code == 201
    assert (answer.json()["arrived_via"], answer.json()["attribution"]) == ("api", EMPTY)
    rows = "name,email\nBy import,imported@contoh.co.id\n"
    services.leads_import(file=BytesIO(rows.encode()), team=sales_team, by=users["marketer"])
    assert dict(Lead.objects.values_list("name", "arrived_via")) == {
        "By hand": "manual",
        "By API": "api",
        "By import": "import",
    }
    assert Lead.objects.get(name="By hand").phone == "+6281211112222"


def test_arrival_is_read_only_and_a_bad_phone_answers_400_writing_nothing(api_as, users, sales_team):
    api = api_as(users["marketer"])
    bad = api.post(LEADS, {"name": "Siti", "team": sales_team.pk, "phone": "0812"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["phone"] == ["“0812” is not a phone number."]
    assert not Lead.objects.exists()
    made = api.post(
        LEADS,
        {"name": "Siti", "team": sales_team.pk, "arrived_via": "whatsapp", "attribution": {"gclid": "forged"}},
        format="json",
    ).json()
    assert (made["arrived_via"], made["attribution"]["gclid"]) == ("api", "")


def test_an_old_number_the_migration_could_not_read_is_kept_flagged_until_corrected(users, sales_team, client):
    migration = importlib.import_module("leads.migrations.0007_phones_e164")
    good = LeadFactory(team=sales_team, phone="0812-3456-7890", created_at=jkt(2026, 8, 5, 9))
    odd = LeadFactory(team=sales_team, phone="ext. 12", created_at=jkt(2026, 8, 5, 9))
    done = LeadFactory(team=sales_team, phone="+6281299998888", created_at=jkt(2026, 8, 5, 9))
    Lead.objects.filter(pk__in=[good.pk, odd.pk]).update(phone_unreadable=False)
    migration.forwards(apps, None)
    values = dict(Lead.objects.values_list("pk", "phone"))
    assert (values[good.pk], values[odd.pk], values[done.pk]) == ("+6281234567890", "ext. 12", "+6281299998888")
    assert list(Lead.objects.filter(phone_unreadable=True)) == [odd]
    odd.refresh_from_db()
    services.lead_update(lead=odd, by=users["admin"], company="PT Maju")  # other fields still edit
    client.force_login(users["admin"])
    assert "Not a phone number Selaras can read" in client.get(f"/leads/{odd.pk}/").content.decode()
    services.lead_update(lead=odd, by=users["admin"], phone="0812 7777 6666")
    odd.refresh_from_db()
    assert (odd.phone, odd.phone_unreadable) == ("+6281277776666", False)


def test_an_import_row_with_a_bad_phone_is_reported_and_nothing_is_created(users, sales_team):
    rows = "name,phone\nSiti,+62 812 3456 7890\nAndi,0812\n"
    report = services.leads_import(file=BytesIO(rows.encode()), team=sales_team, by=users["marketer"])
    assert [(e.row, e.column, e.message) for e in report.errors] == [(3, "phone", "“0812” is not a phone number.")]
    assert not Lead.objects.exists()


def test_the_lead_page_says_how_it_arrived_and_from_where(client, users, sales_team):
    lead = LeadFactory(
        team=sales_team, name="Siti", phone="+6281234567890", arrived_via="form", created_at=jkt(2026, 8, 5, 9),
        attribution={**EMPTY, "utm_source": "google", "utm_campaign": "promo-erp"},
    )  # fmt: skip
    client.force_login(users["admin"])
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "Lead form" in page and "utm_source: google · utm_campaign: promo-erp" in page
    assert "+62 812-3456-7890" in page


def test_a_campaign_carries_its_utm_campaign(api_as, users, marketing_team):
    answer = api_as(users["marketing_manager"]).post(
        "/api/v1/campaigns/",
        {"name": "Promo ERP", "team": marketing_team.pk, "start_date": "2026-08-01", "utm_campaign": "promo-erp"},
        format="json",
    )
    assert answer.status_code == 201 and answer.json()["utm_campaign"] == "promo-erp"
