"""Leads: creation, edits, ownership, rejection and the pipeline."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from simple_history.utils import bulk_update_with_history

from leads.models import (
    CLOSED,
    REACHED_QUALIFIED,
    STAGE,
    ArrivedVia,
    Assignment,
    Campaign,
    Lead,
    Rejection,
    Source,
    Status,
    StatusChange,
    attribution_empty,
)
from leads.phones import phone_e164
from leads.services.ownership import assign_leads
from leads.services.routing import leads_route
from leads.services.tallies import touch_tallies_count
from routing.models import Trigger
from slas import services as slas_services
from teams import permissions
from teams.models import Team, User
from teams.selectors import Unavailable, own_sales_team, team_reps_at, unavailable_now
from webhooks import outbox
from webhooks.models import Event

EDITABLE_FIELDS = {"name", "email", "phone", "company", "source", "campaign", "value", "notes"}


def lead_create(
    *,
    by: User | None,
    name: str,
    team: Team | None = None,
    status: str = Status.NEW,
    email: str = "",
    phone: str = "",
    company: str = "",
    source: str = Source.OTHER,
    campaign: Campaign | None = None,
    value: Decimal | None = None,
    notes: str = "",
    owner: User | None = None,
    arrived_via: str = ArrivedVia.MANUAL,
    attribution: dict[str, str] | None = None,
    consent_text: str = "",
    now: datetime | None = None,
) -> Lead:
    """Create a lead for the sales team `team`; with `owner`, assign it at once. `arrived_via`
    and `attribution` say how it came and from where (SPEC §2); set here, never changed.
    `by` is None for a lead that arrived on its own (a form, a hook, WhatsApp: SPEC §13),
    which the endpoint's key authorised; `consent_text` is what its form asked it to agree to.

    Validates every field before writing; the e-mail is stored lower-cased so
    that likely duplicates (`leads.selectors.lead_duplicates`) are found by index.
    """
    now = now or timezone.now()
    team = team or (own_sales_team(user=by) if by is not None else None)
    if team is None:
        raise ValidationError({"team": [_("Name the sales team the lead is for.")]})
    if status != Status.NEW:
        raise ValidationError({"status": [_("A new lead starts as “new”.")]})
    if by is not None and not permissions.can_create_leads(by, team):
        raise PermissionDenied
    lead = lead_validate(
        team=team,
        name=name,
        email=email,
        phone=phone,
        company=company,
        source=source,
        campaign=campaign,
        value=value,
        notes=notes,
    )
    lead.arrived_via = arrived_via
    lead.attribution = {**attribution_empty(), **(attribution or {})}
    lead.consent_text, lead.consent_at = consent_text, (now if consent_text else None)
    lead.created_at, lead.created_by = now, by
    if owner is not None:
        if by is None:
            raise PermissionDenied
        _validate_owner(team=team, owner=owner, by=by, now=now)
        if not permissions.can_assign_lead(by, lead, owner=owner):
            raise PermissionDenied
    with transaction.atomic():
        lead.save()
        outbox.webhook_events_record(event=Event.LEAD_CREATED, subjects=[(lead.pk, lead.pk)], now=now)
        if owner is not None:
            assign_leads(leads=[lead], owner=owner, by=by, now=now)
        else:
            slas_services.clocks_start_unassigned(leads=[lead], now=now)
            if team.auto_route:
                leads_route(leads=[lead], trigger=Trigger.CREATED, by=by, now=now)
    return lead


def lead_validate(
    *,
    team: Team,
    name: str,
    email: str = "",
    phone: str = "",
    company: str = "",
    source: str = Source.OTHER,
    campaign: Campaign | None = None,
    value: Decimal | None = None,
    notes: str = "",
) -> Lead:
    """An unsaved lead of `team` with these details, each checked as `lead_create` checks
    them (the e-mail lower-cased, the phone in E.164); raises ValidationError with every
    field's errors. For intake, which answers a bad post before storing it."""
    lead = Lead(
        team=team,
        name=name.strip(),
        email=email.strip().lower(),
        phone=phone.strip(),
        company=company.strip(),
        source=source,
        campaign=campaign,
        value=value,
        notes=notes,
    )
    _validate(lead)
    return lead


def lead_update(*, lead: Lead, by: User, **fields: Any) -> Lead:
    """Edit a lead's contact details, source, campaign, value or notes (not its owner or status)."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"unexpected fields: {', '.join(sorted(unknown))}")
    if not permissions.can_work_lead(by, lead):
        raise PermissionDenied
    for name, value in fields.items():
        if isinstance(value, str) and name != "notes":
            value = value.strip().lower() if name == "email" else value.strip()
        setattr(lead, name, value)
    _validate(lead, phone="phone" in fields)
    if not fields:
        return lead
    # Another campaign may be another marketing team's: its follow-ups count for that one
    # (judged against the stored lead, whose follow-ups the tallies counted).
    moved = "campaign" in fields and Lead.objects.filter(pk=lead.pk).exclude(campaign=lead.campaign_id).exists()
    with transaction.atomic():
        if moved:
            touch_tallies_count(sign=-1, lead_ids=[lead.pk])
        lead._history_user = by  # a save of every field would write back stored facts this instance may hold stale
        lead.save(update_fields=[*fields, *(["phone_unreadable"] if "phone" in fields else [])])
        if moved:
            touch_tallies_count(sign=1, lead_ids=[lead.pk])
    return lead


UNCHANGED: Any = object()


def lead_change(
    *,
    lead: Lead,
    by: User,
    owner: User | None = UNCHANGED,
    status: str | None = None,
    team: Team | None = None,
    **details: Any,
) -> Lead:
    """Change a lead's details, then its owner, then its status, all or nothing (the API's
    PATCH): each step is judged as `lead_update`, `lead_assign` and `lead_status_change`
    judge it, in one transaction. A lead stays in its team and is never unassigned."""
    if team is not None and team.pk != lead.team_id:
        raise ValidationError({"team": [_("A lead stays in its team.")]})
    if owner is None and lead.owner_id is not None:
        raise ValidationError({"owner": [_("A lead cannot be unassigned; assign it to another rep.")]})
    with transaction.atomic():
        if details:
            lead_update(lead=lead, by=by, **details)
        if owner is not UNCHANGED and owner is not None and owner.pk != lead.owner_id:
            lead_assign(lead=lead, owner=owner, by=by)
        if status is not None and status != lead.status:
            lead_status_change(lead=lead, by=by, status=status)
    lead.refresh_from_db()
    return lead


# -- ownership -------------------------------------------------------------------------------
def lead_assign(*, lead: Lead, owner: User, by: User, now: datetime | None = None) -> Assignment | None:
    """Give `lead` to `owner` (a rep of its team). Returns the new assignment, or None when
    `owner` already owns it (idempotent). Starts the owner's SLA clocks."""
    now = now or timezone.now()
    if not permissions.can_assign_lead(by, lead, owner=owner):
        raise PermissionDenied
    _validate_owner(team=lead.team, owner=owner, by=by, now=now)
    with transaction.atomic():
        locked = Lead.objects.select_for_update().get(pk=lead.pk)
        if locked.owner_id == owner.pk:
            return None
        if not permissions.can_assign_lead(by, locked, owner=owner):  # claimed meanwhile
            raise ValidationError(_("Someone else took this lead a moment ago."))
        _refuse_closed(locked)
        assignment = assign_leads(leads=[locked], owner=owner, by=by, now=now)[0]
    _copy_state(locked, into=lead)
    return assignment


def lead_claim(*, lead: Lead, by: User, now: datetime | None = None) -> Assignment:
    """A rep takes an unassigned lead of their team. Two reps claiming at once: one wins,
    the other gets a validation error."""
    if lead.owner_id is not None and lead.owner_id != by.pk:
        raise ValidationError(_("Someone else took this lead a moment ago."))
    assignment = lead_assign(lead=lead, owner=by, by=by, now=now)
    if assignment is None:
        raise ValidationError(_("This lead is already yours."))
    return assignment


def leads_assign_bulk(*, leads: Sequence[Lead], owner: User, by: User, now: datetime | None = None) -> int:
    """Assign many leads of one team to `owner` in a constant number of queries.

    All or nothing: one lead the user may not assign, or one closed lead, refuses
    the whole batch. Leads `owner` already has are skipped. Returns how many moved.
    """
    now = now or timezone.now()
    teams = {lead.team_id for lead in leads}
    if len(teams) > 1:
        raise ValidationError(_("Bulk assignment works on the leads of one team at a time."))
    if not leads:
        return 0
    team = leads[0].team
    _validate_owner(team=team, owner=owner, by=by, now=now)
    for lead in leads:
        if not permissions.can_assign_lead(by, lead, owner=owner):
            raise PermissionDenied
    with transaction.atomic():
        locked = list(Lead.objects.select_for_update().filter(pk__in=[lead.pk for lead in leads]))
        for lead in locked:
            _refuse_closed(lead)
        moving = [lead for lead in locked if lead.owner_id != owner.pk]
        assign_leads(leads=moving, owner=owner, by=by, now=now)
    return len(moving)


def leads_round_robin(*, leads: Sequence[Lead], team: Team, by: User, now: datetime | None = None) -> dict[int, int]:
    """Share `leads` out (the lead list's "share out in turn") through the routing engine, oldest
    first: each goes where routing sends it now (its sticky owner, the team's rules, the team
    in turn), recorded as a manager's routing. All or nothing: a closed lead, or one that nobody
    can take now, refuses the batch. Returns {rep id: leads received}."""
    now = now or timezone.now()
    if any(lead.team_id != team.pk for lead in leads):
        raise ValidationError(_("Bulk assignment works on the leads of one team at a time."))
    if not permissions.can_assign_in_bulk(by, team):
        raise PermissionDenied
    with transaction.atomic():
        locked = list(Lead.objects.select_for_update().filter(pk__in=[lead.pk for lead in leads]))
        for lead in locked:
            _refuse_closed(lead)
        ordered = sorted(locked, key=lambda lead: (lead.created_at, lead.pk))
        decisions = leads_route(leads=ordered, trigger=Trigger.MANUAL, by=by, now=now)
        if any(decision.owner_id is None for decision in decisions):
            raise ValidationError(_("Nobody in this team can take leads now: every rep is away, off or inactive."))
    return dict(Counter(decision.owner_id for decision in decisions))


def _validate_owner(*, team: Team, owner: User, by: User, now: datetime) -> None:
    """`owner` is an active rep of `team` and, unless taking the lead themselves, can answer
    it now: not away, not on time off (SPEC §11)."""
    rep = team_reps_at(team=team, at=now).filter(pk=owner.pk).first()
    if rep is None:
        raise ValidationError({"owner": _("Leads go to an active sales rep of the lead’s team.")})
    if unavailable_now(rep) and owner.pk != by.pk:
        raise ValidationError({"owner": UNAVAILABLE_OWNER[unavailable_now(rep)] % {"person": owner}})


UNAVAILABLE_OWNER = {
    Unavailable.AWAY: _lazy("%(person)s is away now; choose someone who can answer the lead."),
    Unavailable.TIME_OFF: _lazy("%(person)s is off now; choose someone who can answer the lead."),
}


# -- pipeline ----------------------------------------------------------------------------------
def lead_reject(*, lead: Lead, by: User, reason: str, note: str = "", now: datetime | None = None) -> Rejection:
    """Send a lead back to Marketing with a reason: records the rejection, closes the lead
    as `rejected`, and lets the SLA engine count it as a response."""
    now = now or timezone.now()
    if not permissions.can_work_lead(by, lead):
        raise PermissionDenied
    rejection = Rejection(lead=lead, reason=reason, note=note.strip(), by=by, at=now)
    rejection.full_clean(exclude=["lead", "by"])
    with transaction.atomic():
        locked = Lead.objects.select_for_update().get(pk=lead.pk)
        _refuse_closed(locked)
        rejection.lead = locked
        rejection.save()
        _move(lead=locked, to=Status.REJECTED, by=by, now=now)
    _copy_state(locked, into=lead)
    return rejection


def lead_status_change(
    *, lead: Lead, by: User, status: str, value: Decimal | None = None, now: datetime | None = None
) -> Lead:
    """Move a lead through the pipeline.

    Forward moves are open to whoever may work the lead (a lead may be won at the
    first call); closing (won, lost) sets `closed_at`; moving back or reopening a
    closed lead is for managers only. Rejection has its own service (it needs a
    reason). Setting the current status again changes nothing.
    """
    now = now or timezone.now()
    if status not in Status.values:
        raise ValidationError({"status": _("Unknown status “%(status)s”.") % {"status": status}})
    if status == Status.REJECTED:
        raise ValidationError({"status": _("Reject a lead with a reason instead.")})
    if not permissions.can_work_lead(by, lead):
        raise PermissionDenied
    with transaction.atomic():
        locked = Lead.objects.select_for_update().get(pk=lead.pk)
        backwards = locked.status in CLOSED or STAGE[status] < STAGE[locked.status]
        if status != locked.status and backwards and not permissions.can_reopen_lead(by, locked):
            raise PermissionDenied(_("Only a manager can reopen a lead or move it back."))
        if value is not None:
            locked.value = value
            _validate(locked)
            locked._history_user = by
            locked.save(update_fields=["value"])
        if status != locked.status:
            _move(lead=locked, to=status, by=by, now=now)
    _copy_state(locked, into=lead)
    return lead


def _move(*, lead: Lead, to: str, by: User, now: datetime) -> None:
    """Record a status change and its consequences (closed_at, SLA clocks). In a transaction."""
    StatusChange.objects.create(lead=lead, from_status=lead.status, to_status=to, by=by, at=now)
    lead.status = to
    lead.closed_at = now if to in CLOSED else None
    lead.reached_qualified = lead.reached_qualified or to in REACHED_QUALIFIED
    lead._history_user = by
    lead.save(update_fields=["status", "closed_at", "reached_qualified"])
    slas_services.clocks_refresh(lead_ids=[lead.pk], now=now)


def lead_start_working(*, lead: Lead, by: User, now: datetime) -> None:
    """The first touch moves a `new` lead to `working` (in the caller's transaction)."""
    if lead.status == Status.NEW:
        _move(lead=lead, to=Status.WORKING, by=by, now=now)


def leads_start_working(*, leads: Sequence[Lead], by: dict[int, User], now: datetime) -> None:
    """`lead_start_working` for many `new` leads at once (captured touches), each by the user
    `by[lead.pk]`: one status change each, in the leads' history. Constant statements; the
    caller holds the leads' rows and refreshes their SLA clocks."""
    starting = [lead for lead in leads if lead.status == Status.NEW]
    if not starting:
        return
    StatusChange.objects.bulk_create(
        [
            StatusChange(lead=lead, from_status=Status.NEW, to_status=Status.WORKING, by=by[lead.pk], at=now)
            for lead in starting
        ]
    )
    for lead in starting:
        lead.status = Status.WORKING
        lead._history_user = by[lead.pk]
    bulk_update_with_history(starting, Lead, ["status"], default_date=now)


def _copy_state(source: Lead, *, into: Lead) -> None:
    """Keep the caller's instance in step with the locked copy the service changed."""
    for name in ("owner_id", "assigned_at", "status", "closed_at", "value"):
        setattr(into, name, getattr(source, name))


def _refuse_closed(lead: Lead) -> None:
    if lead.status in CLOSED:
        raise ValidationError(_("This lead is closed. A manager can reopen it first."))


def _validate(lead: Lead, *, phone: bool = True) -> None:
    """Every field checked, all errors at once; with `phone` (a phone given or changed), the
    phone put in E.164 in the team's country. An old number that could not be read stays as
    it was, flagged, until someone changes it."""
    errors = {}
    if lead.team_id and lead.team.kind != Team.Kind.SALES:
        errors["team"] = [_("Leads are for a sales team.")]
    if phone:
        try:
            lead.phone = phone_e164(lead.phone, region=lead.team.holiday_country if lead.team_id else "")
            lead.phone_unreadable = False
        except ValidationError as exc:
            errors["phone"] = exc.messages
    try:
        lead.full_clean(exclude=["owner", "created_by", "team"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
