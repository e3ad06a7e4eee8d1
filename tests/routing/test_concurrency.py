"""Routing under concurrent creators, on PostgreSQL (SPEC §11): two leads created at once never
both take the last place under a cap, and turns are never skipped or doubled. SQLite runs one
writer at a time, so these run on the CI's PostgreSQL leg."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections

from leads import services as lead_services
from leads.models import Lead
from routing import services
from routing.models import Decision
from teams import services as team_services
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
]
NOW = datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


def create_at_once(creator, team, names: list[str], threads: int) -> None:
    """Create the leads named, from `threads` threads (each its own connection) started together."""
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work(share: list[str]) -> None:
        try:
            start.wait()
            for name in share:
                lead_services.lead_create(by=creator, team=team, name=name, now=NOW)
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work, args=(names[n::threads],)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors, errors


def test_two_leads_at_once_never_both_take_the_last_place_under_a_cap(users, sales_team):
    team_services.team_update(team=sales_team, auto_route=True)
    capped = users["sales_rep"]
    services.rule_create(
        by=users["sales_manager"],
        team=sales_team,
        name="One a day",
        members=[{"user": capped, "weight": 1}],
        cap_per_day=1,
    )
    for attempt in range(5):
        create_at_once(users["marketer"], sales_team, [f"A{attempt}", f"B{attempt}"], threads=2)
    by_rule = Decision.objects.filter(step="rule")
    assert list(by_rule.values_list("owner_id", flat=True)) == [capped.pk]  # one place a day, whatever the races
    assert Lead.objects.filter(owner__isnull=True).count() == 0  # the rest went to the team in turn


def test_turns_are_never_skipped_or_doubled_by_four_creators(users, sales_team):
    team_services.team_update(team=sales_team, auto_route=True)
    reps = [
        users["sales_rep"],
        users["other_rep"],
        *(UserFactory(username=f"rep.{n}", team=sales_team) for n in (4, 5)),
    ]
    create_at_once(users["marketer"], sales_team, [f"Lead {n}" for n in range(40)], threads=4)
    owners = Counter(Lead.objects.values_list("owner_id", flat=True))
    assert owners == {rep.pk: 10 for rep in reps}
    assert Lead.objects.filter(owner__isnull=True).count() == 0
