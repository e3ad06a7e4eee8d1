"""What-if before changing an SLA (SPEC §15): the last weeks of stored history judged under
proposed terms, as the sweep would judge them, writing nothing.

There is one implementation of the rules. The proposed SLA, and a clock for each of those
weeks' assignments (for an assignment SLA: each lead created without an owner), are written
inside a transaction that is always rolled back; the clocks' terms come from
`clocks.clock_terms` and the team's business calendar, as live clocks' do, and
`sweep.clocks_judge`, the statements the sweep itself runs, records their breaches. The
answer is read before the rollback, so the database keeps nothing, and the preview cannot
disagree with what the sweep would have recorded.

Weeks are complete ISO weeks in the team's time zone, and a clock belongs to the week its
lead was assigned (created, for an assignment SLA). Waivers are left out on both sides: a
preview judges the terms, not what managers later forgave.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from leads.models import Assignment, Lead
from routing.models import Decision, Trigger
from slas.models import TERM_FIELDS, Clock, Sla
from slas.services.clocks import clock_terms
from slas.services.definitions import DEFAULTS, sla_validate
from slas.services.sweep import answered_between, clocks_judge, touches_between
from teams import permissions
from teams.calendar import calendar_for_team
from teams.models import Team, User

WEEKS = 13
MAX_WEEKS = 26
JUDGED = (Sla.Kind.RESPONSE, Sla.Kind.CADENCE, Sla.Kind.ASSIGNMENT)


@dataclass
class Tally:
    met: int = 0
    breached: int = 0
    pending: int = 0

    @property
    def compliance(self) -> float | None:
        judged = self.met + self.breached
        return self.met / judged if judged else None


@dataclass
class Week:
    label: str  # ISO week, "2026-W34"
    start: date  # its Monday
    proposed: Tally = field(default_factory=Tally)
    current: Tally | None = None

    @property
    def clocks(self) -> int:
        return self.proposed.met + self.proposed.breached + self.proposed.pending


@dataclass
class RepTally:
    user: User
    tally: Tally


@dataclass
class Preview:
    sla: Sla  # the proposed definition, unsaved
    weeks: list[Week]
    reps: list[RepTally]

    @property
    def proposed(self) -> Tally:
        """The weeks together, under the proposed terms."""
        return _sum(week.proposed for week in self.weeks)

    @property
    def current(self) -> Tally | None:
        """The weeks together, as the SLA recorded them; None for a new SLA."""
        recorded = [week.current for week in self.weeks if week.current is not None]
        return _sum(recorded) if recorded else None


def _sum(tallies) -> Tally:
    total = Tally()
    for tally in tallies:
        total.met, total.breached, total.pending = (
            total.met + tally.met,
            total.breached + tally.breached,
            total.pending + tally.pending,
        )
    return total


def sla_preview(
    *,
    by: User,
    now: datetime,
    sla: Sla | None = None,
    team: Team | None = None,
    kind: str | None = None,
    weeks: int = WEEKS,
    **terms: Any,
) -> Preview:
    """The last `weeks` complete weeks of `team`'s history judged under a new SLA (`team`,
    `kind`, `terms`), or under `sla` with `terms` changed, beside what `sla` recorded.

    Checked as saving it would be: PermissionDenied where the user may not define it,
    ValidationError with the same field errors the SLA form and API give. Writes nothing; a
    constant number of statements whatever the number of leads (on SQLite the proposed
    clocks are inserted in batches)."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValidationError({"weeks": [_("Preview between 1 and %(most)s weeks.") % {"most": MAX_WEEKS}]})
    proposed = _proposed(by=by, sla=sla, team=team, kind=kind, terms=terms)
    found = _weeks(proposed.team, now, weeks)
    start, end = _bounds(proposed.team, found)
    with transaction.atomic():
        rows = _judge(proposed, by=by, start=start, end=end, now=now)
        transaction.set_rollback(True)
    owners = _tally(rows, found, proposed.team, now)
    if sla is not None:
        _tally_current(sla, found, start, end, now)
    people = User.objects.in_bulk(owners)
    reps = sorted((RepTally(people[pk], tally) for pk, tally in owners.items()), key=lambda rep: str(rep.user).lower())
    return Preview(sla=proposed, weeks=found, reps=reps)


def _proposed(*, by: User, sla: Sla | None, team: Team | None, kind: str | None, terms: dict) -> Sla:
    """The SLA as it would be saved, unsaved, after the checks `sla_create` or `sla_update` make."""
    unknown = set(terms) - {"name", *TERM_FIELDS}
    if unknown:
        raise TypeError(f"unexpected fields: {', '.join(sorted(unknown))}")
    if sla is not None:
        if not permissions.can_edit_sla(by, sla):
            raise PermissionDenied
        if kind not in (None, sla.kind):
            raise ValidationError({"kind": [_("The kind of an SLA cannot change; create a new one.")]})
        proposed = copy.copy(sla)
        proposed.pk, proposed.team = None, team or sla.team
    else:
        if team is None or kind is None:
            missing = {
                name: [_("This field is required.")] for name, given in (("team", team), ("kind", kind)) if not given
            }
            raise ValidationError(missing)
        if kind not in Sla.Kind.values:
            raise ValidationError({"kind": [_("Choose response, cadence, volume or assignment.")]})
        proposed = Sla(team=team, kind=kind, name=_("Proposed SLA"), **DEFAULTS.get(kind, {}))
        if not permissions.can_create_slas(by):
            raise PermissionDenied
    for name, value in terms.items():
        setattr(proposed, name, value.strip() if name == "name" else value)
    proposed.name = proposed.name or _("Proposed SLA")
    if not permissions.can_edit_sla(by, proposed):
        raise PermissionDenied
    sla_validate(proposed)
    if proposed.kind not in JUDGED:
        raise ValidationError(
            {"kind": [_("A preview judges response, cadence and assignment SLAs; a volume SLA has its periods.")]}
        )
    return proposed


def _weeks(team: Team, now: datetime, count: int) -> list[Week]:
    """The `count` complete ISO weeks before `now`'s week in the team's time zone, oldest first."""
    today = now.astimezone(ZoneInfo(team.timezone)).date()
    monday = today - timedelta(days=today.weekday())
    starts = [monday - timedelta(weeks=n) for n in range(count, 0, -1)]
    return [Week(label=day.strftime("%G-W%V"), start=day) for day in starts]


def _bounds(team: Team, weeks: list[Week]) -> tuple[datetime, datetime]:
    zone = ZoneInfo(team.timezone)
    first, after = weeks[0].start, weeks[-1].start + timedelta(weeks=1)
    return datetime.combine(first, time(0), zone), datetime.combine(after, time(0), zone)


def _judge(proposed: Sla, *, by: User, start: datetime, end: datetime, now: datetime) -> list[tuple]:
    """Inside the caller's transaction, which it must roll back: write the proposed SLA and its
    clocks for the history in [start, end), judge them with the sweep's statements, and read
    each clock's (started_at, owner, state, due_at, breached)."""
    proposed.created_by, proposed.active_from = by, start
    proposed._history_user = by
    proposed.save()
    calendar = calendar_for_team(proposed.team)
    terms: dict[datetime, tuple[datetime, datetime, int]] = {}
    clocks = []
    for pk, lead_id, owner_id, started in _starts(proposed, start, end):
        if started not in terms:
            terms[started] = clock_terms(proposed, started, calendar)
        due, warn, required = terms[started]
        clocks.append(
            Clock(
                sla=proposed,
                sla_version=proposed.version,
                kind=proposed.kind,
                lead_id=lead_id,
                assignment_id=pk,
                owner_id=owner_id,
                team_id=proposed.team_id,
                started_at=started,
                due_at=due,
                warn_at=warn,
                required=required,
                created_at=now,
            )
        )
    Clock.objects.bulk_create(clocks)
    mine = Clock.objects.filter(sla=proposed)
    if proposed.kind != Sla.Kind.ASSIGNMENT:
        _cancel_superseded(mine)
    clocks_judge(clocks=mine.exclude(state=Clock.State.CANCELLED), now=now)
    return list(mine.values_list("started_at", "owner_id", "state", "due_at", Q(breach__isnull=False)))


def _starts(proposed: Sla, start: datetime, end: datetime) -> list[tuple[int | None, int, int | None, datetime]]:
    """(assignment, lead, owner, started) of each clock the proposed SLA would have started in
    [start, end): the team's assignments, or, for an assignment SLA, the leads created without
    an owner (routed at creation counts as without: routing is what it measures)."""
    if proposed.kind == Sla.Kind.ASSIGNMENT:
        leads = Lead.objects.filter(team=proposed.team, created_at__gte=start, created_at__lt=end)
        given = Assignment.objects.filter(lead_id=OuterRef("pk"), assigned_at=OuterRef("created_at"))
        routed = Decision.objects.filter(lead_id=OuterRef("pk"), trigger=Trigger.CREATED)
        leads = leads.exclude(Exists(given) & ~Exists(routed))
        if proposed.sources:
            leads = leads.filter(source__in=proposed.sources)
        return [(None, pk, None, created) for pk, created in leads.values_list("pk", "created_at")]
    found = Assignment.objects.filter(lead__team=proposed.team, assigned_at__gte=start, assigned_at__lt=end)
    if proposed.sources:
        found = found.filter(lead__source__in=proposed.sources)
    return list(found.values_list("pk", "lead_id", "owner_id", "assigned_at"))


def _cancel_superseded(clocks: QuerySet[Clock]) -> int:
    """What `clocks._cancel_superseded` did when each lead changed hands: a clock not yet met
    when its lead went to someone else before its deadline is cancelled and counts for nobody.
    One UPDATE, with the sweep's own tests of what meets a clock."""
    reassigned_at = Subquery(
        Assignment.objects.filter(lead_id=OuterRef("lead_id"), assigned_at__gt=OuterRef("started_at"))
        .order_by("assigned_at")
        .values("assigned_at")[:1]
    )
    superseded = clocks.annotate(reassigned_at=reassigned_at).filter(reassigned_at__lt=F("due_at"))
    unmet = Q(kind=Sla.Kind.RESPONSE) & ~answered_between(OuterRef("started_at"), OuterRef("reassigned_at"))
    short = superseded.annotate(counted=touches_between(OuterRef("started_at"), OuterRef("reassigned_at")))
    behind = Q(kind=Sla.Kind.CADENCE) & (Q(counted__isnull=True) | Q(counted__lt=F("required")))
    return Clock.objects.filter(pk__in=short.filter(unmet | behind).values("pk")).update(
        state=Clock.State.CANCELLED, cancel_reason=Clock.CancelReason.REASSIGNED
    )


def _tally(rows: list[tuple], weeks: list[Week], team: Team, now: datetime) -> dict[int, Tally]:
    """Count the judged clocks into their weeks; return each owner's met and breached."""
    by_start = {week.start: week for week in weeks}
    zone = ZoneInfo(team.timezone)
    owners: dict[int, Tally] = defaultdict(Tally)
    for started, owner_id, state, due_at, breached in rows:
        outcome = _outcome(state, breached, due_at <= now)
        if outcome is None:
            continue
        day = started.astimezone(zone).date()
        week = by_start[day - timedelta(days=day.weekday())]
        _count(week.proposed, outcome)
        if owner_id is not None and outcome != "pending":
            _count(owners[owner_id], outcome)
    return owners


def _tally_current(sla: Sla, weeks: list[Week], start: datetime, end: datetime, now: datetime) -> None:
    """What `sla` recorded for the clocks it started in each week (any of its versions): one query.
    A week that ended before the SLA was in force has none (null)."""
    zone = ZoneInfo(sla.team.timezone)
    for week in weeks:
        if datetime.combine(week.start + timedelta(weeks=1), time(0), zone) > sla.active_from:
            week.current = Tally()
    by_start = {week.start: week for week in weeks}
    rows = Clock.objects.filter(sla=sla, started_at__gte=start, started_at__lt=end).values_list(
        "started_at", "state", "due_at", Q(breach__isnull=False)
    )
    for started, state, due_at, breached in rows:
        running = state == Clock.State.RUNNING and due_at > now
        outcome = "pending" if running else _outcome(state, breached, due_at <= now)
        day = started.astimezone(zone).date()
        week = by_start[day - timedelta(days=day.weekday())]
        if outcome is not None:
            week.current = week.current or Tally()
            _count(week.current, outcome)


def _outcome(state: str, breached: bool, due: bool) -> str | None:
    """What a judged clock came to: met; breached; pending (not due yet, and not met yet: its
    breach would come only if nothing meets it in time); or None, counting for nobody (cancelled,
    or an unmet clock the sweep leaves be because its lead closed in time)."""
    if state == Clock.State.MET:
        return "met"
    if breached:
        return "breached" if due else "pending"
    return None


def _count(tally: Tally, outcome: str) -> None:
    setattr(tally, outcome, getattr(tally, outcome) + 1)
