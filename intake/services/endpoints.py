"""Writes of lead forms, inbound hooks and WhatsApp numbers (SPEC §13): who may, and what
makes one valid. A sales manager's form or hook without a team is for their own team."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils.translation import gettext as _

from intake.models import FORM_FIELDS, HOOK_TARGETS, InboundHook, LeadForm, WhatsAppNumber, new_secret
from leads.models import ATTRIBUTION_KEYS, Source
from teams import permissions
from teams.models import Role, Team, User

FORM_EDITABLE = {
    "name",
    "team",
    "campaign",
    "source",
    "language",
    "fields",
    "required",
    "consent_text",
    "redirect_url",
    "allowed_origins",
    "active",
}
HOOK_EDITABLE = {"name", "team", "campaign", "source", "kind", "field_map", "active"}
NUMBER_EDITABLE = {"phone_number_id", "name", "team", "campaign", "active"}


def lead_form_create(*, by: User, **fields: Any) -> LeadForm:
    """Add a lead form (its key made here, random); validates every field."""
    form = LeadForm(created_by=by, fields=["email", "phone"])
    return _save(form, by=by, fields=fields, editable=FORM_EDITABLE, check=_form_errors)


def lead_form_update(*, form: LeadForm, by: User, **fields: Any) -> LeadForm:
    _may(by, form.team)
    return _save(form, by=by, fields=fields, editable=FORM_EDITABLE, check=_form_errors)


def inbound_hook_create(*, by: User, **fields: Any) -> tuple[InboundHook, str]:
    """Add an inbound hook; returns it and its secret, which is shown this once."""
    hook = InboundHook(created_by=by)
    if fields.get("kind") == InboundHook.Kind.GOOGLE_ADS and "source" not in fields:
        hook.source = Source.ADS
    hook = _save(hook, by=by, fields=fields, editable=HOOK_EDITABLE, check=_hook_errors)
    return hook, hook.secret


def inbound_hook_update(*, hook: InboundHook, by: User, **fields: Any) -> InboundHook:
    _may(by, hook.team)
    return _save(hook, by=by, fields=fields, editable=HOOK_EDITABLE, check=_hook_errors)


def inbound_hook_secret_rotate(*, hook: InboundHook, by: User) -> str:
    """A new secret for the hook, the old one refused from now on; shown this once."""
    _may(by, hook.team)
    hook.secret = new_secret()
    hook.save(update_fields=["secret"])
    return hook.secret


def whatsapp_number_create(*, by: User, **fields: Any) -> WhatsAppNumber:
    if not permissions.can_manage_whatsapp_numbers(by):
        raise PermissionDenied
    return _save(WhatsAppNumber(), by=by, fields=fields, editable=NUMBER_EDITABLE, check=_number_errors)


def whatsapp_number_update(*, number: WhatsAppNumber, by: User, **fields: Any) -> WhatsAppNumber:
    if not permissions.can_manage_whatsapp_numbers(by):
        raise PermissionDenied
    return _save(number, by=by, fields=fields, editable=NUMBER_EDITABLE, check=_number_errors)


def _save(obj: models.Model, *, by: User, fields: dict[str, Any], editable: set[str], check) -> Any:
    unknown = set(fields) - editable
    if unknown:
        raise ValidationError(_("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    for name, value in fields.items():
        setattr(obj, name, value.strip() if isinstance(value, str) and name != "consent_text" else value)
    if getattr(obj, "team_id", None) is None and permissions.role_of(by) == Role.SALES_MANAGER:
        obj.team_id = by.team_id
    errors = check(obj)
    try:
        obj.full_clean(exclude=["created_by", *errors])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if not isinstance(obj, WhatsAppNumber):
        _may(by, obj.team)
    obj.save()
    return obj


def _may(by: User, team: Team | None) -> None:
    if not permissions.can_manage_intake(by, team):
        raise PermissionDenied


def _common_errors(obj: Any) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if obj.team_id is not None and obj.team.kind != Team.Kind.SALES:
        errors["team"] = [_("Leads are for a sales team.")]
    if getattr(obj, "source", Source.OTHER) not in Source.values:
        errors["source"] = [_("Choose one of: %(names)s.") % {"names": ", ".join(Source.values)}]
    return errors


def _form_errors(form: LeadForm) -> dict[str, list[str]]:
    errors = _common_errors(form)
    if not isinstance(form.fields, list) or not set(form.fields) <= set(FORM_FIELDS):
        errors["fields"] = [_("Choose among: %(names)s.") % {"names": ", ".join(FORM_FIELDS)}]
    elif not isinstance(form.required, list) or not set(form.required) <= set(form.fields):
        errors["required"] = [_("Only fields the form asks can be required.")]
    else:  # stored in the form's own order, each once
        form.fields = [name for name in FORM_FIELDS if name in form.fields]
        form.required = [name for name in FORM_FIELDS if name in form.required]
    origins = form.allowed_origins
    if not isinstance(origins, list) or not all(isinstance(origin, str) and _is_origin(origin) for origin in origins):
        errors["allowed_origins"] = [_("Give origins such as https://www.example.com (no path).")]
    else:
        form.allowed_origins = sorted({origin.rstrip("/").lower() for origin in origins})
    return errors


def _is_origin(origin: str) -> bool:
    parts = urlsplit(origin.rstrip("/"))
    return parts.scheme in {"http", "https"} and bool(parts.hostname) and not (parts.path or parts.query)


def _hook_errors(hook: InboundHook) -> dict[str, list[str]]:
    errors = _common_errors(hook)
    targets = set(HOOK_TARGETS) | set(ATTRIBUTION_KEYS)
    field_map = hook.field_map
    if not isinstance(field_map, dict) or not all(
        key in targets and isinstance(path, str) and 0 < len(path) <= 200 for key, path in field_map.items()
    ):
        errors["field_map"] = [
            _("Map lead fields (%(names)s) to dotted paths in the body, such as “contact.email”.")
            % {"names": ", ".join(sorted(targets))}
        ]
    elif hook.kind != InboundHook.Kind.JSON and field_map:
        errors["field_map"] = [_("Only a JSON hook has a field map.")]
    return errors


def _number_errors(number: WhatsAppNumber) -> dict[str, list[str]]:
    errors = _common_errors(number)
    if number.phone_number_id and not number.phone_number_id.isdigit():
        errors["phone_number_id"] = [_("The phone number ID is the number Meta shows for it: digits only.")]
    return errors
