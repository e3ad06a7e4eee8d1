"""Intake in the demo (`manage.py seed_demo`): a lead form with its snippet, a Google Ads hook
and a WhatsApp number, and a few leads that arrived through each (one a known person writing
again, one a Google test, one spam), all through the same services as real posts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from intake import services
from intake.models import Channel, InboundHook, LeadForm, WhatsAppNumber
from leads.models import Campaign
from teams.models import Team, User

FORM_NAME = "Minta demo Selaras ERP"
WHATSAPP_NUMBER_ID = "109876543210987"
UTM_CAMPAIGNS = {"Google Ads ERP Indonesia": "erp-indonesia", "Webinar Transformasi Digital": "webinar-digital"}


def seed(*, now: datetime) -> int:
    """Add the demo's form, hook and number and their leads when missing; returns the posts made."""
    if LeadForm.objects.filter(name=FORM_NAME).exists():
        return 0
    jakarta = Team.objects.get(name="Sales Jakarta")
    marketer, admin = User.objects.get(username="marketing.manager"), User.objects.get(username="admin")
    for name, utm in UTM_CAMPAIGNS.items():
        Campaign.objects.filter(name=name).update(utm_campaign=utm)
    ads = Campaign.objects.filter(name="Google Ads ERP Indonesia").first()
    form = services.lead_form_create(
        by=marketer,
        name=FORM_NAME,
        team=jakarta,
        source="web",
        language="id",
        fields=["email", "phone", "company", "notes"],
        required=["phone"],
        consent_text="Saya setuju dihubungi oleh tim penjualan tentang permintaan ini.",
    )
    hook, secret = services.inbound_hook_create(
        by=marketer,
        name="Google Ads: formulir prospek ERP",
        team=jakarta,
        kind=InboundHook.Kind.GOOGLE_ADS,
        campaign=ads,
    )
    number = services.whatsapp_number_create(
        by=admin, phone_number_id=WHATSAPP_NUMBER_ID, name="WhatsApp Sales Jakarta", team=jakarta, campaign=None
    )
    return _form_posts(form, now) + _google_posts(hook, secret, now) + _whatsapp_messages(number, now)


def _form_posts(form: LeadForm, now: datetime) -> int:
    people = [
        ("Rina Wulandari", "rina@sinarabadi.co.id", "0812-7000-1001", "CV Sinar Abadi", "instagram", "webinar-digital"),
        ("Yusuf Hakim", "yusuf@majubersama.id", "0813-7000-2002", "PT Maju Bersama", "google", "erp-indonesia"),
    ]
    for minutes, (name, email, phone, company, source, campaign) in zip((95, 40), people, strict=True):
        data = {
            "name": name,
            "email": email,
            "phone": phone,
            "company": company,
            "notes": "Mohon info harga untuk 20 pengguna.",
            "consent": True,
            "utm_source": source,
            "utm_medium": "social" if source == "instagram" else "cpc",
            "utm_campaign": campaign,
            "page_url": "https://www.example.co.id/erp",
        }
        services.form_post_accept(form=form, data=data, remote_addr="127.0.0.1", now=now - timedelta(minutes=minutes))
    spam = {"name": "Cheap SEO", "email": "seo@spam.example", "website": "http://spam.example"}
    services.form_spam_record(form=form, data=spam, remote_addr="127.0.0.1", now=now - timedelta(minutes=30))
    return 3


def _google_posts(hook: InboundHook, secret: str, now: datetime) -> int:
    for lead_id, is_test, name in (("demo-gads-0001", False, "Siti Rahmawati"), ("TeSter-demo", True, "Test Lead")):
        body = {
            "lead_id": lead_id,
            "api_version": "1.0",
            "form_id": 40000000001,
            "campaign_id": 20000000001,
            "google_key": secret,
            "is_test": is_test,
            "gcl_id": "Cj0KCQiA-demo-gclid",
            "user_column_data": [
                {"column_name": "Full Name", "string_value": name, "column_id": "FULL_NAME"},
                {"column_name": "User Phone", "string_value": "+6281570003003", "column_id": "PHONE_NUMBER"},
                {"column_name": "Company Name", "string_value": "PT Sentosa Logistik", "column_id": "COMPANY_NAME"},
                {"column_name": "Jumlah pengguna", "string_value": "50", "column_id": "NUMBER_OF_USERS"},
            ],
        }
        services.hook_post_accept(
            hook=hook,
            body=json.dumps(body).encode(),
            signature="",
            remote_addr="127.0.0.1",
            now=now - timedelta(minutes=25),
        )
    return 2


def _whatsapp_messages(number: WhatsAppNumber, now: datetime) -> int:
    """A click-to-WhatsApp ad's chat, then the same person writing again: a lead, then an
    inquiry on it. Stored and processed as the webhook would, without its signature."""
    contact = {"profile": {"name": "Agus Salim"}, "wa_id": "6281180004004"}
    referral = {
        "source_url": "https://fb.me/demo-promo-erp",
        "source_type": "ad",
        "source_id": "120200000000001",
        "headline": "Promo ERP",
        "ctwa_clid": "ARAkLkA-demo-ctwa",
    }
    texts = [("wamid.demo-0001", "Halo, saya lihat iklan Promo ERP. Bisa minta harga?", referral, 20)]
    texts.append(("wamid.demo-0002", "Kami butuh untuk 3 cabang.", None, 12))
    for message_id, text, ad, minutes in texts:
        message = {"from": contact["wa_id"], "id": message_id, "type": "text", "text": {"body": text}}
        if ad:
            message["referral"] = ad
        at = now - timedelta(minutes=minutes)
        event, _created = services.event_store(
            channel=Channel.WHATSAPP,
            endpoint=number.pk,
            external_id=message_id,
            payload={"message": message, "contact": contact},
            now=at,
        )
        services.event_process(event_id=event.pk, now=at)
    return 2
