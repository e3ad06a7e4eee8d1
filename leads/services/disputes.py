"""Disputes of rejections (SPEC §15): Marketing disputes a rejection within 14 days of it; the
sales team's manager (or an admin) upholds or overturns it. Overturned, the rejection leaves
Marketing's figures and the lead goes back to Sales as a new lead, routed again."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from kpis.scorecards import scorecards_mark_stale
from leads.models import Assignment, Dispute, Lead, Rejection, Status, StatusChange
from leads.selectors import dispute_deadline
from leads.services.routing import leads_route
from notifications import services as notifications
from routing.models import Trigger
from slas import services as slas_services
from slas.models import Clock, Sla
from teams import permissions
from teams.models import User

RULINGS = (Dispute.State.UPHELD, Dispute.State.OVERTURNED)
NOTE_MAX = 2000  # the note's and the ruling's; a TextField's max_length is not checked by the model


def _too_long() -> str:
    return _("Keep it to at most %(max)d characters.") % {"max": NOTE_MAX}


def dispute_raise(*, lead: Lead, by: User, note: str, now: datetime | None = None) -> Dispute:
    """Dispute the latest rejection of `lead` (SPEC §15): Marketing and admins, on a lead still
    rejected, no later than 14 days after its rejection (exactly 14 days is in time), while no
    other dispute of that rejection is open; `note` says why. Once ruled on, a rejection may
    be disputed again while its window lasts.

    Transactional: the dispute, Sales told (`dispute_opened`, once per person) and the
    scorecards of the period marked for recomputing, or nothing. Two disputes raised at once:
    one wins, the other hears the rejection is already disputed (a unique constraint)."""
    now = now or timezone.now()
    if not permissions.can_raise_dispute(by, lead):
        raise PermissionDenied
    note = note.strip()
    if not note:
        raise ValidationError({"note": [_("Say why the rejection is wrong: the sales manager rules on it.")]})
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": [_too_long()]})
    dispute = Dispute(lead=lead, raised_by=by, raised_at=now, note=note)
    with transaction.atomic():
        locked = Lead.objects.select_for_update().get(pk=lead.pk)
        rejection = Rejection.objects.filter(lead=locked).order_by("-at", "-pk").first()
        if locked.status != Status.REJECTED or rejection is None:
            raise ValidationError({"lead": [_("Only a rejected lead can be disputed.")]})
        if now > dispute_deadline(rejection=rejection):
            raise ValidationError({"lead": [_deadline_passed(rejection)]})
        dispute.lead, dispute.rejection = locked, rejection
        try:
            with transaction.atomic():
                dispute.save()
        except IntegrityError:
            raise ValidationError({"lead": [_("This rejection is already disputed; wait for the ruling.")]}) from None
        notifications.dispute_opened_notify(dispute=dispute, now=now)
        scorecards_mark_stale(team_ids=[locked.team_id, by.team_id], instants=[now], now=now)
    return dispute


def _deadline_passed(rejection: Rejection) -> str:
    deadline = formats.date_format(timezone.localtime(dispute_deadline(rejection=rejection)), "SHORT_DATETIME_FORMAT")
    return _("A rejection can be disputed for 14 days; the time to dispute this one ended %(deadline)s.") % {
        "deadline": deadline
    }


def dispute_rule(*, dispute: Dispute, by: User, ruling: str, ruling_note: str, now: datetime | None = None) -> Dispute:
    """Rule on an open dispute: the sales manager of the lead's team, or an admin. `ruling` is
    `upheld` (the rejection stands) or `overturned`; `ruling_note`, the reason both teams
    read, is required either way. A dispute is ruled on once: a second ruling is refused.

    Overturned, in the same transaction: the rejection is marked overturned (it leaves
    Marketing's figures); the lead, when that rejection is still why it is closed, goes back
    to `new` without an owner (its old owner's clocks cancelled, the status change recorded)
    and is routed again (`dispute`), so that whoever gets it has an assignment and new clocks;
    the scorecards it changes are marked for recomputing. Either way Marketing is told
    (`dispute_ruled`, once per person)."""
    now = now or timezone.now()
    if not permissions.can_rule_dispute(by, dispute):
        raise PermissionDenied
    errors = {}
    if ruling not in RULINGS:
        errors["ruling"] = [_("Rule “upheld” (the rejection stands) or “overturned”.")]
    ruling_note = ruling_note.strip()
    if not ruling_note:
        errors["ruling_note"] = [_("Give the reason for the ruling: both teams will read it.")]
    elif len(ruling_note) > NOTE_MAX:
        errors["ruling_note"] = [_too_long()]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # The lead first, as a dispute being raised takes it: the same order, no deadlock.
        lead = Lead.objects.select_for_update(of=("self",)).select_related("created_by").get(pk=dispute.lead_id)
        # A conditional UPDATE claims the ruling: of two at once, the second finds it ruled.
        claimed = Dispute.objects.filter(pk=dispute.pk, state=Dispute.State.OPEN).update(
            state=ruling, ruled_by=by, ruled_at=now, ruling_note=ruling_note
        )
        if not claimed:
            raise ValidationError({"ruling": [_("This dispute was already ruled on.")]})
        ruled = Dispute.objects.select_related("lead__campaign", "raised_by", "rejection").get(pk=dispute.pk)
        if ruling == Dispute.State.OVERTURNED:
            _overturn(dispute=ruled, lead=lead, by=by, now=now)
        notifications.dispute_ruled_notify(dispute=ruled, now=now)
    for name in ("state", "ruled_by_id", "ruled_at", "ruling_note"):
        setattr(dispute, name, getattr(ruled, name))
    return ruled


def _overturn(*, dispute: Dispute, lead: Lead, by: User, now: datetime) -> None:
    """The rejection leaves the figures; the lead (locked by the caller), if it is closed by
    this rejection still, goes back to Sales. In the caller's transaction."""
    Rejection.objects.filter(pk=dispute.rejection_id).update(overturned_at=now)
    latest = Rejection.objects.filter(lead=lead).order_by("-at", "-pk").values_list("pk", flat=True).first()
    if lead.status == Status.REJECTED and latest == dispute.rejection_id:
        _back_to_new(lead=lead, by=by, now=now)
    # Rejection figures count leads by creation; dispute counts by the time of the ruling.
    teams = [lead.team_id, dispute.lead.campaign.team_id if dispute.lead.campaign_id else None]
    teams += [lead.created_by.team_id if lead.created_by else None, dispute.raised_by.team_id]
    scorecards_mark_stale(team_ids=teams, instants=[lead.created_at, now], now=now)


def _back_to_new(*, lead: Lead, by: User, now: datetime) -> None:
    """A rejected lead becomes `new` again, unassigned, and is routed. Its old owner's response
    and cadence clocks that had not ended are cancelled as the lead leaves them (closed ones
    would otherwise run again on reopening and could breach on someone no longer on it)."""
    Clock.objects.filter(
        lead_id=lead.pk,
        kind__in=[Sla.Kind.RESPONSE, Sla.Kind.CADENCE],
        state__in=[Clock.State.RUNNING, Clock.State.CANCELLED],
    ).exclude(cancel_reason=Clock.CancelReason.REASSIGNED).update(
        state=Clock.State.CANCELLED,
        cancel_reason=Clock.CancelReason.REASSIGNED,
        cancelled_at=Coalesce("cancelled_at", now),
    )
    Assignment.objects.filter(lead_id=lead.pk, ended_at__isnull=True).update(ended_at=now)
    StatusChange.objects.create(lead=lead, from_status=lead.status, to_status=Status.NEW, by=by, at=now)
    lead.status, lead.closed_at, lead.owner, lead.assigned_at = Status.NEW, None, None, None
    lead._history_user = by
    lead.save(update_fields=["status", "closed_at", "owner", "assigned_at"])
    slas_services.clocks_refresh(lead_ids=[lead.pk], now=now)
    leads_route(leads=[lead], trigger=Trigger.DISPUTE, by=by, now=now)
