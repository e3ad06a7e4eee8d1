"""Lead forms at /f/<key>/ (SPEC §13), through the test client with nobody logged in: the
page in the form's language, a post that becomes a lead with its attribution, the answers
(thank-you page, 303, JSON 201), bad posts refused with nothing stored, the honeypot, the
rate limit per address, the size cap, CORS, a known person's inquiry, the same post sent
twice, and routing. Time is pinned at a Wednesday morning in Jakarta."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client

from intake.models import InboundEvent
from leads.models import Inquiry, Lead
from notifications.models import Notification
from routing.models import Decision
from slas.models import Clock
from teams import services as team_services
from tests.factories import CampaignFactory, LeadFactory, LeadFormFactory
from tests.slas.conftest import assignment_sla, jkt, response_sla  # noqa: F401

pytestmark = pytest.mark.django_db
NOW = jkt(2026, 8, 5, 10)  # a Wednesday morning, a working day
ORIGIN = "https://www.contoh.co.id"


@pytest.fixture(autouse=True)
def _pinned_time_and_limits(time_machine, settings):
    """The clock stands still (the rate limit counts per minute) and every test starts with
    no posts counted, whatever the previous test left in the cache."""
    time_machine.move_to(NOW, tick=False)
    settings.FORM_RATE_PER_MINUTE = 10
    settings.NUM_PROXIES = 0
    settings.INBOUND_MAX_BYTES = 64 * 1024
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def form(sales_team):
    return LeadFormFactory(
        team=sales_team,
        name="Minta demo",
        source="event",
        fields=["email", "phone", "company", "notes"],
        required=["email"],
        allowed_origins=[ORIGIN],
    )


def url(form) -> str:
    return f"/f/{form.key}/"


def post_json(client, form, data, **extra):
    return client.post(url(form), json.dumps(data), content_type="application/json", **extra)


def hidden(content: str, name: str) -> str | None:
    """The value of the hidden input `name` on the page, or None when there is none."""
    for tag in re.findall(r"<input[^>]*>", content):
        if 'type="hidden"' in tag and f'name="{name}"' in tag:
            found = re.search(r'value="([^"]*)"', tag)
            return found.group(1) if found else ""
    return None


def inputs(content: str) -> set[str]:
    return set(re.findall(r'<(?:input|textarea)[^>]*name="([^"]+)"', content))


def nothing_stored() -> bool:
    return not InboundEvent.objects.exists() and not Lead.objects.exists()


SITI = {
    "name": "Siti Rahma",
    "email": "Siti@PT-Maju.co.id",
    "phone": "0812-3456-7890",
    "company": "PT Maju",
    "notes": "Kami butuh demo minggu depan.",
}


# -- the page --------------------------------------------------------------------------------
def test_the_page_is_public_in_the_forms_language_with_its_fields_and_the_links_attribution_hidden(client, form):
    answer = client.get(
        url(form) + "?utm_source=newsletter&utm_campaign=Ramadan-2026&gclid=Cj0KabC&fbclid=fb.1&foo=bar",
        HTTP_REFERER="https://www.contoh.co.id/harga",
    )
    assert answer.status_code == 200
    content = answer.content.decode()
    assert '<html lang="en"' in content
    assert "Minta demo" in content
    assert {"name", "email", "phone", "company", "notes", "website"} <= inputs(content)
    assert "consent" not in inputs(content)
    assert hidden(content, "utm_source") == "newsletter"
    assert hidden(content, "utm_campaign") == "Ramadan-2026"
    assert hidden(content, "gclid") == "Cj0KabC"
    assert hidden(content, "fbclid") == "fb.1"
    assert hidden(content, "referrer") == "https://www.contoh.co.id/harga"
    assert hidden(content, "utm_medium") == ""  # there, empty: the link did not say
    assert "foo" not in inputs(content)
    assert 'action="/f/' + form.key + '/"' in content


def test_an_indonesian_form_asks_only_its_fields_in_indonesian(client, sales_team):
    form = LeadFormFactory(
        team=sales_team, language="id", fields=["phone"], required=["phone"], consent_text="Saya setuju dihubungi."
    )
    answer = client.get(url(form))
    assert answer.status_code == 200
    content = answer.content.decode()
    assert '<html lang="id"' in content
    assert {"name", "phone", "consent"} <= inputs(content)
    assert not {"email", "company", "notes"} & inputs(content)
    assert "Saya setuju dihubungi." in content
    # Its answers are in Indonesian too (Django's own words are translated already).
    refused = client.post(url(form), {"phone": "0812-3456-7890", "consent": "on"})
    assert refused.status_code == 400
    assert "Kolom ini wajib diisi." in refused.content.decode()
    answer = post_json(client, form, {"phone": "0812-3456-7890", "consent": True})
    assert answer.json() == {"name": ["Kolom ini wajib diisi."]}
    assert nothing_stored()


def test_an_unknown_or_inactive_key_answers_404_and_stores_nothing(client, form, sales_team):
    inactive = LeadFormFactory(team=sales_team, active=False)
    for key in ("no-such-key", inactive.key):
        assert client.get(f"/f/{key}/").status_code == 404
        assert client.post(f"/f/{key}/", SITI).status_code == 404
        assert client.post(f"/f/{key}/", json.dumps(SITI), content_type="application/json").status_code == 404
        assert client.options(f"/f/{key}/", HTTP_ORIGIN=ORIGIN).status_code == 404
    assert nothing_stored()


# -- a post ----------------------------------------------------------------------------------
def test_a_post_needs_no_login_nor_csrf_token_and_makes_a_lead_with_where_it_came_from(form, marketing_team):
    form.campaign = CampaignFactory(team=marketing_team, name="Pameran Agustus")
    form.save()
    browser = Client(enforce_csrf_checks=True)
    answer = browser.post(
        url(form),
        {
            **SITI,
            "utm_source": "newsletter",
            "utm_medium": "email",
            "utm_campaign": "Ramadan-2026",
            "gclid": "Cj0KabC",
            "page_url": "https://www.contoh.co.id/demo",
            "referrer": "https://www.google.com/",
        },
    )
    assert answer.status_code == 200
    assert "Thank you!" in answer.content.decode()
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.phone, lead.company) == (
        "Siti Rahma",
        "siti@pt-maju.co.id",
        "+6281234567890",
        "PT Maju",
    )
    assert lead.notes == "Kami butuh demo minggu depan."
    assert (lead.arrived_via, lead.source, lead.team, lead.campaign) == ("form", "event", form.team, form.campaign)
    assert (lead.created_by, lead.created_at, lead.status) == (None, NOW, "new")
    assert lead.attribution == {
        "utm_source": "newsletter",
        "utm_medium": "email",
        "utm_campaign": "Ramadan-2026",
        "utm_term": "",
        "utm_content": "",
        "gclid": "Cj0KabC",
        "fbclid": "",
        "ctwa_clid": "",
        "page_url": "https://www.contoh.co.id/demo",
        "referrer": "https://www.google.com/",
    }
    event = InboundEvent.objects.get()
    assert (event.channel, event.endpoint, event.state, event.lead) == ("form", form.pk, "done", lead)
    assert (event.received_at, event.processed_at, event.attempts, event.error) == (NOW, NOW, 1, "")
    assert event.remote_addr == "127.0.0.1"
    assert (lead.consent_text, lead.consent_at) == ("", None)


def test_a_form_without_a_campaign_links_the_one_whose_utm_campaign_matches_in_any_case(client, form, marketing_team):
    ramadan = CampaignFactory(team=marketing_team, name="Ramadan", utm_campaign="Ramadan-2026")
    CampaignFactory(team=marketing_team, name="Lebaran", utm_campaign="lebaran-2026")
    post_json(client, form, {**SITI, "utm_campaign": "RAMADAN-2026"})
    post_json(client, form, {"name": "Tanpa kampanye", "email": "budi@example.com", "utm_campaign": "natal"})
    post_json(client, form, {"name": "Tanpa utm", "email": "ani@example.com"})
    assert dict(Lead.objects.values_list("name", "campaign")) == {
        "Siti Rahma": ramadan.pk,
        "Tanpa kampanye": None,
        "Tanpa utm": None,
    }


def test_the_forms_own_campaign_wins_over_the_utm_campaign(client, form, marketing_team):
    CampaignFactory(team=marketing_team, name="Ramadan", utm_campaign="ramadan-2026")
    form.campaign = CampaignFactory(team=marketing_team, name="Pameran")
    form.save()
    post_json(client, form, {**SITI, "utm_campaign": "ramadan-2026"})
    assert Lead.objects.get().campaign == form.campaign


def test_a_form_with_a_redirect_url_answers_303_to_it(client, form):
    form.redirect_url = "https://www.contoh.co.id/terima-kasih"
    form.save()
    answer = client.post(url(form), SITI)
    assert answer.status_code == 303
    assert answer["Location"] == "https://www.contoh.co.id/terima-kasih"
    assert Lead.objects.get().name == "Siti Rahma"


def test_a_json_post_answers_201_with_the_lead(client, form):
    answer = post_json(client, form, SITI)
    assert answer.status_code == 201
    lead = Lead.objects.get()
    assert answer.json() == {"ok": True, "lead": lead.pk}
    assert lead.phone == "+6281234567890"
    assert lead.arrived_via == "form"


# -- bad posts -------------------------------------------------------------------------------
def test_invalid_fields_answer_400_with_the_field_errors_in_json_and_store_nothing(client, form):
    answer = post_json(client, form, {"name": "  ", "email": "bukan-email", "phone": "0812"})
    assert answer.status_code == 400
    errors = answer.json()
    assert set(errors) == {"name", "email", "phone"}
    assert errors["name"] == ["This field is required."]
    assert errors["email"] == ["Enter a valid email address."]
    assert errors["phone"] == ["“0812” is not a phone number."]
    assert nothing_stored()


def test_invalid_fields_in_a_form_encoded_post_show_the_page_again_with_its_errors(client, form):
    answer = client.post(url(form), {"name": "Siti Rahma", "email": "bukan-email", "company": "PT Maju"})
    assert answer.status_code == 400
    content = answer.content.decode()
    assert "Enter a valid email address." in content
    assert 'value="PT Maju"' in content  # what was typed is kept
    assert "Thank you!" not in content
    assert nothing_stored()


def test_each_form_requires_its_own_fields_and_ignores_what_it_does_not_ask(client, sales_team):
    form = LeadFormFactory(team=sales_team, fields=["email", "phone"], required=["phone"])
    missing = post_json(client, form, {"name": "Budi", "email": "budi@example.com"})
    assert missing.status_code == 400
    assert missing.json() == {"phone": ["This field is required."]}
    assert nothing_stored()
    made = post_json(client, form, {"name": "Budi", "phone": "0813 1111 2222", "company": "PT Tidak Ditanya"})
    assert made.status_code == 201
    lead = Lead.objects.get()
    assert (lead.phone, lead.email, lead.company) == ("+6281311112222", "", "")
    bare = LeadFormFactory(team=sales_team, fields=[], required=[])
    assert post_json(client, bare, {"name": "Cukup Nama"}).status_code == 201
    assert post_json(client, bare, {"email": "x@example.com"}).json() == {"name": ["This field is required."]}


def test_a_form_with_consent_text_needs_the_box_ticked_and_the_lead_keeps_the_words_and_time(client, form):
    form.consent_text = "Saya setuju data saya dipakai untuk dihubungi tim penjualan."
    form.save()
    refused = post_json(client, form, SITI)
    assert refused.status_code == 400
    assert refused.json() == {"consent": ["Tick the box to agree before you send."]}
    page = client.post(url(form), {**SITI, "consent": ""})
    assert page.status_code == 400 and "Tick the box to agree before you send." in page.content.decode()
    unticked = post_json(client, form, {**SITI, "consent": False})
    assert unticked.json() == {"consent": ["Tick the box to agree before you send."]}
    assert nothing_stored()
    assert client.post(url(form), {**SITI, "consent": "on"}).status_code == 200
    lead = Lead.objects.get()
    assert (lead.consent_text, lead.consent_at) == (form.consent_text, NOW)
    assert post_json(client, form, {"name": "Budi", "email": "budi@example.com", "consent": True}).status_code == 201
    assert Lead.objects.get(name="Budi").consent_text == form.consent_text


def test_a_filled_honeypot_is_answered_as_success_but_makes_no_lead(client, form):
    page = client.post(url(form), {**SITI, "website": "http://spam.example"})
    assert page.status_code == 200 and "Thank you!" in page.content.decode()
    answer = post_json(client, form, {**SITI, "website": "http://spam.example"})
    assert answer.status_code == 201 and answer.json() == {"ok": True, "lead": None}
    assert not Lead.objects.exists()
    events = InboundEvent.objects.all()
    assert [(e.state, e.channel, e.endpoint, e.lead) for e in events] == [("spam", "form", form.pk, None)] * 2
    assert events[0].payload["website"] == "http://spam.example"


# -- limits ----------------------------------------------------------------------------------
def test_the_eleventh_post_in_a_minute_from_one_address_answers_429(client, form, sales_team):
    for n in range(10):  # each with a made-up X-Forwarded-For, which changes nothing
        answer = post_json(
            client,
            form,
            {"name": f"Orang {n}", "email": f"orang{n}@example.com"},
            REMOTE_ADDR="203.0.113.7",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )
        assert answer.status_code == 201, n
    eleventh = post_json(
        client,
        form,
        {"name": "Orang 10", "email": "orang10@example.com"},
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR="198.51.100.99",
    )
    assert eleventh.status_code == 429
    assert eleventh["Retry-After"] == "60"
    assert client.post(url(form), SITI, REMOTE_ADDR="203.0.113.7").status_code == 429  # form-encoded too
    assert Lead.objects.count() == InboundEvent.objects.count() == 10
    assert set(InboundEvent.objects.values_list("remote_addr", flat=True)) == {"203.0.113.7"}
    # Another address, or another form from the same address, is not held back.
    assert (
        post_json(client, form, {"name": "Lain", "email": "lain@example.com"}, REMOTE_ADDR="203.0.113.8").status_code
        == 201
    )
    other_form = LeadFormFactory(team=sales_team)
    assert post_json(client, other_form, SITI, REMOTE_ADDR="203.0.113.7").status_code == 201


def test_the_count_starts_again_the_next_minute(client, form, time_machine):
    for n in range(11):
        post_json(client, form, {"name": f"Orang {n}", "email": f"orang{n}@example.com"}, REMOTE_ADDR="203.0.113.7")
    assert Lead.objects.count() == 10
    time_machine.move_to(NOW + timedelta(minutes=1), tick=False)
    answer = post_json(client, form, {"name": "Lagi", "email": "lagi@example.com"}, REMOTE_ADDR="203.0.113.7")
    assert answer.status_code == 201


def test_a_body_over_the_limit_answers_413_and_stores_nothing(client, form, settings):
    big = {**SITI, "notes": "x" * (64 * 1024)}
    assert client.post(url(form), big).status_code == 413
    assert post_json(client, form, big).status_code == 413
    assert nothing_stored()
    settings.INBOUND_MAX_BYTES = 200  # the setting decides
    assert post_json(client, form, {**SITI, "notes": "y" * 200}).status_code == 413
    assert nothing_stored()
    assert post_json(client, form, {"name": "Pendek", "email": "a@b.co"}).status_code == 201


@pytest.mark.parametrize("body", ["{not json", "[1, 2, 3]", '"Siti"', "\xff\xfe"])
def test_a_body_that_is_not_a_json_object_answers_400(client, form, body):
    answer = client.post(url(form), body.encode("latin-1"), content_type="application/json")
    assert answer.status_code == 400
    assert answer.json() == {"detail": "The body is not a JSON object."}
    assert nothing_stored()


@pytest.mark.parametrize("value", [{"first": "Siti"}, ["Siti", "Rahma"]])
def test_a_field_that_is_a_json_object_or_list_is_refused_not_stored_as_python(client, form, value):
    answer = post_json(client, form, {"name": value, "email": "siti@pt-maju.co.id"})
    assert answer.status_code == 400
    assert "name" in answer.json()
    assert nothing_stored()


def test_a_ten_thousand_character_name_answers_400(client, form):
    name = "A" * 10_000
    answer = post_json(client, form, {**SITI, "name": name})
    assert answer.status_code == 400
    assert answer.json() == {"name": ["Ensure this value has at most 200 characters (it has 10000)."]}
    assert client.post(url(form), {**SITI, "name": name}).status_code == 400
    assert nothing_stored()


def test_markup_in_a_post_is_stored_as_text_and_escaped_on_the_lead_page(client, form, users):
    script = "<script>alert('xss')</script>"
    answer = post_json(
        client, form, {**SITI, "name": f"Siti {script}", "company": script, "notes": script, "utm_source": script}
    )
    assert answer.status_code == 201
    lead = Lead.objects.get()
    assert (lead.name, lead.company, lead.notes) == (f"Siti {script}", script, script)
    assert lead.attribution["utm_source"] == script
    client.force_login(users["sales_manager"])
    page = client.get(f"/leads/{lead.pk}/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "<script>alert(" not in content
    assert "&lt;script&gt;alert(" in content
    # Written again, the message is on the lead's timeline, escaped too.
    post_json(client, form, {"name": "Siti", "email": SITI["email"], "notes": "<script>alert('lagi')</script>"})
    assert Inquiry.objects.get().message == "<script>alert('lagi')</script>"
    content = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "<script>alert(" not in content
    assert "&lt;script&gt;alert(&#x27;lagi&#x27;)" in content
    # And the form page showing a bad post's errors escapes what was typed.
    client.logout()
    page = client.post(url(form), {"name": script, "email": "bukan-email", "company": script})
    assert page.status_code == 400
    assert "<script>alert(" not in page.content.decode()


# -- CORS ------------------------------------------------------------------------------------
def test_a_preflight_from_an_allowed_origin_passes_and_from_another_is_refused(client, form):
    allowed = client.options(
        url(form),
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert allowed.status_code == 204
    assert allowed["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in allowed["Access-Control-Allow-Methods"]
    assert "content-type" in allowed["Access-Control-Allow-Headers"].lower()
    assert "Origin" in allowed["Vary"]
    refused = client.options(url(form), HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused
    assert client.options(url(form)).status_code == 403  # no origin at all
    assert nothing_stored()


def test_a_post_from_an_allowed_origin_carries_the_header_and_from_another_does_not(client, form):
    answer = post_json(client, form, SITI, HTTP_ORIGIN=ORIGIN)
    assert answer.status_code == 201
    assert answer["Access-Control-Allow-Origin"] == ORIGIN
    other = post_json(client, form, {"name": "Budi", "email": "budi@example.com"}, HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in other


# -- a known person --------------------------------------------------------------------------
def test_a_second_post_with_the_same_email_while_the_lead_is_open_is_an_inquiry_told_to_the_managers(
    client, form, users
):
    first = post_json(client, form, SITI).json()["lead"]
    again = post_json(
        client, form, {"name": "Siti R.", "email": "siti@pt-maju.co.id", "notes": "Apakah ada diskon untuk 20 user?"}
    )
    assert again.status_code == 201
    assert again.json() == {"ok": True, "lead": first}
    assert Lead.objects.count() == 1
    inquiry = Inquiry.objects.get()
    assert (inquiry.lead_id, inquiry.channel, inquiry.message, inquiry.at) == (
        first,
        "form",
        "Apakah ada diskon untuk 20 user?",
        NOW,
    )
    event = InboundEvent.objects.latest("pk")
    assert (event.state, event.lead_id) == ("inquiry", first)
    # Nobody owns the lead: its team's sales managers hear of it, nobody else.
    told = Notification.objects.filter(kind="inquiry")
    assert [(n.user, n.lead_id, n.inquiry) for n in told] == [(users["sales_manager"], first, inquiry)]
    # Writing once more is another inquiry; the unread notification already says so.
    post_json(client, form, {"name": "Siti", "email": "siti@pt-maju.co.id", "notes": "Halo?"})
    assert Inquiry.objects.count() == 2
    assert Notification.objects.filter(kind="inquiry").count() == 1


def test_a_known_person_who_clicks_twice_makes_one_inquiry(client, form, users):
    known = LeadFactory(team=form.team, email="siti@pt-maju.co.id", owner=users["sales_rep"])
    assert post_json(client, form, SITI).json()["lead"] == known.pk
    assert post_json(client, form, SITI).json()["lead"] == known.pk
    assert list(InboundEvent.objects.order_by("pk").values_list("state", flat=True)) == ["inquiry", "duplicate"]
    assert known.inquiries.count() == 1


def test_the_owner_of_the_open_lead_is_told_when_the_same_phone_writes_again(client, form, users):
    known = LeadFactory(
        team=form.team, email="lama@example.com", phone="+6281234567890", status="working", owner=users["sales_rep"]
    )
    answer = post_json(
        client, form, {"name": "Siti", "email": "baru@example.com", "phone": "0812 3456 7890", "notes": "Telepon saya"}
    )
    assert answer.json() == {"ok": True, "lead": known.pk}
    assert Lead.objects.count() == 1
    assert list(known.inquiries.values_list("message", flat=True)) == ["Telepon saya"]
    told = Notification.objects.filter(kind="inquiry")
    assert [(n.user, n.lead) for n in told] == [(users["sales_rep"], known)]
    assert InboundEvent.objects.get().state == "inquiry"


def test_the_same_email_on_another_teams_lead_is_not_a_known_person(client, form, other_sales_team):
    LeadFactory(team=other_sales_team, email="siti@pt-maju.co.id")
    answer = post_json(client, form, SITI)
    made = Lead.objects.get(team=form.team)
    assert answer.json()["lead"] == made.pk
    assert not Inquiry.objects.exists()
    assert InboundEvent.objects.get().state == "done"


@pytest.mark.parametrize("status", ["won", "lost", "rejected"])
def test_once_the_first_lead_is_closed_a_new_post_makes_a_new_lead(client, form, status):
    closed = LeadFactory(team=form.team, email="siti@pt-maju.co.id", phone="+6281234567890", status=status)
    answer = post_json(client, form, SITI)
    assert answer.status_code == 201
    new = Lead.objects.exclude(pk=closed.pk).get()
    assert answer.json()["lead"] == new.pk
    assert not Inquiry.objects.exists()
    assert not Notification.objects.filter(kind="inquiry").exists()
    assert InboundEvent.objects.get().state == "done"


def test_the_same_post_sent_twice_within_ten_minutes_is_the_first_one_again(client, form, time_machine):
    first = post_json(client, form, SITI).json()["lead"]
    time_machine.move_to(NOW + timedelta(minutes=10), tick=False)  # exactly ten minutes later: still the same
    again = post_json(client, form, SITI)
    assert again.status_code == 201 and again.json() == {"ok": True, "lead": first}
    assert Lead.objects.count() == 1
    assert not Inquiry.objects.exists()
    assert not Notification.objects.filter(kind="inquiry").exists()
    assert list(InboundEvent.objects.order_by("pk").values_list("state", "lead")) == [
        ("done", first),
        ("duplicate", first),
    ]
    # A second later it is the person writing again.
    time_machine.move_to(NOW + timedelta(minutes=10, seconds=1), tick=False)
    assert post_json(client, form, SITI).json() == {"ok": True, "lead": first}
    assert InboundEvent.objects.latest("pk").state == "inquiry"
    assert Inquiry.objects.get().message == SITI["notes"]


# -- routing and clocks ----------------------------------------------------------------------
def test_a_new_lead_of_an_auto_routed_team_is_routed_and_starts_its_clocks(client, form, users, response_sla):  # noqa: F811
    team_services.team_update(team=form.team, auto_route=True)
    team_services.user_away_set(user=users["other_rep"], by=users["other_rep"], away=True)
    answer = post_json(client, form, SITI)
    lead = Lead.objects.get(pk=answer.json()["lead"])
    assert (lead.owner, lead.assigned_at) == (users["sales_rep"], NOW)
    decision = Decision.objects.get(lead=lead)
    assert (decision.trigger, decision.owner, decision.by) == ("created", users["sales_rep"], None)
    clock = Clock.objects.get(lead=lead)
    assert (clock.sla, clock.owner, clock.state, clock.started_at) == (response_sla, users["sales_rep"], "running", NOW)
    assert clock.due_at > NOW


def test_a_new_lead_of_a_team_without_auto_route_waits_on_the_teams_assignment_clock(
    client,
    form,
    assignment_sla,  # noqa: F811
):
    lead = Lead.objects.get(pk=post_json(client, form, SITI).json()["lead"])
    assert lead.owner is None
    assert not Decision.objects.filter(lead=lead).exists()
    clock = Clock.objects.get(lead=lead)
    assert (clock.sla, clock.kind, clock.owner, clock.state, clock.started_at) == (
        assignment_sla,
        "assignment",
        None,
        "running",
        NOW,
    )
