"""Posts that arrive at a lead form, an inbound hook or the WhatsApp webhook (SPEC §13):
checked (signature, fields), stored as inbound events, then processed at once. The views
hand over what they read from the request; nothing here knows of HTTP."""

from __future__ import annotations

import hmac
import json
import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from intake import reading
from intake.models import Channel, InboundEvent, InboundHook, LeadForm, WhatsAppNumber
from intake.reading import Arrival
from intake.services.events import event_process, event_store
from intake.signatures import signature_valid
from leads import services as leads_services
from leads.models import ATTRIBUTION_KEYS

State = InboundEvent.State
FORM_KEYS = ("name", "email", "phone", "company", "notes")


class Refused(Exception):
    """A post without a valid signature or key: answered 401, nothing stored."""


def form_post_accept(*, form: LeadForm, data: dict[str, Any], remote_addr: str, now: datetime) -> InboundEvent:
    """A lead form's post, its fields already checked by the form: stored, then processed.
    `data` holds the asked fields, `consent` and the attribution keys."""
    payload = {key: str(data.get(key) or "") for key in (*FORM_KEYS, *ATTRIBUTION_KEYS) if data.get(key)}
    if form.consent_text and data.get("consent"):
        payload["consent_text"] = form.consent_text
    arrival = reading.form_arrival(payload, source=form.source)
    event, _created = event_store(
        channel=Channel.FORM,
        endpoint=form.pk,
        external_id=uuid.uuid4().hex,
        payload=payload,
        fingerprint=arrival.fingerprint(),
        remote_addr=remote_addr,
        now=now,
    )
    return event_process(event_id=event.pk, now=now)


def form_spam_record(*, form: LeadForm, data: dict[str, Any], remote_addr: str, now: datetime) -> InboundEvent:
    """A post whose honeypot was filled in: kept as spam (for the form's counts), no lead."""
    payload = {key: str(data.get(key) or "")[:200] for key in (*FORM_KEYS, "website") if data.get(key)}
    event, _created = event_store(
        channel=Channel.FORM,
        endpoint=form.pk,
        external_id=uuid.uuid4().hex,
        payload=payload,
        remote_addr=remote_addr,
        state=State.SPAM,
        now=now,
    )
    return event


def hook_post_accept(
    *, hook: InboundHook, body: bytes, signature: str, remote_addr: str, now: datetime
) -> tuple[InboundEvent, bool]:
    """An inbound hook's post: its signature (a `json` hook) or key (Google Ads) checked
    before anything is stored, its fields checked (ValidationError, nothing stored), then
    stored and processed. (The event, whether it is new): a repeated sender's id answers the
    first event."""
    if hook.kind == InboundHook.Kind.JSON and not signature_valid(secret=hook.secret, body=body, header=signature):
        raise Refused
    payload = _json_object(body)
    if hook.kind == InboundHook.Kind.GOOGLE_ADS:
        key = str(payload.pop("google_key", "") or "")
        if not hmac.compare_digest(key.encode(), hook.secret.encode()):
            raise Refused
        arrival = reading.google_ads_arrival(payload, hook=hook)
    else:
        arrival = reading.hook_arrival(payload, hook=hook)
    if not arrival.test:
        _check(arrival, hook=hook)
    event, created = event_store(
        channel=Channel.HOOK,
        endpoint=hook.pk,
        external_id=arrival.external_id or uuid.uuid4().hex,
        payload=payload,
        remote_addr=remote_addr,
        state=State.TEST if arrival.test else State.PENDING,
        now=now,
    )
    if created and event.state == State.PENDING:
        event = event_process(event_id=event.pk, now=now)
    return event, created


def whatsapp_post_accept(*, body: bytes, signature: str, now: datetime) -> list[InboundEvent]:
    """A WhatsApp Cloud API webhook post: signed with the app secret, else Refused. Each
    message to a mapped number is stored (its id the sender's id) and processed; status
    updates, unknown numbers and parts without what a message needs are passed over."""
    if not signature_valid(secret=settings.WHATSAPP_APP_SECRET, body=body, header=signature):
        raise Refused
    messages = list(_whatsapp_messages(_json_object(body)))
    numbers = {
        number.phone_number_id: number
        for number in WhatsAppNumber.objects.filter(
            active=True, phone_number_id__in={number_id for number_id, _payload in messages}
        )
    }
    events = []
    for number_id, payload in messages:
        if number_id not in numbers:
            continue
        event, created = event_store(
            channel=Channel.WHATSAPP,
            endpoint=numbers[number_id].pk,
            external_id=str(payload["message"]["id"])[:200],
            payload=payload,
            now=now,
        )
        events.append(event_process(event_id=event.pk, now=now) if created else event)
    return events


def _whatsapp_messages(data: dict[str, Any]):
    """(phone_number_id, {"message", "contact"}) for every message in the post's
    `entry[].changes[].value.messages[]` that has an id and a sender."""
    for entry in _list(data.get("entry")):
        for change in _list(entry.get("changes") if isinstance(entry, dict) else None):
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
            number_id = str(metadata.get("phone_number_id") or "")
            contacts = {
                str(contact.get("wa_id")): contact
                for contact in _list(value.get("contacts"))
                if isinstance(contact, dict)
            }
            for message in _list(value.get("messages")):
                # A sender is a WhatsApp ID: the phone number's digits. Meta sends nothing else;
                # anything else could never become a lead, and would be retried for ever.
                sender = message.get("from") if isinstance(message, dict) else None
                if isinstance(sender, str) and sender.isdigit() and 7 <= len(sender) <= 15 and message.get("id"):
                    contact = contacts.get(str(message["from"]), {})
                    yield number_id, {"message": message, "contact": contact}


def _check(arrival: Arrival, *, hook: InboundHook) -> None:
    """Raise ValidationError with every field's errors, as creating the lead would."""
    leads_services.lead_validate(
        team=hook.team,
        name=arrival.name,
        email=arrival.email,
        phone=arrival.phone,
        company=arrival.company,
        source=arrival.source,
        value=arrival.value,
        notes=arrival.notes,
    )


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError({"body": [_("The body is not JSON.")]}) from None
    if not isinstance(data, dict):
        raise ValidationError({"body": [_("The body must be a JSON object.")]})
    return data


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []
