"""The follow-up tallies the scorecards read (leads.services.tallies): after every change a
service makes, they equal a count of the follow-ups afresh, and the scorecards computed from
them equal the per-team metrics, which count the follow-ups themselves."""

from __future__ import annotations

import importlib
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from kpis import metrics
from kpis.grouped import Card, grouped_metrics
from kpis.metrics import Scope, scope_range
from leads import services
from leads.models import Touch, TouchTally
from leads.services.tallies import touch_tallies_count, touch_tallies_rebuild
from teams import services as team_services
from teams.models import Role
from tests.factories import CampaignFactory, LeadFactory, MarketingTeamFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
NOW = datetime(2026, 8, 20, 9, 0, tzinfo=UTC)


def kept() -> dict[tuple, tuple[int, int]]:
    """The tallies as the services left them, rows that came to nothing left out."""
    rows = TouchTally.objects.values_list("hour", "team_id", "campaign_team_id", "creator_id", "touches", "captured")
    return {tuple(key): (n, captured) for *key, n, captured in rows if n or captured}


def counted_afresh() -> dict[tuple, tuple[int, int]]:
    touch_tallies_rebuild()
    return kept()


@pytest.fixture
def company(users, sales_team, marketing_team):
    other_marketing = MarketingTeamFactory(name="Marketing Surabaya")
    campaign = CampaignFactory(team=marketing_team, name="Ramadan")
    created_by = users["marketer"]
    lead = LeadFactory(
        team=sales_team,
        owner=users["sales_rep"],
        campaign=campaign,
        created_by=created_by,
        phone="+6281234567890",
        created_at=datetime(2026, 7, 20, tzinfo=UTC),
    )
    return {"campaign": campaign, "lead": lead, "other_marketing": other_marketing, **users}


def log(lead, by, at, **extra) -> Touch:
    return services.touch_log(lead=lead, by=by, kind=Touch.Kind.CALL, occurred_at=at, now=NOW, **extra)


def test_each_change_leaves_the_tallies_as_a_count_afresh_would(company, marketing_team):
    lead, rep = company["lead"], company["sales_rep"]
    first = log(lead, rep, NOW - timedelta(days=2, minutes=17))
    log(lead, rep, NOW - timedelta(days=2, minutes=5), origin=Touch.Origin.CLICK)
    log(lead, rep, NOW - timedelta(hours=30), origin=Touch.Origin.EMAIL, external_id="<a@mail>")
    log(lead, rep, NOW - timedelta(hours=30), origin=Touch.Origin.EMAIL, external_id="<a@mail>")  # the same message
    assert sum(n for n, _ in kept().values()) == 3
    assert kept() == counted_afresh()

    # Captured in a batch, as the e-mail capture records them.
    batch = [
        Touch(
            lead=lead,
            user=rep,
            kind=Touch.Kind.EMAIL,
            occurred_at=NOW - timedelta(hours=h),
            origin="email",
            external_id=f"<{h}@m>",
        )
        for h in (3, 4, 4)
    ]
    services.touches_capture(touches=batch, now=NOW)
    before = kept()
    assert before == counted_afresh()
    assert sum(captured for _, captured in before.values()) == 4

    # A typed follow-up corrected to another day, then deleted.
    services.touch_update(touch=first, by=rep, occurred_at=NOW - timedelta(days=5), now=NOW)
    assert kept() == counted_afresh()
    services.touch_delete(touch=first, by=rep, now=NOW)
    assert kept() == counted_afresh()
    assert sum(n for n, _ in kept().values()) == 4

    # The lead given another team's campaign, and that campaign moved to yet another team.
    other = CampaignFactory(team=marketing_team, name="Lebaran")
    services.lead_update(lead=lead, by=company["admin"], campaign=other)
    assert kept() == counted_afresh()
    moved = CampaignFactory(team=marketing_team, name="Independence Day")
    services.lead_update(lead=lead, by=company["admin"], campaign=moved)
    services.campaign_update(campaign=moved, by=company["admin"], team=company["other_marketing"])
    assert {key[2] for key in kept()} == {company["other_marketing"].pk}
    assert kept() == counted_afresh()
    services.lead_update(lead=lead, by=company["admin"], campaign=None)
    assert {key[2] for key in kept()} == {0}
    assert kept() == counted_afresh()


def test_a_lead_edited_from_a_stale_copy_moves_what_is_stored(company, marketing_team):
    """Someone else moved the lead to another team's campaign after this copy was read; setting
    the campaign the copy shows moves the follow-ups back, judged against the stored lead."""
    lead = company["lead"]
    log(lead, company["sales_rep"], NOW - timedelta(hours=3))
    stale = type(lead).objects.get(pk=lead.pk)
    elsewhere = CampaignFactory(team=company["other_marketing"], name="Harbolnas")
    services.lead_update(lead=lead, by=company["admin"], campaign=elsewhere)
    services.lead_update(lead=stale, by=company["admin"], campaign=company["campaign"])
    assert {key[2] for key in kept()} == {marketing_team.pk}
    assert kept() == counted_afresh()


def test_a_tap_taken_back_is_taken_out(company):
    lead, rep = company["lead"], company["sales_rep"]
    with time_machine.travel(NOW, tick=False):
        touch = services.touch_tap(lead=lead, by=rep, channel="call")
        assert sum(captured for _, captured in kept().values()) == 1
        services.touch_undo(touch=touch, by=rep)
    assert kept() == {}


def test_a_campaign_renamed_or_a_lead_edited_moves_no_tally(company):
    log(company["lead"], company["sales_rep"], NOW - timedelta(hours=2))
    with CaptureQueriesContext(connection) as queries:
        services.campaign_update(campaign=company["campaign"], by=company["admin"], name="Ramadan 2026")
        services.lead_update(lead=company["lead"], by=company["admin"], notes="Asked for a quote.")
    assert not [q for q in queries.captured_queries if "leads_touchtally" in q["sql"]]
    assert kept() == counted_afresh()


def test_the_recorded_follow_ups_are_counted_when_the_tallies_arrive(company):
    log(company["lead"], company["sales_rep"], NOW - timedelta(hours=2), origin=Touch.Origin.CLICK)
    log(company["lead"], company["sales_rep"], NOW - timedelta(hours=2, minutes=30))
    expected = kept()
    TouchTally.objects.all().delete()
    migration = importlib.import_module("leads.migrations.0013_touch_tallies")
    migration.count_recorded(None, connection.schema_editor())
    assert kept() == expected
    assert [sum(column) for column in zip(*expected.values(), strict=True)] == [2, 1]


def test_nothing_to_count_writes_nothing():
    with CaptureQueriesContext(connection) as queries:
        touch_tallies_count(sign=1, touch_ids=[])
    assert queries.captured_queries == []
    with pytest.raises(TypeError):
        touch_tallies_count(sign=1)


# -- the scorecards read them ------------------------------------------------------------------
def cards(*teams, first=date(2026, 8, 1), last=date(2026, 8, 31)):
    return [Card(team=team, first=first, last=last) for team in teams]


def reference(team, first=date(2026, 8, 1), last=date(2026, 8, 31)):
    scope = Scope(team=team)
    start, end = scope_range(scope, first, last)
    return metrics.captured_share(scope, start, end)


def test_the_scorecards_read_the_tallies_and_agree_with_the_follow_ups(company, sales_team, marketing_team):
    lead, rep = company["lead"], company["sales_rep"]
    # Around the month's edges in Jakarta (UTC+7): 31 July 17:30 UTC is 1 August there.
    log(lead, rep, datetime(2026, 7, 31, 16, 59, tzinfo=UTC))
    log(lead, rep, datetime(2026, 7, 31, 17, 30, tzinfo=UTC), origin=Touch.Origin.CLICK)
    log(lead, rep, datetime(2026, 8, 12, 8, 0, tzinfo=UTC), origin=Touch.Origin.EMAIL, external_id="<x@m>")
    log(lead, rep, datetime(2026, 8, 19, 23, 59, tzinfo=UTC))
    # The creator moves to another marketing team: the follow-ups on their leads go with them.
    team_services.user_update(user=company["marketer"], team=company["other_marketing"], on=date(2026, 8, 20))
    teams = [sales_team, marketing_team, company["other_marketing"]]
    with CaptureQueriesContext(connection) as queries:
        found = grouped_metrics(cards=cards(*teams))
    assert [q for q in queries.captured_queries if "leads_touchtally" in q["sql"]]
    assert not [q for q in queries.captured_queries if "FROM leads_touch " in q["sql"]]
    assert [card["captured_share"] for card in found] == [reference(team) for team in teams]
    assert found[0]["captured_share"] == pytest.approx(2 / 3)
    assert found[1]["captured_share"] == pytest.approx(2 / 3)  # the campaign's team


def test_a_zone_off_utc_s_hours_counts_the_follow_ups_themselves(users):
    india = TeamFactory(name="Sales Bengaluru", timezone="Asia/Kolkata")  # UTC+5:30
    rep = UserFactory(username="rep.in", role=Role.SALES_REP, team=india)
    lead = LeadFactory(team=india, owner=rep, created_at=datetime(2026, 7, 20, tzinfo=UTC))
    log(lead, rep, datetime(2026, 7, 31, 18, 15, tzinfo=UTC))  # 31 July 23:45 there: not in August
    log(lead, rep, datetime(2026, 7, 31, 18, 45, tzinfo=UTC), origin=Touch.Origin.CLICK)  # 1 August 00:15
    with CaptureQueriesContext(connection) as queries:
        found = grouped_metrics(cards=cards(india))
    assert not [q for q in queries.captured_queries if "leads_touchtally" in q["sql"]]
    assert found[0]["captured_share"] == reference(india) == 1.0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
def test_follow_ups_logged_at_once_in_the_same_hour_are_all_counted(users, sales_team):
    """Eight reps' follow-ups on eight leads, in the same hour and for the same teams, logged
    at the same instant: each adds to the same row under its lock, none is lost."""
    reps = [UserFactory(username=f"rep.at.once{n}", role=Role.SALES_REP, team=sales_team) for n in range(8)]
    leads = [LeadFactory(team=sales_team, owner=rep, created_at=NOW - timedelta(days=1)) for rep in reps]
    start = threading.Barrier(len(reps))
    errors: list[BaseException] = []

    def work(lead, rep) -> None:
        try:
            start.wait()
            for minute in (1, 2, 3):
                log(lead, rep, NOW - timedelta(minutes=minute))
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=pair) for pair in zip(leads, reps, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert list(kept().values()) == [(24, 0)]
    assert kept() == counted_afresh()
