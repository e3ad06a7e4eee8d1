"""Follow-ups (touches): logged in seconds, never edited silently."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leads.models import Lead, Touch
from leads.services.facts import lead_facts_refresh
from leads.services.leads import lead_start_working
from slas import services as slas_services
from teams import permissions
from teams.models import User
from webhooks import outbox
from webhooks.models import Event

CLOCK_SKEW = timedelta(minutes=5)
TOUCH_FIELDS = {"kind", "occurred_at", "outcome", "notes"}


def touch_log(
    *,
    lead: Lead,
    by: User,
    kind: str,
    occurred_at: datetime | None = None,
    outcome: str = "",
    notes: str = "",
    user: User | None = None,
    now: datetime | None = None,
) -> Touch:
    """Record a follow-up on `lead` by `user` (default: `by`), at `occurred_at` (default: now).

    Only an admin, or the lead's sales manager, names someone else (PermissionDenied
    otherwise), who must be of the lead's team. It may not lie more than five minutes in the future
    (clock skew), nor before the lead existed. The first touch moves a `new` lead to
    `working`; the SLA engine hears of every touch.
    """
    now = now or timezone.now()
    user = user or by
    if not permissions.can_work_lead(by, lead):
        raise PermissionDenied
    if user.pk != by.pk and not permissions.can_log_touch_for_others(by, lead):
        raise PermissionDenied(_("You log follow-ups in your own name."))
    touch = Touch(
        lead=lead,
        user=user,
        kind=kind,
        occurred_at=occurred_at or now,
        outcome=outcome or "",
        notes=(notes or "").strip(),
        created_at=now,
    )
    _validate(touch, now=now)
    with transaction.atomic():
        locked = Lead.objects.select_for_update().get(pk=lead.pk)
        touch.lead = locked
        touch._history_user = by
        touch.save()
        lead_start_working(lead=locked, by=by, now=now)
        lead_facts_refresh(lead_ids=[locked.pk])
        slas_services.clocks_refresh(lead_ids=[locked.pk], now=now)
        outbox.webhook_events_record(event=Event.TOUCH_LOGGED, subjects=[(touch.pk, locked.pk)], now=now)
    lead.status = locked.status
    return touch


def touch_update(*, touch: Touch, by: User, now: datetime | None = None, **fields: Any) -> Touch:
    """Correct a touch (its author, or a manager); the previous version stays in its history."""
    now = now or timezone.now()
    unknown = set(fields) - TOUCH_FIELDS
    if unknown:
        raise TypeError(f"unexpected fields: {', '.join(sorted(unknown))}")
    _may_change(touch, by)
    for name, value in fields.items():
        setattr(touch, name, value)
    _validate(touch, now=now)
    with transaction.atomic():
        touch._history_user = by
        touch.save(update_fields=[*fields])
        lead_facts_refresh(lead_ids=[touch.lead_id])
        slas_services.clocks_refresh(lead_ids=[touch.lead_id], now=now)
    return touch


def touch_delete(*, touch: Touch, by: User, now: datetime | None = None) -> None:
    """Delete a touch logged by mistake (its author, or a manager); its history keeps who and when."""
    now = now or timezone.now()
    _may_change(touch, by)
    with transaction.atomic():
        touch._history_user = by
        touch.delete()
        lead_facts_refresh(lead_ids=[touch.lead_id])
        slas_services.clocks_refresh(lead_ids=[touch.lead_id], now=now)


def _may_change(touch: Touch, by: User) -> None:
    if not permissions.can_work_lead(by, touch.lead):
        raise PermissionDenied
    if touch.user_id != by.pk and not (permissions.is_admin(by) or permissions.is_manager(by)):
        raise PermissionDenied(_("Only the person who logged a follow-up, or a manager, may change it."))


def _validate(touch: Touch, *, now: datetime) -> None:
    errors: dict[str, list[str]] = {}
    try:
        touch.full_clean(exclude=["lead", "user"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    when = touch.occurred_at
    if isinstance(when, datetime) and "occurred_at" not in errors:
        if timezone.is_naive(when):
            errors["occurred_at"] = [_("Give the time with its time zone.")]
        elif when > now + CLOCK_SKEW:
            errors["occurred_at"] = [_("A follow-up cannot be in the future.")]
        elif when < touch.lead.created_at:
            errors["occurred_at"] = [_("A follow-up cannot be before the lead was created.")]
    lead = touch.lead
    if touch.user_id and touch.user.team_id != lead.team_id and not permissions.is_admin(touch.user):
        errors["user"] = [_("Follow-ups are made by members of the lead’s team.")]
    if errors:
        raise ValidationError(errors)
