"""The sweep (SPEC §4): record a breach for every deadline that passed unmet.

- exact: whether a clock breached is decided from the lead's touches and rejections
  inside the clock's own window, never from when the sweep runs, so a late run
  records the same breaches with the same `due_at` as an on-time one;
- idempotent: breaches are unique by clock (and by volume SLA and period), and are
  written with INSERT … SELECT … ON CONFLICT DO NOTHING, so repeated or concurrent
  runs never record one twice;
- set-based: a handful of statements per run, whatever the number of leads. The
  incremental run looks only at running clocks that fell due (a partial index);
  `full=True` re-checks every clock that fell due, in chunks of ids, each chunk in
  its own short transaction, so a killed run resumes where it stopped.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from leads.models import CLOSED, Assignment, Lead, Rejection, Touch
from notifications import services as notifications
from salesmarketing.sql import insert_select
from slas.models import Breach, Clock, Sla, SweepLease, VolumeEvaluation
from slas.selectors import volume_delivered_in, volume_expected_on
from teams.calendar import period_bounds

LEASE = timedelta(minutes=10)  # longer than any run; an expired lease is a dead worker's


@dataclass
class SweepResult:
    response: int = 0
    cadence: int = 0
    volume: int = 0
    assignment: int = 0
    chunks: int = 0
    skipped: bool = False
    periods: list[tuple[int, date]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.response + self.cadence + self.volume + self.assignment


def sla_sweep(*, now: datetime, full: bool = False, chunk_size: int | None = None) -> SweepResult:
    """Record the breaches of every clock and volume period that fell due by `now`.

    One sweep runs at a time (an advisory lock, or a lease on SQLite); a second one started meanwhile
    returns at once with `skipped=True`, and would record nothing new if it did run.
    """
    holder = uuid.uuid4().hex
    if not _guard_take(holder):
        return SweepResult(skipped=True)
    try:
        result = SweepResult()
        if full:
            _sweep_full(now=now, chunk_size=chunk_size or settings.SLA_SWEEP_CHUNK, result=result)
        else:
            with transaction.atomic():
                clocks_judge(
                    clocks=Clock.objects.filter(state=Clock.State.RUNNING, due_at__lte=now), now=now, result=result
                )
            result.chunks = 1
        _sweep_volume(now=now, result=result)
        # Who should hear of it, in the app: each new breach's rep and managers, each rep
        # whose clock fell at risk since the last sweep (SPEC §12).
        notifications.breaches_notify(now=now)
        _at_risk_notify(now=now)
        return result
    finally:
        _guard_release(holder)


def _at_risk_notify(*, now: datetime) -> None:
    """Tell of the clocks that fell at risk since the last sweep told of them, and move that
    mark on (never back: a sweep `--as-of` an earlier time tells of nothing new)."""
    found = SweepLease.objects.filter(name="sweep").values_list("at_risk_told_until").first()
    notifications.clocks_at_risk_notify(now=now, since=found[0] if found else None)
    if found is None:  # PostgreSQL's sweeps lock by advisory lock and need no lease row before
        SweepLease.objects.get_or_create(name="sweep")
    SweepLease.objects.filter(Q(at_risk_told_until__isnull=True) | Q(at_risk_told_until__lt=now), name="sweep").update(
        at_risk_told_until=now
    )


def _sweep_full(*, now: datetime, chunk_size: int, result: SweepResult) -> None:
    """Every clock that fell due, by ranges of ids, each range in its own transaction that
    also records where the next one starts: a killed run resumes after its last whole chunk."""
    due = Clock.objects.filter(due_at__lte=now, state__in=[Clock.State.RUNNING, Clock.State.MET])
    bounds = due.order_by().values_list("pk", flat=True)
    low, high = bounds.order_by("pk").first(), bounds.order_by("-pk").first()
    if low is None:
        return
    resume = SweepLease.objects.filter(name="sweep").values_list("full_next", flat=True).first()
    for start in range(max(low, resume or low), high + 1, chunk_size):
        with transaction.atomic():
            _read_chunks_by_id()
            clocks_judge(clocks=due.filter(pk__gte=start, pk__lt=start + chunk_size), now=now, result=result)
            SweepLease.objects.filter(name="sweep").update(full_next=start + chunk_size)
        result.chunks += 1
    SweepLease.objects.filter(name="sweep").update(full_next=None)


def _read_chunks_by_id() -> None:
    """On PostgreSQL, read a chunk through its id range alone. Left to itself the planner
    ANDs that range with a bitmap of every due clock from the owner-state index: 0.3 s of a
    0.4 s statement at two million clocks (bench/README.md). For this transaction only."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_bitmapscan = off")


def answered_between(start, end) -> Exists:
    """A touch or a rejection of the clock's lead in [start, end]: what meets a response clock
    (SPEC §3.1). `start` and `end` are expressions on the clock's row (OuterRef)."""
    return Exists(
        Touch.objects.filter(lead_id=OuterRef("lead_id"), occurred_at__gte=start, occurred_at__lte=end)
    ) | Exists(Rejection.objects.filter(lead_id=OuterRef("lead_id"), at__gte=start, at__lte=end))


def touches_between(start, end) -> Subquery:
    """The number of touches of the clock's lead in [start, end): what a cadence clock counts
    (SPEC §3.2)."""
    return Subquery(
        Touch.objects.filter(lead_id=OuterRef("lead_id"), occurred_at__gte=start, occurred_at__lt=end)
        .order_by()
        .values("lead_id")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )


def clocks_judge(*, clocks: QuerySet[Clock], now: datetime, result: SweepResult | None = None) -> SweepResult:
    """Record the breach of every clock in `clocks` that is unmet by its rules, and set the
    states: eight statements. The sweep passes the clocks that fell due; the SLA preview
    (slas.services.preview) passes proposed ones, inside a transaction it rolls back."""
    result = result or SweepResult()
    touches = Touch.objects.filter(lead_id=OuterRef("lead_id"))
    rejections = Rejection.objects.filter(lead_id=OuterRef("lead_id"))
    answered = answered_between(OuterRef("started_at"), OuterRef("due_at"))
    response = clocks.filter(kind=Sla.Kind.RESPONSE).annotate(answered=answered)
    late_touch = Subquery(
        touches.filter(occurred_at__gt=OuterRef("due_at")).order_by("occurred_at").values("occurred_at")[:1]
    )
    late_rejection = Subquery(rejections.filter(at__gt=OuterRef("due_at")).order_by("at").values("at")[:1])
    if connection.vendor == "postgresql":  # LEAST skips NULLs there: each subquery once
        resolved_at = Least(late_touch, late_rejection)
    else:  # SQLite's MIN() of NULL is NULL
        resolved_at = Least(Coalesce(late_touch, late_rejection), Coalesce(late_rejection, late_touch))
    result.response += _insert_breaches(response.filter(answered=False), now, actual=Value(0), resolved_at=resolved_at)
    counted = touches_between(OuterRef("started_at"), OuterRef("due_at"))
    closed_in_time = Q(lead__status__in=CLOSED, lead__closed_at__lt=F("due_at"))
    cadence = clocks.filter(kind=Sla.Kind.CADENCE).annotate(counted=Coalesce(counted, 0))
    result.cadence += _insert_breaches(
        cadence.filter(counted__lt=F("required")).exclude(closed_in_time),
        now,
        actual=F("counted"),
        resolved_at=Value(None, output_field=DateTimeField()),
    )
    result.assignment += _sweep_assignment(clocks, now, closed_in_time)
    clocks.filter(breach__isnull=False).exclude(state=Clock.State.BREACHED).update(state=Clock.State.BREACHED)
    # Clocks that fell due met but whose state lagged behind (a full re-check of old data).
    clocks.filter(breach__isnull=True, state=Clock.State.RUNNING, kind=Sla.Kind.RESPONSE).update(state=Clock.State.MET)
    # A cadence clock is met by its count, even on a lead closed since; an unmet one on a lead
    # closed in time is left be (clocks_refresh cancelled it when the lead closed).
    cadence.filter(breach__isnull=True, state=Clock.State.RUNNING, counted__gte=F("required")).update(
        state=Clock.State.MET
    )
    return result


def _sweep_assignment(clocks: QuerySet[Clock], now: datetime, closed_in_time: Q) -> int:
    """Assignment clocks (SPEC §3.4): breached when no assignment of the lead came in
    [started, due], unless the lead was closed first; owed by the sales team, resolved by
    the first assignment after the deadline. Met ones whose state lagged are set: three
    statements."""
    assignments = Assignment.objects.filter(lead_id=OuterRef("lead_id"))
    in_time = Exists(assignments.filter(assigned_at__gte=OuterRef("started_at"), assigned_at__lte=OuterRef("due_at")))
    late = Subquery(
        assignments.filter(assigned_at__gt=OuterRef("due_at")).order_by("assigned_at").values("assigned_at")[:1]
    )
    waiting = clocks.filter(kind=Sla.Kind.ASSIGNMENT)
    inserted = _insert_breaches(
        waiting.filter(~in_time).exclude(closed_in_time),
        now,
        actual=Value(0),
        resolved_at=late,
        responsible_team=F("team_id"),
    )
    lagging = waiting.filter(breach__isnull=True, state=Clock.State.RUNNING)
    lagging.filter(in_time).update(state=Clock.State.MET)
    closed_at = Subquery(Lead.objects.filter(pk=OuterRef("lead_id")).values("closed_at")[:1])
    lagging.filter(~in_time).filter(closed_in_time).update(
        state=Clock.State.CANCELLED, cancelled_at=closed_at, cancel_reason=Clock.CancelReason.CLOSED
    )
    return inserted


def _insert_breaches(clocks: QuerySet[Clock], now: datetime, *, actual, resolved_at, responsible_team=None) -> int:
    """INSERT INTO breach SELECT … FROM clock … ON CONFLICT DO NOTHING; returns rows inserted."""
    row = _breach_of_clock(now=now, actual=actual, resolved_at=resolved_at, responsible_team=responsible_team)
    return insert_select(Breach, clocks, row)


def _breach_of_clock(*, now: datetime, actual, resolved_at, responsible_team=None) -> dict[str, Any]:
    """Every column of a clock's breach row, in order, with the expression on the clock that
    fills it: owed by the clock's owner, or (an assignment clock) by `responsible_team`."""
    no_id, no_time = Value(None, output_field=IntegerField()), Value(None, output_field=DateTimeField())
    return {
        "sla_id": F("sla_id"),
        "sla_version": F("sla_version"),
        "kind": F("kind"),
        "clock_id": F("pk"),
        "lead_id": F("lead_id"),
        "team_id": F("team_id"),
        "responsible_user_id": F("owner_id"),
        "responsible_team_id": no_id if responsible_team is None else responsible_team,
        "period_start": no_time,
        "period_end": no_time,
        "due_at": F("due_at"),
        "detected_at": Value(now, output_field=DateTimeField()),
        "expected": F("required"),
        "actual": actual,
        "resolved_at": resolved_at,
        "acknowledged_by_id": no_id,
        "acknowledged_at": no_time,
        "note": Value(""),
        "waived": Value(False, output_field=BooleanField()),
        "waived_by_id": no_id,
        "waived_at": no_time,
        "waived_reason": Value(""),
        # A breach already old news when recorded (a backfill) is marked told at once, so the
        # notifier never goes through it.
        "notified_at": Case(
            When(due_at__lt=now - notifications.NEWS_WITHIN, then=Value(now, output_field=DateTimeField())),
            default=no_time,
        ),
    }


# -- volume --------------------------------------------------------------------------------
def _sweep_volume(*, now: datetime, result: SweepResult) -> None:
    """Judge every ended period of every active volume SLA not judged yet: two statements
    when there is nothing new, whatever the number of SLAs; else one more per SLA with
    periods to judge (its delivered counts) and four in all, whatever the number of periods
    (a first sweep judges a year of them)."""
    slas = list(Sla.objects.filter(kind=Sla.Kind.VOLUME, is_active=True).select_related("team"))
    done = set(VolumeEvaluation.objects.filter(sla__in=slas).values_list("sla_id", "period_start"))
    due = {
        sla: [(start, end) for start, end in periods_ended(sla=sla, now=now) if (sla.pk, start) not in done]
        for sla in slas
    }
    due = {sla: periods for sla, periods in due.items() if periods}
    if not due:
        return
    judged = []  # (sla, start, end, delivered)
    for sla, periods in due.items():
        zone = ZoneInfo(sla.team.timezone)
        instants = [
            (datetime.combine(start, time(0), zone), datetime.combine(end, time(0), zone)) for start, end in periods
        ]
        delivered = volume_delivered_in(sla=sla, periods=instants)
        judged += [(sla, start, end, count) for (start, end), count in zip(periods, delivered, strict=True)]
    expected = volume_expected_on(slas_and_days=[(sla, end - timedelta(days=1)) for sla, _, end, _ in judged])
    breached = set(Breach.objects.filter(sla__in=due, clock__isnull=True).values_list("sla_id", "period_start"))
    evaluations, breaches = [], []
    for (sla, start, end, delivered), owed in zip(judged, expected, strict=True):
        last_day = end - timedelta(days=1)
        evaluations.append(
            VolumeEvaluation(
                sla=sla, period_start=start, period_end=last_day, expected=owed, delivered=delivered, evaluated_at=now
            )
        )
        result.periods.append((sla.pk, start))
        if delivered < owed and (sla.pk, start) not in breached:
            breaches.append(
                Breach(
                    sla=sla,
                    sla_version=sla.version,
                    kind=Sla.Kind.VOLUME,
                    team_id=sla.team_id,
                    responsible_team_id=sla.from_team_id,
                    period_start=start,
                    period_end=last_day,
                    due_at=datetime.combine(end, time(0), ZoneInfo(sla.team.timezone)),
                    detected_at=now,
                    expected=owed,
                    actual=delivered,
                )
            )
    with transaction.atomic():
        VolumeEvaluation.objects.bulk_create(evaluations, ignore_conflicts=True)
        Breach.objects.bulk_create(breaches, ignore_conflicts=True)
    result.volume += len(breaches)


def periods_ended(*, sla: Sla, now: datetime) -> list[tuple[date, date]]:
    """Full periods that start at or after the SLA became active and have ended by `now`
    (boundaries in the sales team's time zone): an SLA set up on 20 February is first judged for March."""
    zone = ZoneInfo(sla.team.timezone)
    active_day = sla.active_from.astimezone(zone)
    start, end = period_bounds(active_day.date(), sla.period)
    if active_day > datetime.combine(start, time(0), zone):
        start, end = end, period_bounds(end, sla.period)[1]
    today = now.astimezone(zone).date()
    found = []
    while end <= today:
        found.append((start, end))
        start, end = end, period_bounds(end, sla.period)[1]
    return found


# -- one sweep at a time ----------------------------------------------------------------------
# On PostgreSQL a session advisory lock: it dies with the connection, so a worker killed
# mid-sweep (SIGKILL, lost machine) frees it at once and the next run completes. SQLite
# has no such lock; there a lease row expires after LEASE instead.
ADVISORY_LOCK_KEY = 0x5E1A_5A5E


def _guard_take(holder: str) -> bool:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
            return bool(cursor.fetchone()[0])
    return _lease_take(holder)


def _guard_release(holder: str) -> None:
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])
        else:
            SweepLease.objects.filter(name="sweep", holder=holder).update(until=None, holder="")
    except DatabaseError:
        pass  # the connection is gone, and the advisory lock with it; the lease expires


def _lease_take(holder: str) -> bool:
    """Take the sweep lease unless another live sweep holds it (one conditional UPDATE)."""
    wall = timezone.now()
    free = Q(until__isnull=True) | Q(until__lt=wall)
    taken = SweepLease.objects.filter(free, name="sweep").update(holder=holder, until=wall + LEASE)
    if taken == 0 and not SweepLease.objects.filter(name="sweep").exists():
        # The row comes with the migrations; recreate it if someone emptied the table.
        SweepLease.objects.get_or_create(name="sweep")
        taken = SweepLease.objects.filter(free, name="sweep").update(holder=holder, until=wall + LEASE)
    return taken == 1
