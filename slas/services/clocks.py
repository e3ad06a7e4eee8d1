"""Clocks: started on assignment with their deadline computed once; kept in step with the lead."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.db.models import DateTimeField, F, QuerySet, Value

from leads.models import CLOSED, Assignment, Lead, Rejection, Touch
from salesmarketing.sql import insert_select
from slas.models import Breach, Clock, Sla
from teams.calendar import BUSINESS_UNITS, BusinessCalendar, add_target, calendar_for_team
from webhooks import outbox
from webhooks.models import Event


def clocks_start(*, assignments: Iterable[Assignment], now: datetime) -> int:
    """Start a clock per active response/cadence SLA of each lead's team for these new
    assignments, and cancel the lead's earlier clocks that had not yet fallen due. Returns
    the number of clocks started.

    Set-based: the database writes the clocks from the assignments (INSERT … SELECT), one
    statement per SLA and distinct assignment time (a batch shares one), so the number of
    statements does not grow with the assignments (plus one per team for its calendar).
    Idempotent: a clock exists at most once per (SLA, assignment).
    """
    ids = [assignment.pk for assignment in assignments]
    if not ids:
        return 0
    rows = list(Assignment.objects.filter(pk__in=ids).values("pk", "lead_id", "assigned_at", "lead__team_id"))
    _cancel_superseded(rows)
    _meet_assignment_clocks(rows)
    batches: dict[tuple[int, datetime], list[int]] = defaultdict(list)
    for row in rows:
        batches[row["lead__team_id"], row["assigned_at"]].append(row["pk"])
    slas = defaultdict(list)
    team_ids = {team_id for team_id, _at in batches}
    kinds = [Sla.Kind.RESPONSE, Sla.Kind.CADENCE]
    for sla in Sla.objects.filter(team_id__in=team_ids, is_active=True, kind__in=kinds).select_related("team"):
        slas[sla.team_id].append(sla)
    calendars: dict[int, BusinessCalendar] = {}
    started = 0
    for (team_id, at), batch in batches.items():
        for sla in slas.get(team_id, []):
            if sla.active_from > at:
                continue
            if team_id not in calendars:
                calendars[team_id] = calendar_for_team(sla.team)
            chosen = Assignment.objects.filter(pk__in=batch)
            if sla.sources:
                chosen = chosen.filter(lead__source__in=sla.sources)
            started += insert_select(Clock, chosen, _clock_of_assignment(sla, at, calendars[team_id], now))
    return started


def clocks_start_unassigned(*, leads: Sequence[Lead], now: datetime) -> list[Clock]:
    """Start the team's clock per active `assignment` SLA (SPEC §3.4) for leads just created
    without an owner: it runs from the lead's creation to its first assignment, and is the
    team's (no owner). Call it before routing assigns them, in the same transaction.

    One query for the SLAs and one insert, whatever the number of leads (plus one per team
    for its calendar). Idempotent: a clock exists at most once per (SLA, lead)."""
    team_ids = {lead.team_id for lead in leads}
    if not team_ids:
        return []
    slas = defaultdict(list)
    for sla in Sla.objects.filter(team_id__in=team_ids, is_active=True, kind=Sla.Kind.ASSIGNMENT).select_related(
        "team"
    ):
        slas[sla.team_id].append(sla)
    if not slas:
        return []
    calendars = {team_id: calendar_for_team(found[0].team) for team_id, found in slas.items()}
    clocks = []
    for lead in leads:
        for sla in slas.get(lead.team_id, []):
            if sla.active_from > lead.created_at or (sla.sources and lead.source not in sla.sources):
                continue
            due, warn, _required = clock_terms(sla, lead.created_at, calendars[sla.team_id])
            clocks.append(
                Clock(
                    sla=sla,
                    sla_version=sla.version,
                    kind=sla.kind,
                    lead_id=lead.pk,
                    team_id=sla.team_id,
                    started_at=lead.created_at,
                    due_at=due,
                    warn_at=warn,
                    created_at=now,
                )
            )
    return Clock.objects.bulk_create(clocks, ignore_conflicts=True)


def _meet_assignment_clocks(rows: list[dict]) -> None:
    """A lead's first assignment stops its team's assignment clock: met when it came in time;
    a breach already recorded is resolved by it. One UPDATE (two after a breach) per
    distinct assignment time (a batch shares one)."""
    by_time: dict[datetime, list[int]] = defaultdict(list)
    for row in rows:
        by_time[row["assigned_at"]].append(row["lead_id"])
    for assigned_at, lead_ids in by_time.items():
        waiting = Clock.objects.filter(kind=Sla.Kind.ASSIGNMENT, lead_id__in=lead_ids, started_at__lte=assigned_at)
        waiting.filter(state=Clock.State.RUNNING, due_at__gte=assigned_at).update(
            state=Clock.State.MET, satisfied_at=assigned_at
        )
        late = Breach.objects.filter(
            kind=Sla.Kind.ASSIGNMENT, lead_id__in=lead_ids, resolved_at__isnull=True, due_at__lt=assigned_at
        )
        _breaches_resolve(late, at=assigned_at, now=assigned_at)


def _cancel_superseded(rows: list[dict]) -> None:
    """A new owner's clock replaces the old owner's unfinished one. A clock already due
    when the lead changed hands is left running: the sweep records its breach.
    One UPDATE per distinct assignment time (a bulk assignment shares one)."""
    by_time: dict[datetime, list[int]] = defaultdict(list)
    for row in rows:
        by_time[row["assigned_at"]].append(row["lead_id"])
    new_assignments = [row["pk"] for row in rows]
    for assigned_at, lead_ids in by_time.items():
        Clock.objects.filter(lead_id__in=lead_ids, state=Clock.State.RUNNING, due_at__gt=assigned_at).exclude(
            assignment_id__in=new_assignments
        ).exclude(kind=Sla.Kind.ASSIGNMENT).update(
            state=Clock.State.CANCELLED, cancelled_at=assigned_at, cancel_reason=Clock.CancelReason.REASSIGNED
        )


def clock_terms(sla: Sla, started: datetime, calendar: BusinessCalendar) -> tuple[datetime, datetime, int]:
    """A clock of `sla` started at `started`: when it falls due, when it is at risk from, and the
    follow-ups it requires (an assignment clock: the one assignment). The terms the live clocks
    and the SLA preview (slas.services.preview) both start with."""
    if sla.kind in (Sla.Kind.RESPONSE, Sla.Kind.ASSIGNMENT):
        due = add_target(calendar, started, sla.target_value, sla.target_unit)
        return due, _warn_at(calendar, sla, started, due), 1
    due = started + timedelta(days=sla.window_days)
    return due, cadence_warn_at(started, due, sla.min_touches, counted=0), sla.min_touches


def _clock_of_assignment(sla: Sla, started: datetime, calendar: BusinessCalendar, now: datetime) -> dict:
    """Every column of the clock `sla` starts for an assignment made at `started`, in order,
    with the expression on the assignment that fills it."""
    due, warn, required = clock_terms(sla, started, calendar)
    reassign = None
    if sla.kind == Sla.Kind.RESPONSE and sla.reassign_after:
        reassign = add_target(calendar, due, sla.reassign_after, sla.reassign_after_unit)
    instant = DateTimeField()
    return {
        "sla_id": Value(sla.pk),
        "sla_version": Value(sla.version),
        "kind": Value(sla.kind),
        "lead_id": F("lead_id"),
        "assignment_id": F("pk"),
        "owner_id": F("owner_id"),
        "team_id": Value(sla.team_id),
        "started_at": Value(started, output_field=instant),
        "due_at": Value(due, output_field=instant),
        "warn_at": Value(warn, output_field=instant),
        "required": Value(required),
        "state": Value(Clock.State.RUNNING.value),
        "satisfied_at": Value(None, output_field=instant),
        "cancelled_at": Value(None, output_field=instant),
        "cancel_reason": Value(""),
        "reassign_at": Value(reassign, output_field=instant),
        "escalated_at": Value(None, output_field=instant),
        "created_at": Value(now, output_field=instant),
    }


def _warn_at(calendar: BusinessCalendar, sla: Sla, started: datetime, due: datetime) -> datetime:
    """The instant `warn_at_percent` of the window has passed, in the SLA's own kind of time."""
    if sla.target_unit in BUSINESS_UNITS:
        return calendar.add(started, calendar.between(started, due) * sla.warn_at_percent / 100)
    return started + (due - started) * sla.warn_at_percent / 100


def cadence_warn_at(started: datetime, due: datetime, required: int, *, counted: int) -> datetime:
    """When a cadence clock with `counted` of its `required` touches falls behind the
    straight-line pace (SPEC §3.2: at risk while touches < floor(required × elapsed ÷ window)),
    that is when the next touch is owed: started + window × (counted + 1) ÷ required.

    Stored as the clock's `warn_at` and moved on by every touch, so that a cadence clock is
    at risk from `warn_at` as a response clock is, one rule everywhere (slas.selectors)."""
    if counted >= required:
        return due
    return started + (due - started) * (counted + 1) / required


def clocks_refresh(*, lead_ids: Iterable[int], now: datetime) -> None:
    """Bring the clocks of these leads in line with their touches, rejections and status.

    A response clock is met by the first touch or rejection in [started, due]; a cadence
    clock when its touches in [started, due) reach the number required, and it is
    cancelled when the lead closes before its window ends unmet (and runs again if the
    lead is reopened in time). A recorded breach stays; a response after the deadline
    marks it resolved. Idempotent; a constant number of queries.
    """
    lead_ids = list(lead_ids)
    clocks = list(Clock.objects.filter(lead_id__in=lead_ids).exclude(cancel_reason=Clock.CancelReason.REASSIGNED))
    if not clocks:
        return
    touches: dict[int, list[datetime]] = defaultdict(list)
    rows = Touch.objects.filter(lead_id__in=lead_ids).order_by("occurred_at").values_list("lead_id", "occurred_at")
    for lead_id, at in rows:
        touches[lead_id].append(at)
    responses: dict[int, list[datetime]] = defaultdict(list)
    for lead_id, at in Rejection.objects.filter(lead_id__in=lead_ids).values_list("lead_id", "at"):
        responses[lead_id].append(at)
    for lead_id, times in touches.items():
        responses[lead_id].extend(times)
    closed = dict(Lead.objects.filter(pk__in=lead_ids, status__in=CLOSED).values_list("pk", "closed_at"))
    changed, resolved = [], {}
    for clock in clocks:
        before = (clock.state, clock.satisfied_at, clock.cancelled_at, clock.cancel_reason, clock.warn_at)
        if clock.kind == Sla.Kind.ASSIGNMENT:
            # Met only by an assignment (clocks_start); a lead closed before it reached anyone
            # and before the deadline needs no rep (reopened in time, its clock runs again).
            if clock.state in (Clock.State.RUNNING, Clock.State.CANCELLED):
                closed_at = closed.get(clock.lead_id)
                _set(clock, met_at=None, closed_at=closed_at if closed_at and closed_at < clock.due_at else None)
        elif clock.kind == Sla.Kind.RESPONSE:
            first = min((at for at in responses[clock.lead_id] if at >= clock.started_at), default=None)
            if clock.state == Clock.State.BREACHED:
                resolved[clock.pk] = first
                continue
            _set(clock, met_at=first if first is not None and first <= clock.due_at else None)
        elif clock.state != Clock.State.BREACHED:
            counted = [at for at in touches[clock.lead_id] if clock.started_at <= at < clock.due_at]
            met_at = counted[clock.required - 1] if len(counted) >= clock.required else None
            clock.warn_at = cadence_warn_at(clock.started_at, clock.due_at, clock.required, counted=len(counted))
            closed_at = closed.get(clock.lead_id)
            _set(clock, met_at=met_at, closed_at=closed_at if closed_at and closed_at < clock.due_at else None)
        if (clock.state, clock.satisfied_at, clock.cancelled_at, clock.cancel_reason, clock.warn_at) != before:
            changed.append(clock)
    if changed:
        Clock.objects.bulk_update(changed, ["state", "satisfied_at", "cancelled_at", "cancel_reason", "warn_at"])
    for clock_id, first in resolved.items():
        _breaches_resolve(Breach.objects.filter(clock_id=clock_id), at=first, now=now)


def _breaches_resolve(breaches: QuerySet[Breach], *, at: datetime | None, now: datetime) -> None:
    """Set when the breaches were resolved (or that they are not: a late touch deleted). Those
    it resolves from unresolved are `breach.resolved` webhook events (SPEC §12)."""
    if at is not None:
        unresolved = breaches.filter(resolved_at__isnull=True)
        outbox.webhook_events_from(
            event=Event.BREACH_RESOLVED, rows=unresolved, subject=F("pk"), lead=F("lead_id"), now=now
        )
    breaches.exclude(resolved_at=at).update(resolved_at=at)


def _set(clock: Clock, *, met_at: datetime | None, closed_at: datetime | None = None) -> None:
    if met_at is not None:
        clock.state, clock.satisfied_at, clock.cancelled_at, clock.cancel_reason = Clock.State.MET, met_at, None, ""
    elif closed_at is not None:
        clock.state, clock.satisfied_at = Clock.State.CANCELLED, None
        clock.cancelled_at, clock.cancel_reason = closed_at, Clock.CancelReason.CLOSED
    else:
        clock.state, clock.satisfied_at, clock.cancelled_at, clock.cancel_reason = Clock.State.RUNNING, None, None, ""
