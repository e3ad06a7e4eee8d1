"""Intake's pages (SPEC §13): who opens them, what a form's page offers (link, snippet,
preview, counts), a hook's secret shown once with a signed example, failed events retried."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from django.utils import timezone

from intake.models import InboundEvent, InboundHook, LeadForm, WhatsAppNumber
from leads.models import Lead
from tests.factories import InboundHookFactory, LeadFormFactory, WhatsAppNumberFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["admin", "marketing_manager", "marketer", "sales_manager"])
def test_the_overview_opens_for_those_who_manage_forms_and_shows_an_empty_state(client, users, role):
    client.force_login(users[role])
    response = client.get("/intake/")
    assert response.status_code == 200
    assert "No form yet." in response.content.decode()
    assert ("WhatsApp numbers" in response.content.decode()) == (role == "admin")


@pytest.mark.parametrize("role", ["sales_rep", "other_rep"])
def test_reps_may_not_open_intake(client, users, role):
    client.force_login(users[role])
    assert client.get("/intake/").status_code == 403
    assert client.get("/intake/forms/new/").status_code == 403


def test_a_marketer_adds_a_form_and_finds_its_link_snippet_and_preview(client, users, sales_team):
    client.force_login(users["marketer"])
    response = client.post(
        "/intake/forms/new/",
        {
            "name": "Ask for a demo",
            "team": sales_team.pk,
            "source": "web",
            "language": "en",
            "fields_asked": ["email", "phone"],
            "required_fields": ["phone"],
            "consent_text": "You may call me.",
            "origins": "https://www.example.com\nhttps://shop.example.com",
            "active": "on",
        },
    )
    form = LeadForm.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/intake/forms/{form.pk}/"
    assert (form.fields, form.required, form.allowed_origins, form.created_by) == (
        ["email", "phone"],
        ["phone"],
        ["https://shop.example.com", "https://www.example.com"],
        users["marketer"],
    )
    page = client.get(f"/intake/forms/{form.pk}/").content.decode()
    assert f"http://testserver/f/{form.key}/" in page
    # The snippet is shown as text (escaped), with the honeypot and the attribution fields.
    assert "&lt;form method=&quot;post&quot; action=&quot;http://testserver/f/" in page
    assert "name=&quot;website&quot;" in page and "name=&quot;utm_campaign&quot;" in page
    assert "You may call me." in page  # the preview's consent box


def test_a_form_with_bad_settings_shows_errors_and_saves_nothing(client, users, sales_team, marketing_team):
    client.force_login(users["admin"])
    response = client.post(
        "/intake/forms/new/",
        {
            "name": "Bad",
            "team": sales_team.pk,
            "source": "web",
            "language": "en",
            "fields_asked": ["email"],
            "required_fields": ["phone"],
            "origins": "https://www.example.com/path",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "required_fields" in errors and "origins" in errors
    assert not LeadForm.objects.exists()


def test_another_teams_manager_does_not_find_a_form(client, users, sales_team):
    form = LeadFormFactory(team=sales_team)
    client.force_login(users["other_manager"])
    assert client.get(f"/intake/forms/{form.pk}/").status_code == 404
    client.force_login(users["sales_manager"])
    assert client.get(f"/intake/forms/{form.pk}/").status_code == 200


def test_the_forms_counts_follow_its_posts(client, users, sales_team):
    form = LeadFormFactory(team=sales_team, required=[])
    client.post(f"/f/{form.key}/", {"name": "Budi", "email": "budi@example.com"})
    client.post(f"/f/{form.key}/", {"name": "Budi", "email": "budi@example.com", "notes": "Again"})
    client.post(f"/f/{form.key}/", {"name": "Bot", "website": "http://spam.example"})
    client.force_login(users["marketer"])
    listed = client.get("/intake/").context["forms"][0]
    assert (listed.done_count, listed.inquiry_count, listed.spam_count) == (1, 1, 1)


def test_a_hooks_secret_and_signed_example_are_shown_once(client, users, sales_team):
    client.force_login(users["marketing_manager"])
    response = client.post(
        "/intake/hooks/new/",
        {
            "name": "Zapier",
            "team": sales_team.pk,
            "source": "web",
            "kind": "json",
            "mapping": "email = contact.email",
            "active": "on",
        },
    )
    hook = InboundHook.objects.get()
    assert hook.field_map == {"email": "contact.email"}
    page = client.get(response["Location"]).content.decode()
    assert hook.secret in page
    example = page.split("BODY='", 1)[1].split("'", 1)[0].replace("&quot;", '"')
    expected = "sha256=" + hmac.new(hook.secret.encode(), example.encode(), hashlib.sha256).hexdigest()
    assert f"SIGNATURE='{expected}'" in page
    # The example is a request that works.
    answer = client.post(
        f"/hooks/{hook.key}/", example, content_type="application/json", headers={"X-Selaras-Signature": expected}
    )
    assert answer.status_code == 201 and Lead.objects.get().name == "Budi Santoso"
    again = client.get(response["Location"]).content.decode()
    assert hook.secret not in again and "SIGNATURE='sha256=" not in again


def test_a_hook_field_map_written_badly_is_a_form_error(client, users, sales_team):
    client.force_login(users["admin"])
    response = client.post(
        "/intake/hooks/new/",
        {"name": "Zapier", "team": sales_team.pk, "source": "web", "kind": "json", "mapping": "email contact.email"},
    )
    assert response.status_code == 200 and "mapping" in response.context["form"].errors
    response = client.post(
        "/intake/hooks/new/",
        {"name": "Zapier", "team": sales_team.pk, "source": "web", "kind": "json", "mapping": "shoe_size = a.b"},
    )
    assert response.status_code == 200 and "mapping" in response.context["form"].errors
    assert not InboundHook.objects.exists()


def test_rotating_a_hooks_secret_refuses_the_old_one(client, users, sales_team):
    hook = InboundHookFactory(team=sales_team)
    old = hook.secret
    client.force_login(users["sales_manager"])
    response = client.post(f"/intake/hooks/{hook.pk}/secret/")
    hook.refresh_from_db()
    assert response.status_code == 302 and hook.secret != old
    assert hook.secret in client.get(response["Location"]).content.decode()
    body = json.dumps({"name": "Budi"}).encode()
    signed_old = "sha256=" + hmac.new(old.encode(), body, hashlib.sha256).hexdigest()
    refused = client.post(
        f"/hooks/{hook.key}/", body, content_type="application/json", headers={"X-Selaras-Signature": signed_old}
    )
    assert refused.status_code == 401


def test_a_google_ads_hook_shows_how_to_set_it_up(client, users, sales_team):
    hook = InboundHookFactory(team=sales_team, kind="google_ads")
    client.force_login(users["marketer"])
    page = client.get(f"/intake/hooks/{hook.pk}/").content.decode()
    assert "Send test data" in page and "user_column_data" in page and hook.secret not in page


def test_only_admins_map_whatsapp_numbers(client, users, sales_team):
    client.force_login(users["marketing_manager"])
    assert client.get("/intake/whatsapp/new/").status_code == 403
    client.force_login(users["admin"])
    response = client.post(
        "/intake/whatsapp/new/", {"phone_number_id": "109876543210", "name": "Sales WA", "team": sales_team.pk}
    )
    assert response.status_code == 302
    number = WhatsAppNumber.objects.get()
    assert client.get(f"/intake/whatsapp/{number.pk}/").status_code == 200
    response = client.post("/intake/whatsapp/new/", {"phone_number_id": "10987x", "team": sales_team.pk})
    assert response.status_code == 200 and "phone_number_id" in response.context["form"].errors


def test_an_admin_retries_a_failed_event_in_place(client, users, sales_team):
    form = LeadFormFactory(team=sales_team)
    event = InboundEvent.objects.create(
        channel="form", endpoint=form.pk, external_id="x1", payload={"name": "Rudi", "email": "rudi@example.com"},
        state="failed", error="RuntimeError: away", next_attempt_at=timezone.now(),
    )  # fmt: skip
    client.force_login(users["admin"])
    overview = client.get("/intake/").content.decode()
    assert "Some posts could not be processed." in overview
    assert "RuntimeError: away" in client.get("/intake/failed/").content.decode()
    response = client.post(f"/intake/failed/{event.pk}/retry/", headers={"HX-Request": "true"})
    event.refresh_from_db()
    assert response.status_code == 200 and event.state == "done"
    assert event.lead.name == "Rudi" and "New lead" in response.content.decode()
    assert "Nothing failed" in client.get("/intake/failed/").content.decode()


def test_a_whatsapp_numbers_latest_messages_are_listed(client, users, sales_team):
    number = WhatsAppNumberFactory(team=sales_team)
    InboundEvent.objects.create(channel="whatsapp", endpoint=number.pk, external_id="wamid.ABC", payload={})
    client.force_login(users["admin"])
    assert "wamid.ABC" in client.get(f"/intake/whatsapp/{number.pk}/").content.decode()


def test_a_lead_page_says_which_whatsapp_ad_it_came_from_and_the_consent_given(client, users, sales_team):
    from intake.services import event_process, event_store

    number = WhatsAppNumberFactory(team=sales_team)
    now = timezone.now()
    message = {
        "from": "6281299998888",
        "id": "wamid.AD1",
        "type": "text",
        "text": {"body": "Harga?"},
        "referral": {"headline": "Promo ERP", "source_url": "https://fb.me/x", "ctwa_clid": "c1"},
    }
    event, _new = event_store(
        channel="whatsapp", endpoint=number.pk, external_id="wamid.AD1", payload={"message": message}, now=now
    )
    lead = event_process(event_id=event.pk, now=now).lead
    client.force_login(users["sales_manager"])
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "WhatsApp ad “Promo ERP”" in page and "ctwa_clid: c1" in page

    form = LeadFormFactory(team=sales_team, required=[], consent_text="You may call me.")
    client.post(f"/f/{form.key}/", {"name": "Sari", "email": "sari@example.com", "consent": "on"})
    consented = Lead.objects.get(name="Sari")
    page = client.get(f"/leads/{consented.pk}/").content.decode()
    assert "Agreed to “You may call me.”" in page and "Lead form" in page


def test_the_preview_and_snippet_speak_the_forms_language_whatever_the_viewers(client, users, sales_team):
    form = LeadFormFactory(team=sales_team, language="id", fields=["phone"], required=["phone"])
    client.force_login(users["marketer"])  # whose pages are in English
    page = client.get(f"/intake/forms/{form.pk}/").content.decode()
    assert "Settings" in page  # the page itself in the viewer's language
    preview = page.split('id="preview-heading"', 1)[1].split('id="preview-note"', 1)[0]
    assert "Nama Anda" in preview and "Telepon atau WhatsApp" in preview and "Your name" not in preview
    snippet = page.split("HTML snippet", 1)[1]
    assert "Nama Anda &lt;input name=&quot;name&quot;" in snippet


def test_no_template_comment_shows_on_the_pages(client, users, sales_team):
    form = LeadFormFactory(team=sales_team)
    hook = InboundHookFactory(team=sales_team)
    client.force_login(users["admin"])
    for path in ("/intake/", f"/intake/forms/{form.pk}/", f"/intake/hooks/{hook.pk}/", "/intake/failed/"):
        page = client.get(path).content.decode()
        assert "{#" not in page and "{%" not in page, path
