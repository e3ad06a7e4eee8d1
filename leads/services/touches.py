"""Follow-ups (touches): logged in seconds, never edited silently."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from leads.models import Lead, Status, Touch
from leads.services.facts import lead_facts_refresh
from leads.services.leads import lead_start_working, leads_start_working
from leads.services.tallies import touch_tallies_count
from slas import services as slas_services
from teams import permissions
from teams.models import User
from webhooks import outbox
from webhooks.models import Event

CLOCK_SKEW = timedelta(minutes=5)
TOUCH_FIELDS = {"kind", "occurred_at", "outcome", "notes"}
# What a captured touch keeps as it was captured: corrections go to its outcome and notes.
CAPTURED_FIELDS = {"kind", "occurred_at"}
UNDO_WINDOW = timedelta(minutes=5)
TAP_KINDS = {"call": Touch.Kind.CALL, "whatsapp": Touch.Kind.MESSAGE}


def touch_log(**fields: Any) -> Touch:
    """Record a follow-up (`touch_record`, whose arguments it takes) and answer it: the one
    already recorded for a repeated `external_id`."""
    touch, _created = touch_record(**fields)
    return touch


def touch_record(
    *,
    lead: Lead,
    by: User,
    kind: str,
    occurred_at: datetime | None = None,
    outcome: str = "",
    notes: str = "",
    user: User | None = None,
    origin: str = Touch.Origin.MANUAL,
    external_id: str = "",
    now: datetime | None = None,
) -> tuple[Touch, bool]:
    """Record a follow-up on `lead` by `user` (default: `by`), at `occurred_at` (default: now);
    answers (touch, created).

    Only an admin, or the lead's sales manager, names someone else (PermissionDenied
    otherwise), who must be of the lead's team. It may not lie more than five minutes in the future
    (clock skew), nor before the lead existed. The first touch moves a `new` lead to
    `working`; the SLA engine hears of every touch. `origin` says how it was captured. A
    repeated `external_id` on the same lead (a message captured twice, an API client's retry)
    writes nothing and answers the touch already recorded, with False; the lead's row lock
    orders two at once (PostgreSQL).
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
        origin=origin,
        external_id=(external_id or "").strip(),
        created_at=now,
    )
    _validate(touch, now=now)
    with transaction.atomic():
        locked = Lead.objects.select_for_update().get(pk=lead.pk)
        if touch.external_id:
            earlier = Touch.objects.filter(lead=locked, external_id=touch.external_id).first()
            if earlier is not None:
                return earlier, False
        touch.lead = locked
        touch._history_user = by
        touch.save()
        touch_tallies_count(sign=1, touch_ids=[touch.pk])
        lead_start_working(lead=locked, by=by, now=now)
        lead_facts_refresh(lead_ids=[locked.pk])
        slas_services.clocks_refresh(lead_ids=[locked.pk], now=now)
        outbox.webhook_events_record(event=Event.TOUCH_LOGGED, subjects=[(touch.pk, locked.pk)], now=now)
    lead.status = locked.status
    return touch, True


def touches_capture(*, touches: list[Touch], now: datetime) -> list[Touch]:
    """Record captured touches at once (e-mail capture, SPEC §14): unsaved `touches` whose
    author may work their lead (the caller decides), each with its `external_id`. A touch
    whose (lead, external_id) is already recorded, or repeated in `touches`, is left out.

    Set-based: a constant number of statements whatever the number of touches. Each is in
    its history by its author; `new` leads move to `working`; the SLA clocks, the leads'
    facts and the outbound webhooks hear of them. In the caller's transaction, or one of its
    own. Returns the touches written.
    """
    wanted: dict[tuple[int, str], Touch] = {}
    for touch in touches:
        wanted.setdefault((touch.lead_id, touch.external_id), touch)
    if not wanted:
        return []
    lead_ids = sorted({lead_id for lead_id, _ in wanted})
    with transaction.atomic():
        locked = {lead.pk: lead for lead in Lead.objects.select_for_update().filter(pk__in=lead_ids).order_by("pk")}
        known = set(
            Touch.objects.filter(lead_id__in=lead_ids, external_id__in={key for _, key in wanted}).values_list(
                "lead_id", "external_id"
            )
        )
        fresh = [touch for key, touch in wanted.items() if key not in known and key[0] in locked]
        for touch in fresh:
            touch.created_at = now
            touch._history_user = touch.user
        written = bulk_create_with_history(fresh, Touch, batch_size=500, default_date=now)
        touch_tallies_count(sign=1, touch_ids=[touch.pk for touch in written])
        starters = {touch.lead_id: touch.user for touch in written if locked[touch.lead_id].status == Status.NEW}
        leads_start_working(leads=[locked[pk] for pk in starters], by=starters, now=now)
        changed = sorted({touch.lead_id for touch in written})
        lead_facts_refresh(lead_ids=changed)
        slas_services.clocks_refresh(lead_ids=changed, now=now)
        subjects = [(touch.pk, touch.lead_id) for touch in written]
        outbox.webhook_events_record(event=Event.TOUCH_LOGGED, subjects=subjects, now=now)
    return written


def touch_tap(*, lead: Lead, by: User, channel: str, now: datetime | None = None) -> Touch:
    """One tap on *Call* or *WhatsApp* (SPEC §14): a `call` or `message` touch by `by`, now,
    with origin `click`. The caller sends the rep on to `tap_url`. ValidationError for a lead
    without a phone; PermissionDenied for a lead `by` may not work."""
    if not permissions.can_work_lead(by, lead):
        raise PermissionDenied
    if channel not in TAP_KINDS:
        raise ValidationError({"channel": [_("Choose a call or WhatsApp.")]})
    if not lead.phone:
        raise ValidationError({"phone": [_("This lead has no phone number.")]})
    return touch_log(lead=lead, by=by, kind=TAP_KINDS[channel], origin=Touch.Origin.CLICK, now=now)


def tap_url(*, lead: Lead, channel: str, by: User) -> str:
    """Where a tap leads: WhatsApp's `https://wa.me/<digits>` with a greeting in the active
    language, or the dialler's `tel:<E.164>`."""
    digits = re.sub(r"\D", "", lead.phone)  # an older number kept as typed ("+62 812-…") too
    if channel == "call":
        return f"tel:+{digits}" if lead.phone.lstrip().startswith("+") else f"tel:{digits}"
    greeting = _("Hello %(lead)s, this is %(rep)s.") % {"lead": lead.name, "rep": by.get_full_name() or by.username}
    return f"https://wa.me/{digits}?text={quote(greeting)}"


def touch_undo(*, touch: Touch, by: User, now: datetime | None = None) -> None:
    """Take back a tap (SPEC §14): its author, within five minutes of it; deleted with its
    history, as any deletion. ValidationError once the window has passed, or for a touch that
    was not a tap."""
    now = now or timezone.now()
    if touch.user_id != by.pk:
        raise PermissionDenied(_("Only the person who tapped may undo it."))
    if touch.origin != Touch.Origin.CLICK or now - touch.created_at > UNDO_WINDOW:
        raise ValidationError(_("This follow-up can no longer be undone."))
    touch_delete(touch=touch, by=by, now=now)


def touch_update(*, touch: Touch, by: User, now: datetime | None = None, **fields: Any) -> Touch:
    """Correct a touch (its author, or a manager); the previous version stays in its history.
    A captured touch (any origin but `manual`) keeps its kind and time: only its outcome and
    notes change (ValidationError otherwise)."""
    now = now or timezone.now()
    unknown = set(fields) - TOUCH_FIELDS
    if unknown:
        raise TypeError(f"unexpected fields: {', '.join(sorted(unknown))}")
    _may_change(touch, by)
    if touch.origin != Touch.Origin.MANUAL:
        kept = {name: [_("A captured follow-up keeps this as it was captured.")] for name in CAPTURED_FIELDS}
        changed = {name for name in CAPTURED_FIELDS & set(fields) if fields[name] != getattr(touch, name)}
        if changed:
            raise ValidationError({name: kept[name] for name in sorted(changed)})
    for name, value in fields.items():
        setattr(touch, name, value)
    _validate(touch, now=now)
    moved = "occurred_at" in fields
    with transaction.atomic():
        if moved:  # counted in another hour
            touch_tallies_count(sign=-1, touch_ids=[touch.pk])
        touch._history_user = by
        touch.save(update_fields=[*fields])
        if moved:
            touch_tallies_count(sign=1, touch_ids=[touch.pk])
        lead_facts_refresh(lead_ids=[touch.lead_id])
        slas_services.clocks_refresh(lead_ids=[touch.lead_id], now=now)
    return touch


def touch_delete(*, touch: Touch, by: User, now: datetime | None = None) -> None:
    """Delete a touch logged by mistake (its author, or a manager); its history keeps who and when."""
    now = now or timezone.now()
    _may_change(touch, by)
    with transaction.atomic():
        touch_tallies_count(sign=-1, touch_ids=[touch.pk])
        touch._history_user = by
        touch.delete()
        lead_facts_refresh(lead_ids=[touch.lead_id])
        slas_services.clocks_refresh(lead_ids=[touch.lead_id], now=now)


def _may_change(touch: Touch, by: User) -> None:
    if not permissions.can_work_lead(by, touch.lead):
        raise PermissionDenied
    if not permissions.can_change_touch(by, touch):
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
