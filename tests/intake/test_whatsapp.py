"""The WhatsApp Business Cloud API webhook (SPEC §13): the subscription handshake, and signed
posts of messages to mapped numbers that become leads, or inquiries of known people."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from intake.models import InboundEvent
from leads.models import Inquiry, Lead
from tests.factories import CampaignFactory, LeadFactory, WhatsAppNumberFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 8, 5, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta"))  # a Wednesday, working hours
URL = "/hooks/whatsapp/"
APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "verify-me-please"
PHONE_NUMBER_ID = "106540352242922"
WA_ID = "6281234567890"


@pytest.fixture(autouse=True)
def _pinned_clock_and_secrets(settings):
    settings.WHATSAPP_APP_SECRET = APP_SECRET
    settings.WHATSAPP_VERIFY_TOKEN = VERIFY_TOKEN
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def campaign():
    return CampaignFactory(name="Click-to-WhatsApp August")


@pytest.fixture
def number(sales_team, campaign):
    return WhatsAppNumberFactory(phone_number_id=PHONE_NUMBER_ID, team=sales_team, campaign=campaign)


def text_message(
    text: str = "Halo, saya mau tanya harga paket Pro",
    *,
    id: str = "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABIYFjNFQjBCMEQ0",
    sender: str = WA_ID,
    **extra,
) -> dict:
    return {"from": sender, "id": id, "timestamp": "1785898800", "type": "text", "text": {"body": text}, **extra}


def payload(*messages: dict, number_id: str = PHONE_NUMBER_ID, contacts: list | None = None) -> dict:
    """A Cloud API `messages` notification, as Meta posts it."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "6281100001111", "phone_number_id": number_id},
                            "contacts": [{"profile": {"name": "Dewi Lestari"}, "wa_id": WA_ID}]
                            if contacts is None
                            else contacts,
                            "messages": list(messages) or [text_message()],
                        },
                    }
                ],
            }
        ],
    }


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(client, body: dict | list | bytes, *, signature: str | None = None, signed: bool = True):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    elif signed:
        headers["X-Hub-Signature-256"] = sign(raw)
    return client.post(URL, data=raw, content_type="application/json", headers=headers)


def nothing_stored() -> bool:
    return not InboundEvent.objects.exists() and not Lead.objects.exists() and not Inquiry.objects.exists()


# -- the subscription handshake --------------------------------------------------------------------
def test_the_verification_request_with_the_token_answers_the_challenge_as_text(client):
    response = client.get(
        URL, {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "C"},
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN.upper(), "hub.challenge": "C"},
        {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "C"},
        {"hub.mode": "subscribe", "hub.challenge": "C"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "C"},
        {},
    ],
)
def test_the_verification_request_without_the_token_answers_403(client, params):
    response = client.get(URL, params)
    assert response.status_code == 403
    assert b"C" not in response.content


@pytest.mark.parametrize("given", ["", "anything"])
def test_no_verification_succeeds_while_the_token_setting_is_empty(client, settings, given):
    settings.WHATSAPP_VERIFY_TOKEN = ""
    response = client.get(URL, {"hub.mode": "subscribe", "hub.verify_token": given, "hub.challenge": "C"})
    assert response.status_code == 403


# -- messages that become leads ---------------------------------------------------------------------
def test_a_message_from_a_new_person_makes_a_lead_of_the_numbers_team(client, number, sales_team, campaign):
    response = post(client, payload())
    assert response.status_code == 200
    lead = Lead.objects.get()
    assert (lead.name, lead.phone, lead.email) == ("Dewi Lestari", "+6281234567890", "")
    assert (lead.source, lead.arrived_via, lead.team, lead.campaign) == ("whatsapp", "whatsapp", sales_team, campaign)
    assert "Halo, saya mau tanya harga paket Pro" in lead.notes
    event = InboundEvent.objects.get()
    assert (event.channel, event.endpoint, event.external_id, event.state, event.lead) == (
        "whatsapp",
        number.pk,
        text_message()["id"],
        "done",
        lead,
    )
    assert event.received_at == NOW


def test_a_message_from_a_click_to_whatsapp_ad_is_an_ads_lead_with_its_attribution(client, number):
    referral = {
        "source_url": "https://fb.me/3cr4Wqqkv",
        "source_id": "120208512345670123",
        "source_type": "ad",
        "headline": "Diskon 20% paket Pro",
        "body": "Chat kami sekarang",
        "media_type": "image",
        "image_url": "https://scontent.example/ad.jpg",
        "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv",
    }
    response = post(client, payload(text_message(referral=referral)))
    assert response.status_code == 200
    lead = Lead.objects.get()
    assert (lead.source, lead.arrived_via) == ("ads", "whatsapp")
    assert lead.attribution["ctwa_clid"] == referral["ctwa_clid"]
    assert lead.attribution["page_url"] == "https://fb.me/3cr4Wqqkv"
    assert lead.attribution["utm_content"] == "Diskon 20% paket Pro"
    assert lead.campaign == number.campaign


def test_a_number_without_a_campaign_makes_leads_without_one(client, sales_team):
    WhatsAppNumberFactory(phone_number_id=PHONE_NUMBER_ID, team=sales_team, campaign=None)
    post(client, payload())
    assert Lead.objects.get().campaign is None


def test_a_sender_without_a_profile_name_is_named_by_their_number(client, number):
    post(client, payload(contacts=[]))
    lead = Lead.objects.get()
    assert (lead.name, lead.phone) == ("+6281234567890", "+6281234567890")


def test_an_image_with_a_caption_puts_the_kind_and_caption_in_the_notes(client, number):
    image = {
        "from": WA_ID,
        "id": "wamid.image-1",
        "timestamp": "1785898800",
        "type": "image",
        "image": {"caption": "Spesifikasi yang saya cari", "mime_type": "image/jpeg", "sha256": "abc", "id": "12345"},
    }
    post(client, payload(image))
    assert "[image] Spesifikasi yang saya cari" in Lead.objects.get().notes


# -- known people --------------------------------------------------------------------------------------
def test_a_second_message_while_the_lead_is_open_is_an_inquiry_not_a_second_lead(client, number):
    post(client, payload(text_message("Halo", id="wamid.1")))
    response = post(client, payload(text_message("Masih ada stok?", id="wamid.2")))
    assert response.status_code == 200
    lead = Lead.objects.get()
    inquiry = Inquiry.objects.get()
    assert (inquiry.lead, inquiry.channel, inquiry.message) == (lead, "whatsapp", "Masih ada stok?")
    second = InboundEvent.objects.get(external_id="wamid.2")
    assert (second.state, second.lead) == ("inquiry", lead)
    assert InboundEvent.objects.count() == 2


def test_a_message_from_the_phone_of_an_open_lead_entered_by_hand_is_an_inquiry_on_it(client, number, sales_team):
    known = LeadFactory(team=sales_team, phone="+6281234567890", status="working")
    post(client, payload())
    assert Lead.objects.count() == 1
    assert Inquiry.objects.get().lead == known
    assert InboundEvent.objects.get().state == "inquiry"


def test_a_closed_lead_or_another_teams_lead_with_the_phone_does_not_catch_the_message(
    client, number, sales_team, other_sales_team
):
    LeadFactory(team=sales_team, phone="+6281234567890", status="lost")
    LeadFactory(team=other_sales_team, phone="+6281234567890")
    post(client, payload())
    assert Lead.objects.count() == 3
    new = InboundEvent.objects.get().lead
    assert (new.team, new.arrived_via) == (sales_team, "whatsapp")
    assert not Inquiry.objects.exists()


# -- repeats and batches --------------------------------------------------------------------------------
def test_the_same_message_posted_twice_is_one_event_and_one_lead(client, number):
    body = payload()
    assert post(client, body).status_code == 200
    assert post(client, body).status_code == 200
    assert InboundEvent.objects.count() == 1
    assert Lead.objects.count() == 1
    assert not Inquiry.objects.exists()


def test_two_messages_in_one_post_are_two_events(client, number):
    contacts = [
        {"profile": {"name": "Dewi Lestari"}, "wa_id": WA_ID},
        {"profile": {"name": "Eko Prasetyo"}, "wa_id": "6285711112222"},
    ]
    body = payload(
        text_message("Halo", id="wamid.a"),
        text_message("Selamat pagi", id="wamid.b", sender="6285711112222"),
        contacts=contacts,
    )
    assert post(client, body).status_code == 200
    assert set(InboundEvent.objects.values_list("external_id", flat=True)) == {"wamid.a", "wamid.b"}
    assert set(Lead.objects.values_list("name", "phone")) == {
        ("Dewi Lestari", "+6281234567890"),
        ("Eko Prasetyo", "+6285711112222"),
    }


def test_two_messages_from_one_person_in_one_post_are_a_lead_and_an_inquiry(client, number):
    body = payload(text_message("Halo", id="wamid.a"), text_message("Ada promo?", id="wamid.b"))
    post(client, body)
    assert InboundEvent.objects.count() == 2
    lead = Lead.objects.get()
    assert Inquiry.objects.get().lead == lead
    assert set(InboundEvent.objects.values_list("state", flat=True)) == {"done", "inquiry"}


def test_messages_to_two_numbers_in_one_post_go_to_each_numbers_team(client, number, other_sales_team):
    WhatsAppNumberFactory(phone_number_id="200000000000001", team=other_sales_team)
    body = payload(text_message(id="wamid.x"))
    second = copy.deepcopy(body["entry"][0])
    second["changes"][0]["value"]["metadata"]["phone_number_id"] = "200000000000001"
    second["changes"][0]["value"]["messages"][0]["id"] = "wamid.y"
    body["entry"].append(second)
    post(client, body)
    assert {(lead.team_id) for lead in Lead.objects.all()} == {number.team_id, other_sales_team.pk}


# -- what is passed over ---------------------------------------------------------------------------------
def test_a_post_of_status_updates_is_accepted_and_stores_nothing(client, number):
    body = payload()
    value = body["entry"][0]["changes"][0]["value"]
    del value["messages"], value["contacts"]
    value["statuses"] = [
        {
            "id": "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABEYEjQ",
            "status": "delivered",
            "timestamp": "1785898860",
            "recipient_id": WA_ID,
            "conversation": {"id": "abc", "origin": {"type": "service"}},
            "pricing": {"billable": True, "pricing_model": "CBP", "category": "service"},
        }
    ]
    response = post(client, body)
    assert response.status_code == 200
    assert nothing_stored()


@pytest.mark.parametrize("how", ["unmapped", "inactive"])
def test_a_message_to_an_unmapped_or_inactive_number_is_accepted_and_stores_nothing(client, number, how):
    if how == "unmapped":
        body = payload(number_id="999999999999999")
    else:
        number.active = False
        number.save()
        body = payload()
    response = post(client, body)
    assert response.status_code == 200
    assert nothing_stored()


def _without_messages(body):
    del body["entry"][0]["changes"][0]["value"]["messages"]


def _message_without_id(body):
    del body["entry"][0]["changes"][0]["value"]["messages"][0]["id"]


def _message_without_sender(body):
    del body["entry"][0]["changes"][0]["value"]["messages"][0]["from"]


def _entry_not_a_list(body):
    body["entry"] = {"id": "1", "changes": body["entry"][0]["changes"]}


def _entry_missing(body):
    del body["entry"]


def _changes_not_a_list(body):
    body["entry"][0]["changes"] = "messages"


def _value_not_an_object(body):
    body["entry"][0]["changes"][0]["value"] = ["messages"]


def _metadata_missing(body):
    del body["entry"][0]["changes"][0]["value"]["metadata"]


def _messages_an_object(body):
    value = body["entry"][0]["changes"][0]["value"]
    value["messages"] = value["messages"][0]


def _message_a_string(body):
    body["entry"][0]["changes"][0]["value"]["messages"] = ["hello"]


def _entries_of_strings(body):
    body["entry"] = ["one", 2, None]


@pytest.mark.parametrize(
    "damage",
    [
        _without_messages,
        _message_without_id,
        _message_without_sender,
        _entry_not_a_list,
        _entry_missing,
        _changes_not_a_list,
        _value_not_an_object,
        _metadata_missing,
        _messages_an_object,
        _message_a_string,
        _entries_of_strings,
    ],
)
def test_a_post_missing_what_a_message_needs_is_accepted_and_stores_nothing(client, number, damage):
    body = payload()
    damage(body)
    response = post(client, body)
    assert response.status_code == 200
    assert nothing_stored()


def test_unknown_extra_keys_everywhere_are_ignored_and_the_message_still_makes_a_lead(client, number):
    body = payload(text_message(context={"from": "x", "id": "y"}, errors=[], future_field={"a": 1}))
    body["brand_new"] = True
    body["entry"][0]["extra"] = [1, 2]
    body["entry"][0]["changes"][0]["value"]["something"] = {"nested": "yes"}
    body["entry"][0]["changes"][0]["value"]["contacts"][0]["unknown"] = "z"
    response = post(client, body)
    assert response.status_code == 200
    lead = Lead.objects.get()
    assert lead.name == "Dewi Lestari"
    assert InboundEvent.objects.get().state == "done"


@pytest.mark.parametrize(
    "kind,part",
    [
        ("text", "not an object"),
        ("image", None),
        ("interactive", {"type": "button_reply", "button_reply": "not an object"}),
        ("unknown", {"what": "ever"}),
        ("", {}),
    ],
)
def test_a_message_of_an_odd_shape_makes_a_lead_without_a_500(client, number, kind, part):
    message = {"from": WA_ID, "id": "wamid.odd", "timestamp": "1785898800", "type": kind, kind or "x": part}
    response = post(client, payload(message))
    assert response.status_code == 200
    event = InboundEvent.objects.get()
    assert event.state == "done"
    assert Lead.objects.get() == event.lead


def test_an_interactive_reply_puts_its_title_in_the_notes(client, number):
    message = {
        "from": WA_ID,
        "id": "wamid.button",
        "timestamp": "1785898800",
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": "pro", "title": "Paket Pro"}},
    }
    post(client, payload(message))
    assert "Paket Pro" in Lead.objects.get().notes


# -- the signature ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["missing", "empty", "wrong", "another secret", "another body", "no prefix"])
def test_a_post_without_a_valid_signature_answers_401_and_stores_nothing(client, number, how):
    raw = json.dumps(payload()).encode()
    signature = {
        "missing": None,
        "empty": "",
        "wrong": "sha256=" + "f" * 64,
        "another secret": sign(raw, "another-app-secret"),
        "another body": sign(json.dumps(payload(text_message("other"))).encode()),
        "no prefix": sign(raw).removeprefix("sha256="),
    }[how]
    response = post(client, raw, signature=signature, signed=signature is not None)
    assert response.status_code == 401
    assert nothing_stored()


def test_no_post_is_accepted_while_the_app_secret_setting_is_empty(client, number, settings):
    settings.WHATSAPP_APP_SECRET = ""
    raw = json.dumps(payload()).encode()
    response = post(client, raw, signature=sign(raw, ""))
    assert response.status_code == 401
    assert nothing_stored()


def test_a_selaras_signature_is_not_a_whatsapp_signature(client, number):
    raw = json.dumps(payload()).encode()
    response = client.post(URL, data=raw, content_type="application/json", headers={"X-Selaras-Signature": sign(raw)})
    assert response.status_code == 401
    assert nothing_stored()


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2]", b"\xff\xfe"])
def test_a_signed_body_that_is_not_a_json_object_answers_400_and_stores_nothing(client, number, raw):
    response = post(client, raw)
    assert response.status_code == 400
    assert nothing_stored()


def test_a_body_over_the_whatsapp_size_cap_answers_413(client, number, settings):
    settings.WHATSAPP_MAX_BYTES = 500
    body = payload(text_message("x" * 600))
    response = post(client, body)
    assert response.status_code == 413
    assert nothing_stored()


def test_the_webhook_needs_no_login_and_no_csrf_token(number):
    from django.test import Client

    response = post(Client(enforce_csrf_checks=True), payload())
    assert response.status_code == 200
    assert Lead.objects.count() == 1


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_the_webhook_takes_only_get_and_post(client, method):
    assert getattr(client, method)(URL).status_code == 405


@pytest.mark.parametrize("sender", ["abc", "12", {"wa_id": WA_ID}])
def test_a_message_whose_sender_is_not_a_phone_number_answers_200_and_makes_no_lead(client, number, sender):
    response = post(client, payload(text_message(sender=sender)))
    assert response.status_code == 200
    assert not Lead.objects.exists()
    assert not Inquiry.objects.exists()
    assert not InboundEvent.objects.filter(lead__isnull=False).exists()
