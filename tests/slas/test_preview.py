"""What-if before changing an SLA (SPEC §15): the preview judges stored history as the sweep
would, week by week, and writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads import services as leads
from slas import services
from slas.models import Breach, Clock, Sla
from slas.services.preview import sla_preview
from teams.models import ClosedDate
from tests.factories import LeadFactory
from tests.slas.conftest import ACTIVE_FROM, jkt

pytestmark = pytest.mark.django_db

# A Thursday; the four complete weeks before it are 2026-W32 … W35, and Monday 17 August
# (W34) is Independence Day, a public holiday in Indonesia.
NOW = jkt(2026, 9, 3, 10)
WEEKS = ["2026-W32", "2026-W33", "2026-W34", "2026-W35"]
# Delays from assignment to the first follow-up, in turn: inside, across and past the
# deadlines of the SLAs below (None: never followed up).
DELAYS = [timedelta(minutes=30), timedelta(hours=5), timedelta(hours=20), None, timedelta(days=3), timedelta(hours=3)]


def _sla(users, team, **terms) -> Sla:
    return services.sla_create(by=users["sales_manager"], team=team, now=ACTIVE_FROM, name="x", **terms)


def _history(users, team) -> None:
    """Four weeks of leads: assigned at different hours of every day, followed up after
    the delays in turn, some touched again (cadence), one reassigned before its deadline, one
    rejected, one won (a closed lead's cadence clock is cancelled)."""
    n = 0
    for day in range(3, 29):  # 3 … 28 August 2026
        for hour in (8, 11, 16):
            at = jkt(2026, 8, day, hour, 15)
            owner = users["sales_rep"] if n % 2 else users["other_rep"]
            lead = LeadFactory(team=team, created_at=at)
            leads.lead_assign(lead=lead, owner=owner, by=users["sales_manager"], now=at)
            delay = DELAYS[n % len(DELAYS)]
            if n % 17 == 5:  # handed over before anyone answered: the first clock is cancelled
                other = users["other_rep"] if owner == users["sales_rep"] else users["sales_rep"]
                leads.lead_assign(lead=lead, owner=other, by=users["sales_manager"], now=at + timedelta(hours=2))
                owner = other
            if n % 23 == 7:
                leads.lead_reject(lead=lead, by=owner, reason="not_icp", now=at + timedelta(hours=4))
            elif delay is not None:
                for k in range(1 + n % 4):
                    leads.touch_log(lead=lead, by=owner, kind="call", now=at + delay + timedelta(days=k))
                if n % 19 == 3:
                    leads.lead_status_change(lead=lead, by=owner, status="won", now=at + delay + timedelta(hours=1))
            n += 1


def _recorded(sla: Sla) -> list[dict | None]:
    answer = sla_preview(by=sla.team.members.get(role="sales_manager"), now=NOW, sla=sla, weeks=4)
    return [
        None if week.current is None else {"met": week.current.met, "breached": week.current.breached}
        for week in answer.weeks
    ]


def _proposed(answer) -> list[dict]:
    return [{"met": week.proposed.met, "breached": week.proposed.breached} for week in answer.weeks]


@pytest.mark.parametrize(
    ("current", "proposed"),
    [
        (
            {"kind": "response", "target_value": 1, "target_unit": "business_days"},
            {"target_value": 4, "target_unit": "business_hours"},
        ),
        (
            {"kind": "response", "target_value": 4, "target_unit": "business_hours"},
            {"target_value": 2, "target_unit": "days"},
        ),
        ({"kind": "cadence", "min_touches": 5, "window_days": 30}, {"min_touches": 2, "window_days": 7}),
    ],
)
def test_the_preview_equals_what_the_sweep_records_under_those_terms(users, sales_team, current, proposed):
    """Two SLAs live through the same history; the sweep records both. Previewing the first
    with the second's terms answers, week by week, what the sweep recorded for the second."""
    ClosedDate.objects.create(team=sales_team, date=jkt(2026, 8, 18).date(), name="Cuti bersama")
    first = _sla(users, sales_team, **current)
    second = _sla(users, sales_team, **{**current, **proposed})
    _history(users, sales_team)
    services.sla_sweep(now=NOW)
    answer = sla_preview(by=users["sales_manager"], now=NOW, sla=first, weeks=4, **proposed)
    assert [week.label for week in answer.weeks] == WEEKS
    assert _proposed(answer) == _recorded(second)
    assert [{"met": w.current.met, "breached": w.current.breached} for w in answer.weeks] == _recorded(first)
    assert _recorded(first) != _recorded(second)  # the terms matter to this history
    assert sum(week.proposed.breached for week in answer.weeks) > 0
    by_rep = {rep.user.username: (rep.tally.met, rep.tally.breached) for rep in answer.reps}
    recorded = Clock.objects.filter(sla=second, started_at__gte=jkt(2026, 8, 3), started_at__lt=jkt(2026, 8, 31))
    for username, (met, breached) in by_rep.items():
        mine = recorded.filter(owner__username=username)
        assert (met, breached) == (mine.filter(state="met").count(), mine.filter(state="breached").count())
    assert len(by_rep) == 2


def test_an_assignment_sla_preview_equals_what_the_sweep_records(users, sales_team):
    first = _sla(users, sales_team, kind="assignment", target_value=2, target_unit="business_hours")
    second = _sla(users, sales_team, kind="assignment", target_value=30, target_unit="minutes")
    for i, day in enumerate(range(3, 29)):
        at = jkt(2026, 8, day, 8 + i % 9, 40)
        lead = leads.lead_create(by=users["sales_manager"], team=sales_team, name=f"Lead {i}", now=at)
        if i % 5:
            leads.lead_assign(
                lead=lead,
                owner=users["sales_rep"],
                by=users["sales_manager"],
                now=at + timedelta(hours=i % 4, minutes=1),
            )
    services.sla_sweep(now=NOW)
    answer = sla_preview(by=users["sales_manager"], now=NOW, sla=first, weeks=4, target_value=30, target_unit="minutes")
    assert _proposed(answer) == _recorded(second)
    assert _recorded(first) != _recorded(second)
    assert answer.reps == []  # routing's clock is the team's, never a rep's


def test_the_preview_writes_nothing(users, sales_team):
    sla = _sla(users, sales_team, kind="response", target_value=1, target_unit="business_days")
    _history(users, sales_team)
    services.sla_sweep(now=NOW)
    before = (Sla.objects.count(), Sla.history.count(), Clock.objects.count(), Breach.objects.count())
    sla_preview(by=users["sales_manager"], now=NOW, sla=sla, weeks=4, target_value=1, target_unit="hours")
    sla_preview(by=users["sales_manager"], now=NOW, team=sales_team, kind="cadence", weeks=4)
    assert (Sla.objects.count(), Sla.history.count(), Clock.objects.count(), Breach.objects.count()) == before
    sla.refresh_from_db()
    assert (sla.target_value, sla.target_unit, sla.version) == (1, "business_days", 1)


def test_a_new_sla_has_no_recorded_side_and_weeks_before_an_sla_have_none(users, sales_team):
    _history(users, sales_team)
    late = services.sla_create(
        by=users["sales_manager"],
        team=sales_team,
        kind="response",
        name="late",
        target_value=1,
        target_unit="business_days",
        now=jkt(2026, 8, 19, 12),  # in force from the middle of W34
    )
    new = sla_preview(
        by=users["sales_manager"],
        now=NOW,
        team=sales_team,
        kind="response",
        target_value=1,
        target_unit="business_days",
        weeks=4,
    )
    assert [week.current for week in new.weeks] == [None] * 4
    # three leads a day (a lead handed over counts once: its first clock was cancelled), to Friday 28th
    assert [week.clocks for week in new.weeks] == [21, 21, 21, 15]
    edited = sla_preview(by=users["sales_manager"], now=NOW, sla=late, weeks=4)
    assert [week.current is None for week in edited.weeks] == [True, True, False, False]


def test_clocks_not_due_yet_are_pending_not_breached(users, sales_team):
    sla = _sla(users, sales_team, kind="cadence", min_touches=5, window_days=30)
    _history(users, sales_team)
    answer = sla_preview(by=users["sales_manager"], now=NOW, sla=sla, weeks=4)
    assert answer.weeks[-1].proposed.breached == 0  # 30-day windows of late August end in September
    assert answer.weeks[-1].proposed.pending > 0


def test_weeks_are_complete_iso_weeks_in_the_team_zone(users, sales_team):
    monday_early = jkt(2026, 9, 7, 0, 30)  # Sunday 17:30 UTC: already the next week in Jakarta
    answer = sla_preview(
        by=users["sales_manager"],
        now=monday_early,
        team=sales_team,
        kind="response",
        target_value=1,
        target_unit="hours",
        weeks=2,
    )
    assert [week.label for week in answer.weeks] == ["2026-W35", "2026-W36"]
    assert (
        sla_preview(by=users["sales_manager"], now=NOW, team=sales_team, kind="cadence", weeks=26).weeks[0].label
        == "2026-W10"
    )


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"kind": "response", "target_value": 0, "target_unit": "hours"}, "target_value"),
        ({"kind": "response", "target_unit": "hours"}, "target_value"),
        ({"kind": "cadence", "sources": ["fax"]}, "sources"),
        ({"kind": "volume", "leads_per_rep": 10, "period": "month"}, "from_team"),
        ({"kind": "nonsense"}, "kind"),
        ({"kind": "response", "target_value": 1, "target_unit": "hours", "weeks": 27}, "weeks"),
        ({"kind": "response", "target_value": 1, "target_unit": "hours", "weeks": 0}, "weeks"),
    ],
)
def test_terms_the_sla_form_refuses_are_refused_alike(users, sales_team, terms, field):
    with pytest.raises(ValidationError) as refused:
        sla_preview(by=users["sales_manager"], now=NOW, team=sales_team, **terms)
    assert field in refused.value.message_dict


def test_a_volume_sla_is_not_previewed_by_week(users, sales_team, marketing_team):
    with pytest.raises(ValidationError) as refused:
        sla_preview(by=users["sales_manager"], now=NOW, team=sales_team, kind="volume", from_team=marketing_team)
    assert "kind" in refused.value.message_dict


@pytest.mark.parametrize("who", ["sales_rep", "marketer", "marketing_manager", "other_manager"])
def test_only_those_who_may_define_the_sla_preview_it(users, sales_team, who):
    sla = _sla(users, sales_team, kind="response", target_value=1, target_unit="business_days")
    with pytest.raises(PermissionDenied):
        sla_preview(by=users[who], now=NOW, sla=sla, target_value=2)
    with pytest.raises(PermissionDenied):
        sla_preview(by=users[who], now=NOW, team=sales_team, kind="response", target_value=2, target_unit="hours")


def test_the_number_of_statements_does_not_grow_with_the_leads(users, sales_team):
    sla = _sla(users, sales_team, kind="response", target_value=1, target_unit="business_days")

    def statements() -> int:
        with CaptureQueriesContext(connection) as queries:
            sla_preview(
                by=users["sales_manager"], now=NOW, sla=sla, weeks=4, target_value=4, target_unit="business_hours"
            )
        return len(queries)

    for i in range(5):
        lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 4 + i, 10))
        leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=lead.created_at)
    few = statements()
    _history(users, sales_team)
    if connection.vendor == "sqlite":
        pytest.skip("SQLite inserts the proposed clocks in batches of its parameter limit")
    assert statements() == few
