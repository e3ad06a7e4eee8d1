"""The sweep: exact, idempotent, set-based; volume periods; the command."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection, connections

from leads import services as leads
from leads.models import Lead
from slas import services
from slas.models import Breach, Clock, VolumeEvaluation
from teams import services as teams_services
from teams.models import Membership, Role
from tests.factories import LeadFactory, UserFactory
from tests.slas.conftest import jkt

pytestmark = pytest.mark.django_db


def assigned(users, sales_team, at, owner="sales_rep"):
    lead = LeadFactory(team=sales_team, created_at=at)
    leads.lead_assign(lead=lead, owner=users[owner], by=users["sales_manager"], now=at)
    return lead


def test_an_unanswered_lead_is_breached_once_with_its_due_time(users, sales_team, response_sla):
    lead = assigned(users, sales_team, jkt(2026, 8, 5, 9))
    assert services.sla_sweep(now=jkt(2026, 8, 5, 16, 59)).total == 0
    result = services.sla_sweep(now=jkt(2026, 8, 5, 17))  # exactly at the deadline
    assert (result.response, result.cadence) == (1, 0)
    breach = Breach.objects.get()
    assert (breach.lead, breach.team, breach.responsible_user, breach.kind) == (
        lead,
        sales_team,
        users["sales_rep"],
        "response",
    )
    assert (breach.due_at, breach.detected_at, breach.expected, breach.actual) == (
        jkt(2026, 8, 5, 17),
        jkt(2026, 8, 5, 17),
        1,
        0,
    )
    assert Clock.objects.get().state == "breached"
    assert services.sla_sweep(now=jkt(2026, 8, 6, 9)).total == 0
    assert Breach.objects.count() == 1


def test_a_late_sweep_records_the_same_breach_and_a_late_answer_resolves_it(users, sales_team, response_sla):
    on_time = assigned(users, sales_team, jkt(2026, 8, 5, 9))
    late = assigned(users, sales_team, jkt(2026, 8, 5, 9), owner="other_rep")
    leads.touch_log(lead=on_time, by=users["sales_rep"], kind="call", now=jkt(2026, 8, 5, 16))
    leads.touch_log(lead=late, by=users["other_rep"], kind="call", now=jkt(2026, 8, 6, 10))
    services.sla_sweep(now=jkt(2026, 8, 20, 9))  # the workers were down for two weeks
    breach = Breach.objects.get()
    assert (breach.lead, breach.due_at, breach.resolved_at) == (late, jkt(2026, 8, 5, 17), jkt(2026, 8, 6, 10))


def test_an_answer_after_the_breach_was_recorded_marks_it_resolved(users, sales_team, response_sla):
    lead = assigned(users, sales_team, jkt(2026, 8, 5, 9))
    services.sla_sweep(now=jkt(2026, 8, 5, 18))
    leads.touch_log(lead=lead, by=users["sales_rep"], kind="call", now=jkt(2026, 8, 6, 9))
    breach = Breach.objects.get()
    assert breach.resolved_at == jkt(2026, 8, 6, 9)
    assert Clock.objects.get().state == "breached"  # the breach stays


def test_cadence_breach_counts_touches_in_the_window(users, sales_team, cadence_sla):
    lead = assigned(users, sales_team, jkt(2026, 8, 3, 9))
    for day in range(3):
        leads.touch_log(lead=lead, by=users["sales_rep"], kind="call", now=jkt(2026, 8, 4 + day, 10))
    leads.touch_log(lead=lead, by=users["sales_rep"], kind="call", now=jkt(2026, 9, 5, 10))  # after the window
    services.sla_sweep(now=jkt(2026, 9, 10))
    breach = Breach.objects.get()
    assert (breach.kind, breach.expected, breach.actual, breach.due_at) == ("cadence", 5, 3, jkt(2026, 9, 2, 9))


def test_a_cadence_window_of_a_lead_closed_in_time_is_not_breached(users, sales_team, cadence_sla):
    lead = assigned(users, sales_team, jkt(2026, 8, 3, 9))
    leads.lead_status_change(lead=lead, by=users["sales_rep"], status="won", now=jkt(2026, 8, 10))
    closed_late = assigned(users, sales_team, jkt(2026, 8, 3, 9))
    leads.lead_status_change(lead=closed_late, by=users["sales_rep"], status="lost", now=jkt(2026, 9, 5))
    services.sla_sweep(now=jkt(2026, 9, 10))
    assert list(Breach.objects.values_list("lead", flat=True)) == [closed_late.pk]


@contextmanager
def another_sweep_running():
    """What a sweep in another process holds: the advisory lock on PostgreSQL, the lease on SQLite."""
    from slas.models import SweepLease
    from slas.services.sweep import ADVISORY_LOCK_KEY

    if connection.vendor == "postgresql":
        other = connections.create_connection("default")
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        try:
            yield
        finally:
            with other.cursor() as cursor:  # the other sweep ends
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])
            other.close()
    else:
        SweepLease.objects.filter(name="sweep").update(holder="another", until=jkt(2099, 1, 1))
        yield
        SweepLease.objects.all().delete()


def test_running_twice_or_with_another_sweep_running_records_nothing_twice(users, sales_team, response_sla):
    assigned(users, sales_team, jkt(2026, 8, 5, 9))
    with another_sweep_running():
        assert services.sla_sweep(now=jkt(2026, 8, 6)).skipped
        assert Breach.objects.count() == 0
    assert services.sla_sweep(now=jkt(2026, 8, 6)).response == 1
    assert services.sla_sweep(now=jkt(2026, 8, 6), full=True).response == 0
    assert Breach.objects.count() == 1


def test_full_re_check_finds_breaches_whatever_the_stored_state(users, sales_team, response_sla):
    answered = assigned(users, sales_team, jkt(2026, 8, 5, 9))
    silent = assigned(users, sales_team, jkt(2026, 8, 5, 9))
    leads.touch_log(lead=answered, by=users["sales_rep"], kind="call", now=jkt(2026, 8, 5, 10))
    Clock.objects.update(state="met")  # e.g. data loaded by hand with wrong states
    assert services.sla_sweep(now=jkt(2026, 8, 6)).total == 0  # incremental trusts the states
    result = services.sla_sweep(now=jkt(2026, 8, 6), full=True, chunk_size=1)
    assert result.response == 1 and result.chunks >= 2
    assert Breach.objects.get().lead == silent


def test_a_full_run_killed_midway_resumes_after_its_last_whole_chunk(users, sales_team, response_sla):
    for _ in range(6):
        assigned(users, sales_team, jkt(2026, 8, 5, 9))
    from slas.models import SweepLease
    from slas.services import sweep

    real, calls = sweep.clocks_judge, []

    def dies_in_the_fourth_chunk(*, clocks, now, result):
        calls.append(1)
        real(clocks=clocks, now=now, result=result)  # the chunk's breaches are written …
        if len(calls) == 4:
            raise SystemExit("worker killed")  # … and lost with its transaction

    with mock.patch.object(sweep, "clocks_judge", dies_in_the_fourth_chunk), pytest.raises(SystemExit):
        services.sla_sweep(now=jkt(2026, 8, 6), full=True, chunk_size=1)
    assert Breach.objects.count() == 3  # three whole chunks, nothing of the fourth
    first_clock = Clock.objects.order_by("pk").first().pk
    assert SweepLease.objects.get().full_next == first_clock + 3
    SweepLease.objects.update(holder="", until=None)  # the killed run's lease (SQLite) has expired

    resumed = services.sla_sweep(now=jkt(2026, 8, 6), full=True, chunk_size=1)
    assert (resumed.response, resumed.chunks) == (3, 3)  # it did only what was left
    assert Breach.objects.count() == 6
    assert SweepLease.objects.get().full_next is None
    Breach.objects.all().delete()
    Clock.objects.update(state="running")
    assert services.sla_sweep(now=jkt(2026, 8, 6), full=True, chunk_size=1).chunks == 6  # a new run starts over


def test_the_sweep_uses_the_same_number_of_queries_at_10_and_at_1000_leads(
    users, sales_team, response_sla, cadence_sla
):
    def load(n: int) -> None:
        start = jkt(2026, 8, 5, 9)
        batch = [LeadFactory.build(team=sales_team, created_at=start) for _ in range(n)]
        Lead.objects.bulk_create(batch)
        fresh = list(Lead.objects.filter(owner__isnull=True))
        leads.leads_assign_bulk(leads=fresh, owner=users["sales_rep"], by=users["sales_manager"], now=start)

    def count(now) -> int:
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            services.sla_sweep(now=now)
        return len(queries)

    load(10)
    small = count(jkt(2026, 8, 6))
    load(1000)
    large = count(jkt(2026, 8, 7))
    assert small == large
    assert Breach.objects.filter(kind="response").count() == 1010


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_record_each_breach_once(users, sales_team, response_sla):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database serialises threads; CI runs this on PostgreSQL")
    for _ in range(20):
        assigned(users, sales_team, jkt(2026, 8, 5, 9))
    results, errors = [], []

    def sweep() -> None:
        try:
            results.append(services.sla_sweep(now=jkt(2026, 8, 6)))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    # Defeat the one-at-a-time guard so both really run: this tests the constraint itself.
    with mock.patch("slas.services.sweep._guard_take", return_value=True):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors, errors
    assert Breach.objects.count() == 20
    assert sum(result.response for result in results) == 20


# -- volume --------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _members_since_january(users):
    """The fixture's people joined their teams on 1 January, before every period judged here."""
    Membership.objects.update(started_on=date(2026, 1, 1))


def test_volume_is_first_judged_for_the_first_full_period(users, sales_team, marketing_team, volume_sla):
    # Active from 1 July 00:00 Jakarta: July is the first full month.
    for day in range(1, 31):
        LeadFactory(team=sales_team, created_at=jkt(2026, 7, day, 10))
    result = services.sla_sweep(now=jkt(2026, 8, 1, 0, 5))
    breach = Breach.objects.get(kind="volume")
    # Two reps in Sales Jakarta at the end of July: 2 × 50 expected, 30 delivered.
    assert (breach.expected, breach.actual, breach.period_start, breach.period_end) == (
        100,
        30,
        date(2026, 7, 1),
        date(2026, 7, 31),
    )
    assert (breach.responsible_team, breach.responsible_user, breach.lead, breach.due_at) == (
        marketing_team,
        None,
        None,
        jkt(2026, 8, 1),
    )
    assert result.volume == 1
    assert services.sla_sweep(now=jkt(2026, 8, 2)).volume == 0
    assert VolumeEvaluation.objects.count() == 1


def test_an_sla_set_up_mid_month_is_judged_from_the_next_month(users, sales_team, marketing_team):
    sla = services.sla_create(
        by=users["admin"], team=sales_team, kind="volume", name="V", from_team=marketing_team, now=jkt(2026, 2, 20)
    )
    services.sla_sweep(now=jkt(2026, 3, 15))
    assert not VolumeEvaluation.objects.exists()
    services.sla_sweep(now=jkt(2026, 4, 1))
    assert list(VolumeEvaluation.objects.values_list("sla", "period_start")) == [(sla.pk, date(2026, 3, 1))]


def test_volume_counts_reps_at_the_period_end_and_skips_junk(users, sales_team, marketing_team):
    sla = services.sla_create(
        by=users["admin"],
        team=sales_team,
        kind="volume",
        name="Quarterly",
        from_team=marketing_team,
        leads_per_rep=3,
        period="quarter",
        now=jkt(2026, 7, 1),
    )
    # rep2 leaves in August; a new rep joins in September: still two reps on 30 September.
    teams_services.user_update(user=users["other_rep"], is_active=False, on=date(2026, 8, 15))
    UserFactory(username="rep9", role=Role.SALES_REP, team=sales_team, on=date(2026, 9, 1))
    good = [LeadFactory(team=sales_team, created_at=jkt(2026, 8, 1, 10)) for _ in range(5)]
    spam = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 2, 10), owner=users["sales_rep"])
    leads.lead_reject(lead=spam, by=users["sales_rep"], reason="spam", now=jkt(2026, 8, 2, 11))
    not_icp = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 2, 10), owner=users["sales_rep"])
    leads.lead_reject(lead=not_icp, by=users["sales_rep"], reason="not_icp", now=jkt(2026, 8, 2, 11))
    LeadFactory(team=sales_team, created_at=jkt(2026, 10, 1, 0, 30))  # next quarter
    services.sla_sweep(now=jkt(2026, 10, 2))
    evaluation = VolumeEvaluation.objects.get(sla=sla)
    assert (evaluation.expected, evaluation.delivered) == (6, 6)  # 5 good + not_icp; spam excluded
    assert not Breach.objects.filter(kind="volume").exists()
    assert len(good) == 5


def test_a_year_of_volume_periods_is_judged_in_the_same_statements_as_one(
    users, sales_team, other_sales_team, marketing_team
):
    """A first sweep after a deploy judges every period since each volume SLA began: one
    statement per SLA for the delivered counts and a few in all, never a few per period; each
    period judged as the one-period selectors would (month-end reps, junk excluded)."""
    from django.test.utils import CaptureQueriesContext

    from slas.selectors import volume_delivered, volume_expected
    from slas.services.sweep import _sweep_volume

    slas = [
        services.sla_create(
            by=users["admin"], team=team, kind="volume", name="V", from_team=marketing_team, leads_per_rep=2,
            now=jkt(2025, 12, 20),
        )
        for team in (sales_team, other_sales_team)
    ]  # fmt: skip
    for month in range(1, 13):  # two leads in odd months, one in even ones; rep2 leaves in June
        for _ in range(1 + month % 2):
            LeadFactory(team=sales_team, created_at=jkt(2026, month, 10, 10))
        LeadFactory(team=other_sales_team, created_at=jkt(2026, month, 28, 23))
    spam = LeadFactory(team=sales_team, created_at=jkt(2026, 3, 3, 10), owner=users["sales_rep"])
    leads.lead_reject(lead=spam, by=users["sales_rep"], reason="spam", now=jkt(2026, 3, 3, 11))
    teams_services.user_update(user=users["other_rep"], is_active=False, on=date(2026, 6, 15))

    def statements(now) -> tuple[int, services.SweepResult]:
        result = services.SweepResult()
        with CaptureQueriesContext(connection) as queries:
            _sweep_volume(now=now, result=result)
        return len(queries), result

    one, first = statements(jkt(2026, 2, 1))
    assert len(first.periods) == 2  # January of each SLA
    twelve, year = statements(jkt(2027, 1, 1))
    assert len(year.periods) == 22  # February to December of each
    assert twelve == one
    assert statements(jkt(2027, 1, 2))[0] == 2  # nothing new: two statements
    for evaluation in VolumeEvaluation.objects.select_related("sla__team"):
        sla, start, zone = evaluation.sla, evaluation.period_start, ZoneInfo(evaluation.sla.team.timezone)
        begins = datetime.combine(start, time(0), zone)
        ends = datetime.combine(evaluation.period_end + timedelta(days=1), time(0), zone)
        assert evaluation.delivered == volume_delivered(sla=sla, start=begins, end=ends), (sla.team, start)
        assert evaluation.expected == volume_expected(sla=sla, last_day=evaluation.period_end), (sla.team, start)
        breached = Breach.objects.filter(sla=sla, period_start=start, clock__isnull=True).exists()
        assert breached == (evaluation.delivered < evaluation.expected)
    assert Breach.objects.filter(kind="volume").count() == first.volume + year.volume
    # March in Jakarta: two leads and a spam one, not counted; from June one rep is expected for.
    march = VolumeEvaluation.objects.get(sla=slas[0], period_start=date(2026, 3, 1))
    assert (march.delivered, march.expected) == (2, 4)
    assert VolumeEvaluation.objects.get(sla=slas[0], period_start=date(2026, 7, 1)).expected == 2


def test_the_command_accepts_as_of_and_full(users, sales_team, response_sla, capsys):
    assigned(users, sales_team, jkt(2026, 8, 5, 9))
    call_command("evaluate_slas", "--as-of", "2026-08-05T16:00:00+07:00")
    assert not Breach.objects.exists()
    call_command("evaluate_slas", "--as-of", "2026-08-06T09:00:00+07:00", "--full")
    assert Breach.objects.count() == 1
    assert "1 response" in capsys.readouterr().out


def test_the_command_refuses_a_bad_time():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ISO"):
        call_command("evaluate_slas", "--as-of", "yesterday")


def test_the_celery_task_calls_the_sweep(users, sales_team, response_sla, time_machine):
    from slas.tasks import evaluate_slas

    assigned(users, sales_team, jkt(2026, 8, 5, 9))
    time_machine.move_to(jkt(2026, 8, 6, 9), tick=False)
    assert evaluate_slas()["response"] == 1
    assert evaluate_slas()["response"] == 0


def test_volume_progress_is_at_risk_below_the_straight_line(users, sales_team, volume_sla):
    from slas.selectors import volume_progress

    for day in range(1, 11):
        LeadFactory(team=sales_team, created_at=jkt(2026, 8, day, 10))
    progress = volume_progress(sla=volume_sla, now=jkt(2026, 8, 16, 12))
    # Two reps: 100 expected in August; 15.5 of 31 days gone → 50 on the line; 10 delivered.
    assert (progress.delivered, progress.expected, progress.pace, progress.state) == (10, 100, 50, "at_risk")
    assert (progress.period_start, progress.period_end) == (date(2026, 8, 1), date(2026, 8, 31))


def test_on_postgresql_a_teams_leads_are_counted_from_the_index_alone(
    users, sales_team, other_sales_team, marketing_team
):
    """The volume counts read the team's leads by creation time with their status and source
    from lead_team_created_idx (INCLUDE, leads migration 0012), not a table page per lead:
    with the table's pages all visible, the plan is an index-only scan."""
    if connection.vendor != "postgresql":
        pytest.skip("INCLUDE columns and index-only scans are PostgreSQL's")
    from django.test.utils import CaptureQueriesContext

    from slas.selectors import volume_delivered_in

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'lead_team_created_idx'")
        assert cursor.fetchone()[0].endswith("(team_id, created_at DESC, id DESC) INCLUDE (status, source)")
    sla = services.sla_create(
        by=users["admin"], team=sales_team, kind="volume", name="V", from_team=marketing_team, now=jkt(2026, 1, 1)
    )
    july = [LeadFactory.build(team=sales_team, created_at=jkt(2026, 7, 1 + n % 28, 10)) for n in range(300)]
    # Other months and another team: July of Jakarta is a narrow range of the index.
    other = [
        LeadFactory.build(team=team, created_at=jkt(2025, 1 + n % 12, 1 + n % 28, 10))
        for n in range(3000)
        for team in (sales_team, other_sales_team)
    ]
    Lead.objects.bulk_create(july + other)
    periods = [(jkt(2026, 7, 1), jkt(2026, 8, 1))]
    with CaptureQueriesContext(connection) as queries:
        assert volume_delivered_in(sla=sla, periods=periods) == [300]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + queries.captured_queries[0]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using lead_team_created_idx" in plan, plan
