"""What managers do with breaches: acknowledge them, or waive them with a reason."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from slas.models import Breach
from teams import permissions
from teams.models import User

TEXT_LIMIT = 2000


def breach_review(
    *,
    breach: Breach,
    by: User,
    acknowledge: bool = False,
    note: str | None = None,
    waive: bool | None = None,
    waived_reason: str = "",
    now: datetime | None = None,
) -> Breach:
    """Acknowledge a breach (with a note: giving one acknowledges) and/or waive it (with a
    reason), all or nothing: every permission and value is checked before anything is
    written, so a refused request (PermissionDenied, ValidationError) changes nothing.

    Acknowledging again updates the note and keeps the first acknowledgement's time and
    author. A waiver takes the breach out of compliance figures and stays on record with
    who waived it and why; only the SLA's sales team's managers (or admins) waive, and a
    waiver cannot be withdrawn."""
    acknowledging, waiving = acknowledge or note is not None, bool(waive)
    if waive is False and breach.waived:
        raise ValidationError({"waived": [_("A waiver cannot be withdrawn.")]})
    if (acknowledging or waiving) and not permissions.can_manage_breach(by, breach):
        raise PermissionDenied
    if waiving and not permissions.can_waive_breach(by, breach):
        raise PermissionDenied
    note, waived_reason = (note or "").strip(), waived_reason.strip()
    errors = {}
    if len(note) > TEXT_LIMIT:
        errors["note"] = [_("At most 2,000 characters.")]
    if waiving and breach.waived:
        errors["waived"] = [_("This breach is already waived.")]
    elif waiving and not waived_reason:
        errors["waived_reason"] = [_("Say why this breach is waived.")]
    elif len(waived_reason) > TEXT_LIMIT:
        errors["waived_reason"] = [_("At most 2,000 characters.")]
    if errors:
        raise ValidationError(errors)
    now = now or timezone.now()
    fields = []
    if acknowledging:
        if breach.acknowledged_at is None:
            breach.acknowledged_at, breach.acknowledged_by = now, by
        breach.note = note or breach.note
        fields += ["acknowledged_at", "acknowledged_by", "note"]
    if waiving:
        breach.waived, breach.waived_by, breach.waived_at, breach.waived_reason = True, by, now, waived_reason
        fields += ["waived", "waived_by", "waived_at", "waived_reason"]
    if fields:
        with transaction.atomic():
            breach._history_user = by
            breach.save(update_fields=fields)
    return breach


def breach_acknowledge(*, breach: Breach, by: User, note: str = "", now: datetime | None = None) -> Breach:
    """Record that a manager has seen the breach, with an optional note (`breach_review`)."""
    return breach_review(breach=breach, by=by, acknowledge=True, note=note, now=now)


def breach_waive(*, breach: Breach, by: User, reason: str, now: datetime | None = None) -> Breach:
    """Take a breach out of compliance figures, saying why (`breach_review`)."""
    return breach_review(breach=breach, by=by, waive=True, waived_reason=reason, now=now)
