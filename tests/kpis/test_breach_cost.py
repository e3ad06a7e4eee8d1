"""What a breach costs (SPEC §15): the selector against hand-computed figures, its threshold,
its window and what it leaves out; the endpoint's permissions, bad input and query count."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from kpis.economics import breach_cost, breach_costs, last_week_costs, money_round
from leads import services as leads
from slas import services as slas
from tests.factories import LeadFactory
from tests.kpis.conftest import BREACHED, MET, RUNNING, WAIVED

pytestmark = pytest.mark.django_db
JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 8, 20, 10, tzinfo=JAKARTA)  # a Thursday
URL = "/api/v1/insights/breach-cost/"

# 12 won deals: the met leads win 9 of them, the breached leads 3. Sorted, the middle two
# are 30,000,000 and 40,000,000: the median is 35,000,000.
MET_WON = [Decimal(v) * 1_000_000 for v in (5, 10, 20, 30, 40, 50, 60, 80, 90)]
BREACHED_WON = [Decimal(v) * 1_000_000 for v in (15, 25, 70)]


def cohort(judged, team, *, met=30, met_won=MET_WON, breached=30, breached_won=BREACHED_WON, start=NOW) -> None:
    """`met` and `breached` leads assigned over the last weeks before `start`, the first of
    each group won with the values given."""
    for i in range(met):
        value = met_won[i] if i < len(met_won) else None
        judged(team, MET, start - timedelta(days=1 + i), won=value is not None, value=value)
    for i in range(breached):
        value = breached_won[i] if i < len(breached_won) else None
        judged(team, BREACHED, start - timedelta(days=1 + i, hours=3), won=value is not None, value=value)


def test_the_cost_of_a_breach_by_hand(judged, sales_team):
    cohort(judged, sales_team)
    cost = breach_cost(team=sales_team, now=NOW)
    assert (cost.met_leads, cost.met_won, cost.breached_leads, cost.breached_won) == (30, 9, 30, 3)
    assert (cost.met_won_rate, cost.breached_won_rate) == (0.3, 0.1)
    assert cost.median_won_value == Decimal("35000000")
    # (9/30 − 3/30) × 35,000,000 = 0.2 × 35,000,000
    assert cost.cost_per_breach == Decimal("7000000") and str(cost.cost_per_breach) == "7000000"
    assert (cost.reason, cost.reason_text, cost.currency) == (None, None, "IDR")
    assert cost.times(12) == Decimal("84000000")


def test_the_cost_is_rounded_to_whole_rupiah_and_never_negative(judged, sales_team, other_sales_team):
    # 10/30 − 0/30 = 1/3 of a median of 100: 33.33… rupiah, rounded to 33.
    cohort(judged, sales_team, met_won=[Decimal(100)] * 10, breached_won=[])
    assert breach_cost(team=sales_team, now=NOW).cost_per_breach == Decimal(33)
    # Breached leads winning more often cost nothing (not a negative amount).
    cohort(judged, other_sales_team, met_won=[Decimal(100)], breached_won=[Decimal(100)] * 5)
    assert breach_cost(team=other_sales_team, now=NOW).cost_per_breach == Decimal(0)
    assert money_round(Decimal("10.005"), "USD") == Decimal("10.01") and money_round(Decimal("10.5"), "IDR") == 11


def test_thirty_leads_in_each_group_are_enough_and_twenty_nine_are_not(judged, sales_team, other_sales_team):
    cohort(judged, sales_team, met=30, breached=30)
    cohort(judged, other_sales_team, met=30, breached=29)
    costs = breach_costs(teams=[sales_team, other_sales_team], now=NOW)
    assert costs[sales_team.pk].cost_per_breach is not None
    short = costs[other_sales_team.pk]
    assert (short.met_leads, short.breached_leads) == (30, 29)
    assert short.cost_per_breach is None and short.reason == "not_enough_data"
    assert short.median_won_value == Decimal("35000000")  # still shown: it is known
    assert "Not enough data yet" in short.reason_text and "180 days" in short.reason_text
    with translation.override("id"):
        assert short.reason_text  # translatable; the text itself comes with the catalogue


def test_waived_breaches_leave_the_figures(judged, sales_team):
    cohort(judged, sales_team, met=29, breached=30)
    # A breach waived as bad data: the lead is breached for nobody, and not met either.
    judged(sales_team, WAIVED, NOW - timedelta(days=5), won=True, value=Decimal(10**9))
    assert breach_cost(team=sales_team, now=NOW).reason == "not_enough_data"
    # Waived, with a cadence clock met besides: a met lead.
    judged(sales_team, WAIVED, NOW - timedelta(days=5), also_met=True)
    cost = breach_cost(team=sales_team, now=NOW)
    assert (cost.met_leads, cost.breached_leads) == (30, 30)
    assert cost.median_won_value == Decimal("35000000")  # the waived won lead's value is left out


def test_a_lead_breached_once_is_breached_even_with_another_clock_met(judged, sales_team):
    cohort(judged, sales_team, met=30, breached=29)
    lead = judged(sales_team, BREACHED, NOW - timedelta(days=3), also_met=True)
    judged(sales_team, RUNNING, NOW - timedelta(hours=1))  # neither, yet
    cost = breach_cost(team=sales_team, now=NOW)
    assert (cost.met_leads, cost.breached_leads) == (30, 30)
    assert lead.clocks.count() == 2


def test_another_teams_leads_are_left_out(judged, sales_team, other_sales_team):
    cohort(judged, sales_team)
    cohort(judged, other_sales_team, met_won=[Decimal(10**12)] * 30, breached_won=[])
    cost = breach_cost(team=sales_team, now=NOW)
    assert (cost.met_leads, cost.met_won, cost.breached_leads, cost.breached_won) == (30, 9, 30, 3)
    assert cost.cost_per_breach == Decimal("7000000")


def test_leads_first_assigned_in_the_last_180_days_count(judged, sales_team):
    cohort(judged, sales_team, met=29)
    edge = NOW - timedelta(days=180)
    judged(sales_team, MET, edge - timedelta(microseconds=1))  # a moment too early
    judged(sales_team, MET, NOW)  # now is not yet in the past
    assert breach_cost(team=sales_team, now=NOW).met_leads == 29
    judged(sales_team, MET, edge)  # exactly 180 days ago: in
    cost = breach_cost(team=sales_team, now=NOW)
    assert cost.met_leads == 30 and cost.cost_per_breach is not None
    assert (cost.since, cost.until) == (edge, NOW)


def test_no_won_value_is_a_reason_of_its_own(judged, sales_team):
    cohort(judged, sales_team, met_won=[], breached_won=[])
    cost = breach_cost(team=sales_team, now=NOW)
    assert (cost.cost_per_breach, cost.median_won_value, cost.reason) == (None, None, "no_won_value")
    assert cost.met_won_rate == 0.0


def test_the_groups_come_from_the_clocks_and_breaches_the_services_record(users, sales_team):
    """Without hand-made rows: a lead followed up in time is met; one left alone breaches."""
    manager, rep = users["sales_manager"], users["sales_rep"]
    slas.sla_create(
        by=manager, team=sales_team, kind="response", name="Within 2 hours", target_value=2, target_unit="hours",
        now=NOW - timedelta(days=30),
    )  # fmt: skip
    kept, broken = (LeadFactory(team=sales_team, created_at=NOW - timedelta(days=3)) for _ in range(2))
    for lead in (kept, broken):
        leads.lead_assign(lead=lead, owner=rep, by=manager, now=NOW - timedelta(days=3))
    leads.touch_log(lead=kept, by=rep, kind="call", now=NOW - timedelta(days=3) + timedelta(minutes=30))
    leads.lead_status_change(lead=kept, by=rep, status="won", value=Decimal(500), now=NOW - timedelta(days=2))
    slas.sla_sweep(now=NOW - timedelta(days=1))
    cost = breach_cost(team=sales_team, now=NOW)
    assert (cost.met_leads, cost.met_won, cost.breached_leads, cost.breached_won) == (1, 1, 1, 0)
    assert cost.median_won_value == Decimal(500) and cost.reason == "not_enough_data"


def test_last_weeks_breaches_at_that_cost(judged, sales_team):
    cohort(judged, sales_team, start=NOW - timedelta(days=30))  # 7,000,000 a breach, none last week
    monday = datetime(2026, 8, 10, tzinfo=JAKARTA)  # the last complete week: 10–16 August
    for due in (monday, monday + timedelta(days=7) - timedelta(microseconds=1), monday + timedelta(days=3)):
        judged(sales_team, BREACHED, due - timedelta(hours=2), due_at=due)
    judged(sales_team, BREACHED, monday - timedelta(hours=3), due_at=monday - timedelta(microseconds=1))
    judged(sales_team, BREACHED, monday + timedelta(days=7, hours=1))  # this week
    judged(sales_team, WAIVED, monday + timedelta(days=1))
    week = last_week_costs(teams=[sales_team], now=NOW)[sales_team.pk]
    assert (week.week_start.isoformat(), week.week_end.isoformat(), week.breaches) == ("2026-08-10", "2026-08-16", 3)
    assert week.basis.breached_leads == 35  # the extra breaches count in the cohort too
    assert week.cost == week.basis.cost_per_breach * 3


# -- the endpoint ---------------------------------------------------------------------------------
def get(client, **params):
    with time_machine.travel(NOW, tick=False):
        return client.get(URL, params)


def test_the_endpoint_answers_the_figures(judged, users, sales_team, api_as):
    cohort(judged, sales_team)
    body = get(api_as(users["sales_manager"])).json()
    assert body == {
        "team": sales_team.pk,
        "since": "2026-02-21T10:00:00+07:00",
        "until": "2026-08-20T10:00:00+07:00",
        "currency": "IDR",
        "met_leads": 30,
        "met_won_rate": 0.3,
        "breached_leads": 30,
        "breached_won_rate": 0.1,
        "median_won_value": "35000000",
        "cost_per_breach": "7000000",
        "reason": None,
        "reason_text": None,
    }


def test_not_enough_data_is_null_with_a_reason(judged, users, sales_team, api_as):
    cohort(judged, sales_team, breached=29)
    body = get(api_as(users["marketing_manager"]), team=sales_team.pk).json()
    assert body["cost_per_breach"] is None and body["reason"] == "not_enough_data"
    assert body["reason_text"].startswith("Not enough data yet")


@pytest.mark.parametrize(
    "who,team,status",
    [
        ("sales_manager", "sales_team", 200),
        ("sales_rep", "sales_team", 200),
        ("sales_rep", None, 200),  # their own team
        ("marketing_manager", "sales_team", 200),
        ("marketer", "other_sales_team", 200),
        ("admin", "other_sales_team", 200),
        ("other_team_rep", "sales_team", 404),
        ("other_manager", "sales_team", 404),
        ("sales_manager", "other_sales_team", 404),
    ],
)
def test_who_may_see_a_teams_cost(users, sales_team, other_sales_team, api_as, who, team, status):
    teams = {"sales_team": sales_team, "other_sales_team": other_sales_team}
    params = {"team": teams[team].pk} if team else {}
    response = get(api_as(users[who]), **params)
    assert response.status_code == status, response.content
    if status == 200:
        assert response.json()["team"] == (teams[team] if team else users[who].team).pk


@pytest.mark.parametrize("value", ["abc", "999999", "1.5", "", "99999999999999999999999"])
def test_a_bad_team_is_a_field_error(users, api_as, value):
    response = get(api_as(users["admin"]), team=value)
    assert response.status_code == 400 and "team" in response.json()


def test_a_marketing_team_or_none_at_all_is_a_field_error(users, marketing_team, api_as):
    response = get(api_as(users["sales_manager"]), team=marketing_team.pk)
    assert response.status_code == 400
    assert response.json() == {"team": ["These figures are for sales teams; this is a marketing team."]}
    for who in ("admin", "marketing_manager"):  # no sales team of their own to default to
        response = get(api_as(users[who]))
        assert response.status_code == 400 and response.json() == {"team": ["Name a sales team."]}


def test_anonymous_is_refused(api_client):
    assert get(api_client).status_code == 401


def test_the_endpoint_costs_the_same_queries_at_ten_and_fifty_leads(judged, users, sales_team, api_as):
    client = api_as(users["sales_manager"])
    counts = []
    for n in (10, 50):
        cohort(judged, sales_team, met=n // 2, breached=n // 2, start=NOW - timedelta(days=n))
        with CaptureQueriesContext(connection) as queries:
            assert get(client, team=sales_team.pk).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 5, counts


def test_one_more_team_costs_no_more_queries(judged, users, sales_team, other_sales_team):
    cohort(judged, sales_team, met=3, breached=3)
    cohort(judged, other_sales_team, met=3, breached=3)
    with CaptureQueriesContext(connection) as one:
        breach_costs(teams=[sales_team], now=NOW)
    with CaptureQueriesContext(connection) as two:
        breach_costs(teams=[sales_team, other_sales_team], now=NOW)
    assert len(one) == len(two) == 2
