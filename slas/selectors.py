"""Reads of the SLA engine: scoped lists, clock states as people see them, compliance."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncWeek

from leads.models import Lead, Rejection, Status, Touch
from salesmarketing.csv_export import csv_lines
from slas.models import Breach, Clock, Sla, VolumeEvaluation
from teams import permissions
from teams.calendar import period_bounds
from teams.models import Membership, Role, Team, User
from teams.selectors import team_active_member_counts, team_active_members

# What a person sees: a running clock is pending, at risk, or (past its deadline, before
# the sweep has recorded it) breached; finished clocks are met, breached or cancelled.
PENDING, AT_RISK, MET, BREACHED, CANCELLED = "pending", "at_risk", "met", "breached", "cancelled"


def sla_list(*, user: User) -> QuerySet[Sla]:
    return Sla.objects.filter(permissions.sla_scope(user)).select_related("team", "from_team")


def sla_team_choices(*, user: User, kind: str) -> tuple[QuerySet[Team], QuerySet[Team]] | None:
    """(sales teams whose SLAs of `kind` `user` may define, marketing teams such an SLA may
    name as owing the leads); None when they may define none."""
    scopes = permissions.sla_team_scopes(user, kind)
    if scopes is None:
        return None
    sales, marketing = scopes
    return Team.objects.filter(sales).order_by("name"), Team.objects.filter(marketing).order_by("name")


def breach_list(*, user: User) -> QuerySet[Breach]:
    return Breach.objects.filter(permissions.breach_scope(user)).select_related(
        "sla", "lead", "team", "responsible_user", "responsible_team", "acknowledged_by", "waived_by"
    )


def clock_state(clock: Clock, *, now: datetime) -> str:
    """The state of a clock at `now`, as SPEC §3 names it, decided here for every page, the
    API and the e-mails: finished clocks are met, breached or cancelled; a running one is
    breached once due (before the sweep has recorded it), at risk from its `warn_at` (a
    response clock's warning percentage, a cadence clock's pace of touches), else pending."""
    return deadline_state(state=clock.state, due_at=clock.due_at, warn_at=clock.warn_at, now=now)


def deadline_state(*, state: str, due_at: datetime | None, warn_at: datetime | None, now: datetime) -> str | None:
    """`clock_state` from a clock's columns (None without a clock: no deadline)."""
    if due_at is None:
        return None
    if state == Clock.State.MET:
        return MET
    if state == Clock.State.CANCELLED:
        return CANCELLED
    if state == Clock.State.BREACHED or now >= due_at:
        return BREACHED
    return AT_RISK if warn_at is not None and now >= warn_at else PENDING


# The clocks a lead's owner still has to act on: running ones, and a first follow-up that
# breached and is still unanswered (the loudest of all). Met, cancelled and answered ones
# are done with; a cadence window that closed short is history. An unassigned lead's are
# its team's assignment clocks (no owner), for whoever assigns it, likewise.
OPEN_CLOCK = Q(state=Clock.State.RUNNING) | Q(
    state=Clock.State.BREACHED,
    kind__in=[Sla.Kind.RESPONSE, Sla.Kind.ASSIGNMENT],
    breach__resolved_at__isnull=True,
)


# The most urgent of a lead's open clocks comes first: the nearest deadline (the longest overdue).
URGENT_FIRST = ("due_at", "pk")


def urgent_clock(*, owner) -> QuerySet[Clock]:
    """For a subquery on leads: the open clocks of the lead (OuterRef "pk") that `owner` (a
    user, or an expression such as OuterRef("owner")) has to act on, the most urgent first;
    its `due_at`, `warn_at` and `state` give the lead's SLA state."""
    return Clock.objects.filter(OPEN_CLOCK, lead=OuterRef("pk"), owner=owner).order_by(*URGENT_FIRST)


def urgent_clocks(*, leads: Iterable[Lead]) -> dict[int, Clock]:
    """`urgent_clock` for a page of leads at once: the most urgent open clock of each lead for
    its owner, by lead id (leads without one are left out). One statement."""
    owners = {lead.pk: lead.owner_id for lead in leads}
    clocks = (
        Clock.objects.filter(OPEN_CLOCK, lead_id__in=owners)
        .only("lead_id", "owner_id", "kind", "state", "due_at", "warn_at")
        .order_by(*URGENT_FIRST)
    )
    found: dict[int, Clock] = {}
    for clock in clocks:
        if clock.owner_id == owners[clock.lead_id]:
            found.setdefault(clock.lead_id, clock)
    return found


@dataclass(frozen=True)
class ClockView:
    """A clock as a person sees it: its state now, touches counted, time left (negative: overdue)."""

    clock: Clock
    state: str
    counted: int
    remaining: timedelta


def lead_clocks(*, lead_id: int, now: datetime) -> list[ClockView]:
    """The lead's clocks, newest assignment first, with their state at `now` and the touches
    each counts (two queries)."""
    clocks = list(
        Clock.objects.filter(lead_id=lead_id)
        .select_related("sla", "owner", "team")
        .order_by("-started_at", "sla__name")
    )
    times = list(Touch.objects.filter(lead_id=lead_id).values_list("occurred_at", flat=True))
    views = []
    for clock in clocks:
        counted = sum(1 for at in times if clock.started_at <= at < clock.due_at)
        state = clock_state(clock, now=now)
        views.append(ClockView(clock=clock, state=state, counted=counted, remaining=clock.due_at - now))
    return views


def clock_compliance(*, kind: str, start: datetime, end: datetime, team=None, owner=None, teams=None) -> float | None:
    """Deadlines of `kind` that fell due in [start, end) for a team, a person or some teams:
    met ÷ (met + breached), waived breaches left out; None when nothing fell due."""
    clocks = Clock.objects.filter(kind=kind, due_at__gte=start, due_at__lt=end)
    if owner is not None:
        clocks = clocks.filter(owner=owner)
    elif team is not None:
        clocks = clocks.filter(team=team)
    elif teams is not None:
        clocks = clocks.filter(team__in=teams)
    counts = clocks.aggregate(
        met=Count("pk", filter=Q(state=Clock.State.MET)),
        breached=Count("pk", filter=Q(state=Clock.State.BREACHED, breach__waived=False)),
    )
    return compliance(counts["met"], counts["breached"])


def sla_counts_for(*, slas: list[Sla], now: datetime) -> dict[int, dict[str, int]]:
    """For each SLA, its clocks by what they came to: met, breached (not waived), waived,
    pending, cancelled; a volume SLA its periods. Five grouped queries whatever the count."""
    ids = [sla.pk for sla in slas]
    states: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    for sla_id, state, n in (
        Clock.objects.filter(sla_id__in=ids).values_list("sla_id", "state").annotate(n=Count("pk")).order_by()
    ):
        states[sla_id][state] = n
    overdue = dict(
        Clock.objects.filter(sla_id__in=ids, state=Clock.State.RUNNING, due_at__lte=now)
        .values_list("sla_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    breaches = {
        sla_id: (total, waived)
        for sla_id, total, waived in Breach.objects.filter(sla_id__in=ids)
        .values_list("sla_id")
        .annotate(total=Count("pk"), waived=Count("pk", filter=Q(waived=True)))
        .order_by()
    }
    periods = dict(
        VolumeEvaluation.objects.filter(sla_id__in=ids).values_list("sla_id").annotate(n=Count("pk")).order_by()
    )
    counts = {}
    for sla in slas:
        total, waived = breaches.get(sla.pk, (0, 0))
        if sla.kind == Sla.Kind.VOLUME:
            counts[sla.pk] = {
                "met": periods.get(sla.pk, 0) - total,
                "breached": total - waived,
                "waived": waived,
                "pending": 0,
                "cancelled": 0,
            }
            continue
        by_state, late = states[sla.pk], overdue.get(sla.pk, 0)
        counts[sla.pk] = {
            "met": by_state.get(Clock.State.MET, 0),
            "breached": by_state.get(Clock.State.BREACHED, 0) + late - waived,
            "waived": waived,
            "pending": by_state.get(Clock.State.RUNNING, 0) - late,
            "cancelled": by_state.get(Clock.State.CANCELLED, 0),
        }
    return counts


def sla_counts(*, sla: Sla, now: datetime) -> dict[str, int]:
    """`sla_counts_for` of one SLA."""
    return sla_counts_for(slas=[sla], now=now)[sla.pk]


def compliance(met: int, breached: int) -> float | None:
    """Share of judged promises kept (waived breaches left out); None when nothing was judged."""
    judged = met + breached
    return met / judged if judged else None


def sla_weekly_compliance(*, sla: Sla, now: datetime, weeks: int = 12) -> list[dict]:
    """Compliance per week (by deadline) for the last `weeks` weeks: two aggregate queries."""
    since = now - timedelta(weeks=weeks)
    met = dict(
        sla.clocks.filter(state=Clock.State.MET, due_at__gte=since, due_at__lte=now)
        .annotate(week=TruncWeek("due_at"))
        .values_list("week")
        .annotate(n=Count("pk"))
        .order_by()
    )
    breached = dict(
        sla.breaches.filter(waived=False, due_at__gte=since, due_at__lte=now)
        .annotate(week=TruncWeek("due_at"))
        .values_list("week")
        .annotate(n=Count("pk"))
        .order_by()
    )
    rows = []
    for week in sorted(set(met) | set(breached)):
        rate = compliance(met.get(week, 0), breached.get(week, 0))
        rows.append({"week": week, "met": met.get(week, 0), "breached": breached.get(week, 0), "rate": rate})
    return rows


def leads_with_clock_state(*, state: str, now: datetime) -> Q:
    """A filter on leads whose current clocks are in `state` (for the lead list)."""
    running = Clock.objects.filter(lead_id=OuterRef("pk"), state=Clock.State.RUNNING)
    if state == BREACHED:
        return Q(Exists(Breach.objects.filter(lead_id=OuterRef("pk")))) | Q(Exists(running.filter(due_at__lte=now)))
    if state == AT_RISK:
        return Q(Exists(running.filter(due_at__gt=now, warn_at__lte=now)))
    if state == PENDING:
        return Q(Exists(running.filter(due_at__gt=now)))
    if state == MET:
        return Q(Exists(Clock.objects.filter(lead_id=OuterRef("pk"), state=Clock.State.MET)))
    return Q()


BREACH_EXPORT_COLUMNS = [
    ("id", "id"),
    ("sla", "sla__name"),
    ("kind", "kind"),
    ("team", "team__name"),
    ("lead", "lead__name"),
    ("responsible_user", "responsible_user__username"),
    ("responsible_team", "responsible_team__name"),
    ("period_start", "period_start"),
    ("due_at", "due_at"),
    ("detected_at", "detected_at"),
    ("expected", "expected"),
    ("actual", "actual"),
    ("resolved_at", "resolved_at"),
    ("acknowledged_by", "acknowledged_by__username"),
    ("acknowledged_at", "acknowledged_at"),
    ("note", "note"),
    ("waived", "waived"),
    ("waived_reason", "waived_reason"),
]


def breach_export_lines(*, breaches: QuerySet[Breach]) -> Iterator[str]:
    """CSV lines of `breaches`, newest first, streamed; text cells are formula-safe."""
    return csv_lines(rows=breaches.order_by("-due_at", "-id"), columns=BREACH_EXPORT_COLUMNS)


def _counted_leads(*, sla: Sla, start: datetime, end: datetime) -> Q:
    """Leads of the SLA's sales team created in [start, end) that count for it: of its
    sources, and (unless it counts them) not rejected as duplicate or spam, a rejection that a
    dispute overturned (SPEC §15) excepted."""
    counted = Q(team_id=sla.team_id, created_at__gte=start, created_at__lt=end)
    if sla.sources:
        counted &= Q(source__in=sla.sources)
    if not sla.count_rejected:
        junk = Rejection.objects.filter(
            lead_id=OuterRef("pk"),
            reason__in=[Rejection.Reason.DUPLICATE, Rejection.Reason.SPAM],
            overturned_at__isnull=True,
        )
        counted &= ~(Q(status=Status.REJECTED) & Q(Exists(junk)))
    return counted


def volume_delivered(*, sla: Sla, start: datetime, end: datetime) -> int:
    """Leads of the SLA's sales team created in [start, end) that count for it."""
    return Lead.objects.filter(_counted_leads(sla=sla, start=start, end=end)).count()


def volume_expected(*, sla: Sla, last_day: date) -> int:
    """leads_per_rep × the sales team's active reps on the period's last day."""
    reps = team_active_members(team_id=sla.team_id, on=last_day, role=Role.SALES_REP).count()
    return sla.leads_per_rep * reps


def volume_delivered_in(*, sla: Sla, periods: list[tuple[datetime, datetime]]) -> list[int]:
    """`volume_delivered` of each of `periods` ([start, end) instants), in one statement: the
    team's counted leads of the whole span read once, counted per period."""
    if not periods:
        return []
    span = _counted_leads(sla=sla, start=min(start for start, _ in periods), end=max(end for _, end in periods))
    counts = Lead.objects.filter(span).aggregate(
        **{
            f"p{index}": Count("pk", filter=Q(created_at__gte=start, created_at__lt=end))
            for index, (start, end) in enumerate(periods)
        }
    )
    return [counts[f"p{index}"] for index in range(len(periods))]


def volume_expected_on(*, slas_and_days: list[tuple[Sla, date]]) -> list[int]:
    """`volume_expected` of each (SLA, the period's last day), in one statement whatever
    their number: the teams' rep memberships read once, counted per day."""
    spans: dict[int, list[tuple[date, date | None]]] = {}
    memberships = Membership.objects.filter(
        team_id__in={sla.team_id for sla, _ in slas_and_days}, role=Role.SALES_REP
    ).values_list("team_id", "started_on", "ended_on")
    for team_id, started, ended in memberships:
        spans.setdefault(team_id, []).append((started, ended))
    return [
        sla.leads_per_rep
        * sum(1 for started, ended in spans.get(sla.team_id, []) if started <= day and (ended is None or ended >= day))
        for sla, day in slas_and_days
    ]


@dataclass(frozen=True)
class VolumeProgress:
    """A volume SLA's current period so far."""

    period_start: date
    period_end: date  # inclusive
    delivered: int
    expected: int
    pace: int  # what the straight line says should have been delivered by now
    state: str  # pending or at_risk


def volume_progress(*, sla: Sla, now: datetime) -> VolumeProgress:
    """Delivered so far in the current period against the straight-line pace (two queries)."""
    return volume_progress_for(slas=[sla], now=now)[sla.pk]


def volume_progress_for(*, slas: list[Sla], now: datetime) -> dict[int, VolumeProgress]:
    """`volume_progress` of many volume SLAs (their `team` loaded), by SLA id: two queries
    whatever their number, so a page listing every SLA a marketing team owes stays constant."""
    if not slas:
        return {}
    today, periods = {}, {}
    for sla in slas:
        zone = ZoneInfo(sla.team.timezone)
        today[sla.team_id] = now.astimezone(zone).date()
        start, end = period_bounds(today[sla.team_id], sla.period)
        periods[sla.pk] = (start, end, *(datetime.combine(day, time(0), zone) for day in (start, end)))
    delivered = Lead.objects.filter(team_id__in=today).aggregate(
        **{
            f"sla_{sla.pk}": Count("pk", filter=_counted_leads(sla=sla, start=periods[sla.pk][2], end=now))
            for sla in slas
        }
    )
    reps = team_active_member_counts(days=today, role=Role.SALES_REP)
    found = {}
    for sla in slas:
        start, end, begins, ends = periods[sla.pk]
        expected = sla.leads_per_rep * reps.get(sla.team_id, 0)
        pace = int(expected * ((now - begins) / (ends - begins)))
        count = delivered[f"sla_{sla.pk}"]
        state = AT_RISK if count < pace else PENDING
        found[sla.pk] = VolumeProgress(start, end - timedelta(days=1), count, expected, pace, state)
    return found
