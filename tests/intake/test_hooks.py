"""Inbound hooks (SPEC §13): `POST /hooks/<key>/` without a login, a signed `json` body or a
Google Ads lead form webhook, stored as an inbound event and made into a lead."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from intake import services
from intake.models import InboundEvent
from leads.models import Inquiry, Lead
from tests.factories import CampaignFactory, InboundHookFactory, LeadFactory, TeamFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 8, 5, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta"))  # a Wednesday, working hours


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(client, hook, body: bytes | dict | list, *, signature: str | None = None, signed: bool = True):
    """POST `body` (raw bytes, or JSON-encoded) to the hook, signed with its secret unless a
    `signature` is given or `signed` is False."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {}
    if signature is not None:
        headers["X-Selaras-Signature"] = signature
    elif signed:
        headers["X-Selaras-Signature"] = sign(hook.secret, raw)
    return client.post(f"/hooks/{hook.key}/", data=raw, content_type="application/json", headers=headers)


def nothing_stored() -> bool:
    return not InboundEvent.objects.exists() and not Lead.objects.exists()


@pytest.fixture
def campaign():
    return CampaignFactory(name="Q3 webinar")


@pytest.fixture
def hook(sales_team, campaign):
    return InboundHookFactory(name="Zapier", team=sales_team, campaign=campaign, source="event")


PERSON = {
    "name": "Siti Rahma",
    "email": "Siti.Rahma@Example.com",
    "phone": "0812-3456-7890",
    "company": "PT Maju Jaya",
    "notes": "Wants a demo next week.",
    "value": "15000000",
    "external_id": "zap-0001",
    "utm_source": "newsletter",
    "utm_medium": "email",
    "utm_campaign": "q3-webinar",
    "gclid": "Cj0KCQ-abc",
    "page_url": "https://www.example.co.id/webinar",
    "ignored_key": "not a lead field",
}


# -- json hooks: the happy path -------------------------------------------------------------------
def test_a_signed_json_post_makes_a_lead_of_the_hooks_team_source_and_campaign(client, hook, sales_team, campaign):
    response = post(client, hook, PERSON)
    assert response.status_code == 201
    lead = Lead.objects.get()
    assert response.json() == {"ok": True, "lead": lead.pk}
    assert (lead.name, lead.email, lead.phone, lead.company) == (
        "Siti Rahma",
        "siti.rahma@example.com",
        "+6281234567890",
        "PT Maju Jaya",
    )
    assert lead.value == Decimal("15000000")
    assert lead.notes == "Wants a demo next week."
    assert (lead.arrived_via, lead.team, lead.source, lead.campaign) == ("hook", sales_team, "event", campaign)
    assert lead.attribution["utm_source"] == "newsletter"
    assert lead.attribution["utm_medium"] == "email"
    assert lead.attribution["utm_campaign"] == "q3-webinar"
    assert lead.attribution["gclid"] == "Cj0KCQ-abc"
    assert lead.attribution["page_url"] == "https://www.example.co.id/webinar"
    assert lead.attribution["fbclid"] == ""
    assert "ignored_key" not in lead.attribution
    event = InboundEvent.objects.get()
    assert (event.channel, event.endpoint, event.external_id, event.state, event.lead) == (
        "hook",
        hook.pk,
        "zap-0001",
        "done",
        lead,
    )
    assert event.payload == PERSON
    assert event.received_at == NOW


def test_a_field_map_reads_dotted_paths_into_objects_and_lists(client, sales_team):
    hook = InboundHookFactory(
        team=sales_team,
        field_map={
            "name": "contact.full_name",
            "email": "contact.email",
            "phone": "contact.phones.1",
            "notes": "answers.0.text",
            "external_id": "submission.id",
            "utm_campaign": "tracking.campaign",
        },
    )
    body = {
        "submission": {"id": 98765},
        "contact": {
            "full_name": "Agus Wijaya",
            "email": "agus@example.com",
            "phones": ["not this one", "+62 811 2222 3333"],
        },
        "answers": [{"text": "Budget about 50 juta"}, {"text": "second answer"}],
        "tracking": {"campaign": "ramadan"},
        "name": "top-level name is not the mapped one",
    }
    response = post(client, hook, body)
    assert response.status_code == 201
    lead = Lead.objects.get()
    assert response.json()["lead"] == lead.pk
    assert (lead.name, lead.email, lead.phone, lead.notes) == (
        "Agus Wijaya",
        "agus@example.com",
        "+6281122223333",
        "Budget about 50 juta",
    )
    assert lead.attribution["utm_campaign"] == "ramadan"
    assert InboundEvent.objects.get().external_id == "98765"


def test_a_hook_without_a_campaign_joins_the_campaign_whose_utm_campaign_the_post_names(client, sales_team):
    campaign = CampaignFactory(utm_campaign="Lebaran-2026")
    hook = InboundHookFactory(team=sales_team, campaign=None)
    post(client, hook, {"name": "Rina", "utm_campaign": "lebaran-2026"})
    assert Lead.objects.get().campaign == campaign


def test_a_post_from_a_known_person_is_an_inquiry_on_their_open_lead(client, hook, sales_team):
    known = LeadFactory(team=sales_team, email="siti.rahma@example.com", status="working")
    response = post(client, hook, {"name": "Siti", "email": "SITI.RAHMA@example.com", "notes": "Any news?"})
    assert response.status_code == 201
    assert response.json() == {"ok": True, "lead": known.pk}
    assert Lead.objects.count() == 1
    inquiry = Inquiry.objects.get()
    assert (inquiry.lead, inquiry.channel, inquiry.message) == (known, "hook", "Any news?")
    assert InboundEvent.objects.get().state == "inquiry"


def test_a_known_persons_lead_in_another_team_or_closed_does_not_catch_the_post(client, hook, other_sales_team):
    LeadFactory(team=other_sales_team, email="siti@example.com")
    LeadFactory(team=hook.team, email="siti@example.com", status="lost")
    response = post(client, hook, {"name": "Siti", "email": "siti@example.com"})
    assert response.status_code == 201
    assert Lead.objects.count() == 3
    assert Lead.objects.get(pk=response.json()["lead"]).arrived_via == "hook"
    assert not Inquiry.objects.exists()


# -- json hooks: the signature ----------------------------------------------------------------
@pytest.mark.parametrize(
    "how",
    ["missing", "empty", "wrong", "hex without prefix", "another body", "another hook's secret", "the hook's key"],
)
def test_a_post_without_a_valid_signature_is_refused_401_and_stores_nothing(client, hook, sales_team, how):
    raw = json.dumps(PERSON).encode()
    other = InboundHookFactory(team=sales_team)
    signature = {
        "missing": None,
        "empty": "",
        "wrong": "sha256=" + "0" * 64,
        "hex without prefix": sign(hook.secret, raw).removeprefix("sha256="),
        "another body": sign(hook.secret, json.dumps({**PERSON, "name": "Someone else"}).encode()),
        "another hook's secret": sign(other.secret, raw),
        "the hook's key": sign(hook.key, raw),
    }[how]
    response = post(client, hook, raw, signature=signature, signed=signature is not None)
    assert response.status_code == 401
    assert "detail" in response.json()
    assert nothing_stored()


def test_a_signature_stays_valid_for_the_exact_raw_bytes_whatever_their_formatting(client, hook):
    raw = b'{\n  "name" : "Dewi Anggraini",\n  "email": "dewi@example.com"\n}'
    response = post(client, hook, raw)
    assert response.status_code == 201
    assert Lead.objects.get().name == "Dewi Anggraini"
    # The same signature on the same JSON re-serialised differently is another body.
    response = post(client, hook, json.dumps(json.loads(raw)).encode(), signature=sign(hook.secret, raw))
    assert response.status_code == 401
    assert Lead.objects.count() == 1


def test_after_a_secret_rotation_the_old_secret_is_refused(client, hook, users):
    old = hook.secret
    new = services.inbound_hook_secret_rotate(hook=hook, by=users["admin"])
    raw = json.dumps({"name": "Rudi"}).encode()
    assert post(client, hook, raw, signature=sign(old, raw)).status_code == 401
    assert post(client, hook, raw, signature=sign(new, raw)).status_code == 201
    assert Lead.objects.count() == 1


# -- json hooks: repeats -----------------------------------------------------------------------
def test_a_repeated_external_id_answers_the_first_lead_and_stores_nothing_new(client, hook):
    first = post(client, hook, PERSON)
    again = post(client, hook, PERSON)
    changed = post(client, hook, {**PERSON, "name": "Siti R.", "email": "other@example.com"})
    assert first.status_code == again.status_code == changed.status_code == 201
    lead = Lead.objects.get()
    assert first.json() == again.json() == changed.json() == {"ok": True, "lead": lead.pk}
    assert lead.name == "Siti Rahma"
    assert InboundEvent.objects.count() == 1


def test_posts_without_an_external_id_are_each_their_own_event(client, hook):
    post(client, hook, {"name": "Andi", "email": "andi@example.com"})
    post(client, hook, {"name": "Budi", "email": "budi@example.com"})
    assert Lead.objects.count() == 2
    assert InboundEvent.objects.count() == 2
    assert len(set(InboundEvent.objects.values_list("external_id", flat=True))) == 2


def test_the_same_external_id_at_two_hooks_makes_two_leads(client, hook, sales_team):
    other = InboundHookFactory(team=sales_team)
    post(client, hook, {"name": "Andi", "external_id": "42"})
    post(client, other, {"name": "Andi Saputra", "email": "andi@example.com", "external_id": "42"})
    assert Lead.objects.count() == 2
    assert InboundEvent.objects.count() == 2


# -- json hooks: bad input ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "change,field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"value": "lots"}, "value"),
        ({"value": "12,5 juta"}, "value"),
        ({"value": "NaN"}, "value"),
        ({"value": {"amount": 5}}, "value"),
        ({"value": -5}, "value"),
        ({"name": "x" * 10_000}, "name"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"phone": "call me maybe"}, "phone"),
    ],
)
def test_a_post_with_a_bad_field_answers_400_with_the_field_and_stores_nothing(client, hook, change, field):
    response = post(client, hook, {**PERSON, **change})
    assert response.status_code == 400
    assert field in response.json()
    assert nothing_stored()


def test_a_post_without_a_name_answers_400_naming_the_field(client, hook):
    body = {key: value for key, value in PERSON.items() if key != "name"}
    response = post(client, hook, body)
    assert response.status_code == 400
    assert "name" in response.json()
    assert nothing_stored()


def test_every_bad_field_is_named_at_once(client, hook):
    response = post(client, hook, {"email": "nope", "phone": "call me maybe", "value": "10"})
    assert response.status_code == 400
    assert {"name", "email", "phone"} <= set(response.json())
    assert nothing_stored()


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'{"name": "Siti"', b"", b"\xff\xfe\x00", b'["name", "Siti"]', b'"Siti"', b"42", b"null"],
)
def test_a_signed_body_that_is_not_a_json_object_answers_400_and_stores_nothing(client, hook, raw):
    response = post(client, hook, raw)
    assert response.status_code == 400
    assert "body" in response.json()
    assert nothing_stored()


def test_a_body_over_the_size_cap_answers_413_and_one_at_the_cap_is_accepted(client, hook, settings):
    cap = settings.INBOUND_MAX_BYTES
    start = json.dumps({"name": "Siti", "padding": ""}).encode()
    at_cap = json.dumps({"name": "Siti", "padding": "x" * (cap - len(start))}).encode()
    assert len(at_cap) == cap
    over = json.dumps({"name": "Siti", "padding": "x" * (cap - len(start) + 1)}).encode()
    response = post(client, hook, over)
    assert response.status_code == 413
    assert nothing_stored()
    assert post(client, hook, at_cap).status_code == 201
    assert Lead.objects.count() == 1


def test_the_size_cap_follows_the_setting(client, hook, settings):
    settings.INBOUND_MAX_BYTES = 100
    response = post(client, hook, {"name": "Siti", "notes": "n" * 100})
    assert response.status_code == 413
    assert nothing_stored()


# -- json hooks: the address --------------------------------------------------------------------
def test_an_unknown_key_answers_404(client, hook):
    raw = json.dumps(PERSON).encode()
    response = client.post(
        f"/hooks/{hook.key}x/",
        data=raw,
        content_type="application/json",
        headers={"X-Selaras-Signature": sign(hook.secret, raw)},
    )
    assert response.status_code == 404
    assert nothing_stored()


def test_an_inactive_hook_answers_404_even_when_signed(client, hook):
    hook.active = False
    hook.save()
    response = post(client, hook, PERSON)
    assert response.status_code == 404
    assert nothing_stored()


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_a_hook_only_takes_posts(client, hook, method):
    response = getattr(client, method)(f"/hooks/{hook.key}/")
    assert response.status_code == 405
    assert nothing_stored()


def test_a_hook_needs_no_login_and_no_csrf_token(hook, sales_team):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = post(strict, hook, {"name": "Siti"})
    assert response.status_code == 201
    assert Lead.objects.get().team == sales_team


# -- Google Ads lead form webhooks ---------------------------------------------------------------
def google_body(hook, **changes) -> dict:
    body = {
        "lead_id": "TeSter-123-ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789-AaBbCcDdEeFfGgHhIiJjKkLl",
        "user_column_data": [
            {"column_name": "Full Name", "string_value": "Budi Santoso", "column_id": "FULL_NAME"},
            {"column_name": "User Email", "string_value": "budi.santoso@example.com", "column_id": "EMAIL"},
            {"column_name": "User Phone", "string_value": "+6281311112222", "column_id": "PHONE_NUMBER"},
            {"column_name": "Company Name", "string_value": "PT Santoso Abadi", "column_id": "COMPANY_NAME"},
            {"column_name": "Budget", "string_value": "50jt", "column_id": "BUDGET"},
        ],
        "api_version": "1.0",
        "form_id": 40000000000,
        "campaign_id": 12345678901,
        "google_key": hook.secret,
        "is_test": False,
        "gcl_id": "EAIaIQobChMI-gclid",
    }
    body.update(changes)
    return body


@pytest.fixture
def google_hook(sales_team, users):
    hook, _secret = services.inbound_hook_create(
        by=users["admin"], name="Google Ads lead form", team=sales_team, kind="google_ads"
    )
    return hook


def test_a_google_ads_lead_with_the_hooks_key_makes_a_lead(client, google_hook, sales_team):
    response = post(client, google_hook, google_body(google_hook), signed=False)
    assert response.status_code == 200
    assert response.json() == {}
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.phone, lead.company) == (
        "Budi Santoso",
        "budi.santoso@example.com",
        "+6281311112222",
        "PT Santoso Abadi",
    )
    assert (lead.team, lead.source, lead.arrived_via) == (sales_team, "ads", "hook")
    assert lead.attribution["gclid"] == "EAIaIQobChMI-gclid"
    assert "Budget: 50jt" in lead.notes
    event = InboundEvent.objects.get()
    assert (event.state, event.lead, event.external_id) == ("done", lead, google_body(google_hook)["lead_id"])
    assert "google_key" not in event.payload


def test_a_google_ads_lead_may_give_first_and_last_name(client, google_hook):
    body = google_body(google_hook)
    body["user_column_data"] = [
        {"column_name": "First Name", "string_value": "Budi", "column_id": "FIRST_NAME"},
        {"column_name": "Last Name", "string_value": "Santoso", "column_id": "LAST_NAME"},
        {"column_name": "User Email", "string_value": "budi@example.com", "column_id": "EMAIL"},
    ]
    assert post(client, google_hook, body, signed=False).status_code == 200
    assert Lead.objects.get().name == "Budi Santoso"


def test_the_google_ads_hooks_own_source_is_kept(client, sales_team, users):
    hook, _secret = services.inbound_hook_create(
        by=users["admin"], name="Google Ads", team=sales_team, kind="google_ads", source="event"
    )
    post(client, hook, google_body(hook), signed=False)
    assert Lead.objects.get().source == "event"


@pytest.mark.parametrize("key", ["wrong-key", "", None, "missing", 12345])
def test_a_google_ads_post_without_the_hooks_key_is_refused_401_and_stores_nothing(client, google_hook, key):
    body = google_body(google_hook, google_key=key)
    if key == "missing":
        del body["google_key"]
    response = post(client, google_hook, body, signed=False)
    assert response.status_code == 401
    assert nothing_stored()


def test_a_google_ads_post_with_another_hooks_key_is_refused(client, google_hook, sales_team, users):
    _other, other_secret = services.inbound_hook_create(
        by=users["admin"], name="Other Google Ads", team=sales_team, kind="google_ads"
    )
    response = post(client, google_hook, google_body(google_hook, google_key=other_secret), signed=False)
    assert response.status_code == 401
    assert nothing_stored()


def test_a_google_ads_test_lead_is_answered_200_and_kept_as_a_test_without_the_key(client, google_hook):
    response = post(client, google_hook, google_body(google_hook, is_test=True), signed=False)
    assert response.status_code == 200
    assert response.json() == {}
    assert not Lead.objects.exists()
    event = InboundEvent.objects.get()
    assert (event.state, event.lead) == ("test", None)
    assert "google_key" not in event.payload
    assert google_hook.secret not in json.dumps(event.payload)
    assert event.payload["is_test"] is True


def test_a_repeated_google_ads_lead_id_makes_one_lead(client, google_hook):
    body = google_body(google_hook)
    assert post(client, google_hook, body, signed=False).status_code == 200
    assert post(client, google_hook, body, signed=False).status_code == 200
    assert Lead.objects.count() == 1
    assert InboundEvent.objects.count() == 1


def test_a_google_ads_lead_with_a_bad_email_answers_400_and_stores_nothing(client, google_hook):
    body = google_body(google_hook)
    body["user_column_data"][1]["string_value"] = "not an email"
    response = post(client, google_hook, body, signed=False)
    assert response.status_code == 400
    assert "email" in response.json()
    assert nothing_stored()


def test_a_google_ads_hook_answers_a_body_that_is_not_json_400(client, google_hook):
    response = post(client, google_hook, b"google_key=abc", signed=False)
    assert response.status_code == 400
    assert nothing_stored()


def test_a_google_ads_hook_and_a_json_hook_differ_in_what_they_check(client, google_hook, hook):
    # A json hook's body carrying its secret as a google_key is still unsigned.
    response = post(client, hook, {"name": "Siti", "google_key": hook.secret}, signed=False)
    assert response.status_code == 401
    # A Google Ads body signed like a json hook but without the key is still refused.
    body = google_body(google_hook)
    del body["google_key"]
    assert post(client, google_hook, body).status_code == 401
    assert nothing_stored()


def test_a_lead_from_a_hook_of_one_team_never_lands_in_another(client, hook):
    other_team = TeamFactory(name="Sales Surabaya")
    response = post(client, hook, {**PERSON, "team": other_team.pk})
    assert response.status_code == 201
    assert Lead.objects.get().team == hook.team
