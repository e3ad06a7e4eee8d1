"""What managers do with breaches: acknowledge them, or waive them with a reason."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from slas.models import Breach
from teams import permissions
from teams.models import User


def breach_acknowledge(*, breach: Breach, by: User, note: str = "", now: datetime | None = None) -> Breach:
    """Record that a manager has seen the breach (with an optional note). Acknowledging again
    updates the note and keeps the first acknowledgement's time and author."""
    if not permissions.can_manage_breach(by, breach):
        raise PermissionDenied
    if len(note) > 2000:
        raise ValidationError({"note": [_("At most 2,000 characters.")]})
    if breach.acknowledged_at is None:
        breach.acknowledged_at, breach.acknowledged_by = now or timezone.now(), by
    breach.note = note.strip() or breach.note
    breach._history_user = by
    breach.save(update_fields=["acknowledged_at", "acknowledged_by", "note"])
    return breach


def breach_waive(*, breach: Breach, by: User, reason: str, now: datetime | None = None) -> Breach:
    """Take a breach out of compliance figures (bad data, an outage); it stays on record
    with who waived it and why. Only managers of the SLA's sales team (or admins)."""
    if not permissions.can_waive_breach(by, breach):
        raise PermissionDenied
    reason = reason.strip()
    if not reason:
        raise ValidationError({"waived_reason": [_("Say why this breach is waived.")]})
    if len(reason) > 2000:
        raise ValidationError({"waived_reason": [_("At most 2,000 characters.")]})
    if breach.waived:
        raise ValidationError(_("This breach is already waived."))
    breach.waived, breach.waived_by, breach.waived_at, breach.waived_reason = True, by, now or timezone.now(), reason
    breach._history_user = by
    breach.save(update_fields=["waived", "waived_by", "waived_at", "waived_reason"])
    return breach
