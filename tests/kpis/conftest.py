"""Fixtures for the breach cost: leads whose response clocks were met or breached, as rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from leads.models import Lead
from slas import services as sla_services
from slas.models import Breach, Clock, Sla
from teams.models import Team, User
from tests.factories import LeadFactory

MET, BREACHED, WAIVED, RUNNING = "met", "breached", "waived", "running"


@pytest.fixture
def judged(users):
    """`judged(team, outcome, assigned_at, won=False, value=None, also_met=False)`: a lead of
    `team` assigned at `assigned_at` to one of its reps, with a response clock that was met,
    breached, breached and waived, or is still running (`also_met`: a cadence clock met
    besides). Rows as the clock and sweep services leave them, without their cost."""
    slas: dict[tuple[int, str], Sla] = {}

    def sla_of(team: Team, kind: str, now: datetime) -> Sla:
        if (team.pk, kind) not in slas:
            terms = {"target_value": 2, "target_unit": "hours"} if kind == Sla.Kind.RESPONSE else {}
            slas[team.pk, kind] = sla_services.sla_create(
                by=users["admin"], team=team, kind=kind, name=f"{kind} SLA", now=now - timedelta(days=400), **terms
            )
        return slas[team.pk, kind]

    def make(
        team: Team,
        outcome: str,
        assigned_at: datetime,
        *,
        won: bool = False,
        value: Decimal | None = None,
        also_met: bool = False,
        due_at: datetime | None = None,
    ) -> Lead:
        rep = User.objects.filter(team=team, role="sales_rep").order_by("pk").first()
        sla = sla_of(team, Sla.Kind.RESPONSE, assigned_at)
        lead = LeadFactory(
            team=team,
            owner=rep,
            created_at=assigned_at,
            status="won" if won else "working",
            value=value,
            closed_at=assigned_at + timedelta(days=3) if won else None,
        )
        due = due_at or assigned_at + timedelta(hours=2)
        state = {MET: Clock.State.MET, RUNNING: Clock.State.RUNNING}.get(outcome, Clock.State.BREACHED)
        clock = _clock(lead, sla, Sla.Kind.RESPONSE, state, due)
        if outcome in (BREACHED, WAIVED):
            Breach.objects.create(
                sla=sla, sla_version=sla.version, kind=Sla.Kind.RESPONSE, clock=clock, lead=lead, team=team,
                responsible_user=rep, due_at=due, detected_at=due, expected=1, actual=0,
                waived=outcome == WAIVED, waived_reason="Bad data" if outcome == WAIVED else "",
            )  # fmt: skip
        if also_met:
            cadence = sla_of(team, Sla.Kind.CADENCE, assigned_at)
            _clock(lead, cadence, Sla.Kind.CADENCE, Clock.State.MET, due + timedelta(days=30))
        return lead

    return make


def _clock(lead: Lead, sla: Sla, kind: str, state: str, due: datetime) -> Clock:
    return Clock.objects.create(
        sla=sla, sla_version=sla.version, kind=kind, lead=lead, assignment=lead.assignments.get(),
        owner=lead.owner, team=lead.team, started_at=lead.assigned_at, due_at=due, warn_at=due - timedelta(hours=1),
        state=state, satisfied_at=due - timedelta(hours=1) if state == Clock.State.MET else None,
    )  # fmt: skip
