"""What an inbound post says, channel by channel (SPEC §13): the lead's details, where it
came from, and the message a known person wrote. Pure functions of the stored payload and
its endpoint, used both when a post arrives (to answer a bad one 400 before storing it)
and when its event is processed (again, after a retry)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from intake.models import HOOK_TARGETS, InboundHook
from leads.models import ATTRIBUTION_KEYS, Lead, Source

NAME_MAX = Lead._meta.get_field("name").max_length
NOTES_MAX = Lead._meta.get_field("notes").max_length
ATTRIBUTION_MAX = 500


@dataclass
class Arrival:
    """A lead as a post describes it, before it is checked and created."""

    name: str = ""
    email: str = ""
    phone: str = ""
    company: str = ""
    notes: str = ""
    value: Decimal | None = None
    source: str = Source.OTHER
    attribution: dict[str, str] = field(default_factory=dict)
    # What the person wrote this time: a known person's inquiry.
    message: str = ""
    consent_text: str = ""
    external_id: str = ""
    test: bool = False

    def fingerprint(self) -> str:
        """The details and message, hashed: the same post sent twice has the same one."""
        parts = [self.name, self.email.lower(), self.phone, self.company, self.notes]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def attribution_of(data: Any) -> dict[str, str]:
    """The attribution keys present in `data` (a dict of the post), as short strings."""
    if not isinstance(data, dict):
        return {}
    return {key: _text(data.get(key))[:ATTRIBUTION_MAX] for key in ATTRIBUTION_KEYS if _text(data.get(key))}


def form_arrival(payload: dict[str, Any], *, source: str) -> Arrival:
    """A lead form's post, as its form cleaned and stored it."""
    return Arrival(
        name=_text(payload.get("name")),
        email=_text(payload.get("email")),
        phone=_text(payload.get("phone")),
        company=_text(payload.get("company")),
        notes=_text(payload.get("notes")),
        source=source,
        attribution=attribution_of(payload),
        message=_text(payload.get("notes")),
        consent_text=_text(payload.get("consent_text")),
    )


def hook_arrival(payload: Any, *, hook: InboundHook) -> Arrival:
    """A `json` hook's body through the hook's field map (a lead field → a dotted path in the
    body; unmapped fields are read from the body's own top-level key of that name). Raises
    ValidationError for a body that is not a JSON object or a value that is not a number."""
    if not isinstance(payload, dict):
        raise ValidationError({"body": [_("The body must be a JSON object.")]})
    paths = {target: hook.field_map.get(target) or target for target in (*HOOK_TARGETS, *ATTRIBUTION_KEYS)}
    found = {target: _dig(payload, path) for target, path in paths.items()}
    arrival = Arrival(
        name=_text(found["name"]),
        email=_text(found["email"]),
        phone=_text(found["phone"]),
        company=_text(found["company"]),
        notes=_text(found["notes"]),
        source=hook.source,
        attribution=attribution_of(found),
        message=_text(found["notes"]),
        external_id=_text(found["external_id"])[:200],
    )
    if found["value"] not in (None, ""):
        try:
            arrival.value = Decimal(str(found["value"]))
        except InvalidOperation:
            raise ValidationError({"value": [_("Give the deal value as a number.")]}) from None
    return arrival


GOOGLE_COLUMNS = {"EMAIL": "email", "PHONE_NUMBER": "phone", "COMPANY_NAME": "company"}


def google_ads_arrival(payload: Any, *, hook: InboundHook) -> Arrival:
    """A Google Ads lead form webhook's body (its `google_key` already checked and removed):
    the columns the form asked, `gcl_id` as the gclid, `lead_id` as the external id. Columns
    that are not a lead field go into the notes as "column name: value"."""
    if not isinstance(payload, dict):
        raise ValidationError({"body": [_("The body must be a JSON object.")]})
    columns = payload.get("user_column_data")
    columns = [column for column in columns if isinstance(column, dict)] if isinstance(columns, list) else []
    values: dict[str, str] = {}
    others = []
    for column in columns:
        column_id, value = _text(column.get("column_id")).upper(), _text(column.get("string_value"))
        if column_id in {"FULL_NAME", "FIRST_NAME", "LAST_NAME"} or column_id in GOOGLE_COLUMNS:
            values[column_id] = value
        elif value:
            others.append(f"{_text(column.get('column_name')) or column_id.lower()}: {value}")
    name = values.get("FULL_NAME") or " ".join(filter(None, (values.get("FIRST_NAME"), values.get("LAST_NAME"))))
    arrival = Arrival(
        name=name,
        source=hook.source,
        notes="\n".join(others)[:NOTES_MAX],
        attribution={"utm_source": "google", "utm_medium": "cpc"},
        external_id=_text(payload.get("lead_id"))[:200],
        test=payload.get("is_test") is True,
    )
    for column_id, attribute in GOOGLE_COLUMNS.items():
        setattr(arrival, attribute, values.get(column_id, ""))
    if _text(payload.get("gcl_id")):
        arrival.attribution["gclid"] = _text(payload.get("gcl_id"))[:ATTRIBUTION_MAX]
    arrival.message = arrival.notes
    arrival.name = arrival.name or arrival.email or arrival.phone
    return arrival


def whatsapp_arrival(payload: dict[str, Any]) -> Arrival:
    """One WhatsApp message as stored: {"message", "contact"} from the Cloud API's
    `entry[].changes[].value`. A click-to-WhatsApp ad's `referral` makes the source `ads`."""
    message = payload.get("message") or {}
    contact = payload.get("contact") or {}
    sender = _text(message.get("from") or contact.get("wa_id"))
    phone = f"+{sender.lstrip('+')}" if sender else ""
    profile = contact.get("profile") if isinstance(contact.get("profile"), dict) else {}
    text = _message_text(message)
    arrival = Arrival(
        name=(_text(profile.get("name")) or phone)[:NAME_MAX],
        phone=phone,
        notes=text[:NOTES_MAX],
        message=text,
        source=Source.WHATSAPP,
        attribution={"utm_source": "whatsapp"},
        external_id=_text(message.get("id"))[:200],
    )
    referral = message.get("referral")
    if isinstance(referral, dict):
        arrival.source = Source.ADS
        arrival.attribution = {
            "utm_source": "whatsapp",
            "utm_medium": _text(referral.get("source_type")) or "ad",
            "ctwa_clid": _text(referral.get("ctwa_clid")),
            "page_url": _text(referral.get("source_url")),
            "utm_content": _text(referral.get("headline")),
        }
        arrival.attribution = {k: v[:ATTRIBUTION_MAX] for k, v in arrival.attribution.items() if v}
    return arrival


def _message_text(message: dict[str, Any]) -> str:
    """What a WhatsApp message says: its text, a caption, a button's or list reply's title,
    or the kind of thing sent ("[image]")."""
    kind = _text(message.get("type"))
    body = message.get(kind) if isinstance(message.get(kind), dict) else {}
    if kind == "text":
        return _text(body.get("body"))
    if kind == "button":
        return _text(body.get("text"))
    if kind == "interactive":
        reply = body.get("button_reply") or body.get("list_reply") or {}
        return _text(reply.get("title")) if isinstance(reply, dict) else ""
    caption = _text(body.get("caption"))
    return f"[{kind}] {caption}".strip() if kind else caption


def _dig(data: Any, path: str) -> Any:
    """The value at a dotted path ("contact.email", "answers.0.text"), or None."""
    for part in str(path).split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _text(value: Any) -> str:
    """A JSON scalar as stripped text; objects, lists and null as ""."""
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).replace("\x00", "").strip()
