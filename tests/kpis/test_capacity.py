"""Capacity ahead (SPEC §15): working hours after Indonesian holidays and cuti bersama, reps'
time off, the volume SLA's expectation, the Lebaran warning at and past 25 %, the endpoint's
permissions, bad input and query count."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kpis.capacity import capacity_ahead, capacity_ahead_for
from slas import services as slas
from teams import services as teams
from teams.models import Membership, TimeOff
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 3, 10, 10, tzinfo=JAKARTA)  # Ramadan 2026; Idul Fitri is on 21 March
URL = "/api/v1/insights/capacity/"

# Cuti bersama 2026 around Nyepi (19 March) and Idul Fitri (21–22 March): days the company
# closes by decree, entered by the manager as closed dates.
CUTI_BERSAMA = [date(2026, 3, 18), date(2026, 3, 20), date(2026, 3, 23), date(2026, 3, 24)]
# The three months before are made alike, 18 working days each, so that the 25 % line
# falls on a whole minute: a year-end closure, a bridge day and the cuti bersama of Imlek.
CLOSED_BEFORE = [date(2025, 12, d) for d in (24, 26, 29, 30)] + [date(2026, 1, 2), date(2026, 1, 30)]
CLOSED_BEFORE += [date(2026, 2, 16)]


def jkt(*args) -> datetime:
    return datetime(*args, tzinfo=JAKARTA)


@pytest.fixture
def team(users, sales_team):
    """Sales Jakarta (09:00–17:00, Monday to Friday, Indonesian holidays) with its two reps
    since 2025 and a volume SLA of 50 leads per rep a month."""
    Membership.objects.filter(team=sales_team).update(started_on=date(2025, 1, 1))
    for day in CUTI_BERSAMA + CLOSED_BEFORE:
        teams.closed_date_add(team=sales_team, day=day, name="Cuti bersama")
    return sales_team


@pytest.fixture
def volume(users, team, marketing_team):
    return slas.sla_create(
        by=users["marketing_manager"], team=team, kind="volume", name="50 leads per rep a month",
        from_team=marketing_team, now=jkt(2025, 1, 1),
    )  # fmt: skip


def months(capacity: dict) -> dict[str, dict]:
    return {row["month"]: row for row in capacity["months"]}


def off(user, start: datetime, end: datetime) -> TimeOff:
    return TimeOff.objects.create(user=user, start=start, end=end, reason="Cuti")


def test_the_holidays_this_test_counts_on():
    found = holidays.Indonesia(years=2026)
    assert date(2026, 3, 19) in found  # Nyepi, a Thursday
    assert {date(2026, 3, 21), date(2026, 3, 22)} <= set(found)  # Idul Fitri, a weekend
    assert not any(day in found for day in CUTI_BERSAMA)  # cuti bersama are not public holidays
    assert date(2026, 2, 17) in found and date(2026, 1, 16) in found and date(2025, 12, 25) in holidays.ID(years=2025)


def test_a_lebaran_month_by_hand(team, volume):
    march = months(capacity_ahead(team=team, now=NOW))["2026-03"]
    # March 2026 has 22 weekdays (2–6, 9–13, 16–20, 23–27, 30–31); Nyepi on Thursday 19 is a
    # public holiday; 18, 20, 23 and 24 are cuti bersama: 17 working days of 8 hours.
    assert march["business_hours"] == 17 * 8 == 136
    assert march["rep_hours"] == 2 * 136
    assert (march["reps"], march["expected_leads"]) == (2, 100)
    assert march["leads_per_rep_hour"] == round(100 / 272, 4)
    # The months before: 18 working days each; this month and the next two are answered.
    assert list(months(capacity_ahead(team=team, now=NOW))) == ["2026-03", "2026-04", "2026-05"]
    assert march["average_before"] == round(100 / 288, 4)
    assert march["warning"] is False  # 288 / 272: 5.9 % more a rep-hour


def test_a_reps_time_off_is_taken_off_in_working_time_only(users, team, volume):
    rep = users["sales_rep"]
    off(rep, jkt(2026, 3, 2), jkt(2026, 3, 3))  # Monday, a whole day: 8 hours
    off(rep, jkt(2026, 3, 2, 12), jkt(2026, 3, 2, 15))  # within the same day: not twice
    off(rep, jkt(2026, 3, 7), jkt(2026, 3, 9))  # a weekend: nothing
    off(rep, jkt(2026, 3, 19), jkt(2026, 3, 25))  # Nyepi, cuti bersama, Lebaran, cuti bersama: nothing
    off(rep, jkt(2026, 3, 31, 16), jkt(2026, 4, 1, 10))  # 1 hour in March, 1 in April
    off(users["other_rep"], jkt(2026, 4, 6, 9, 30), jkt(2026, 4, 6, 11))  # 1.5 hours
    found = months(capacity_ahead(team=team, now=NOW))
    assert found["2026-03"]["rep_hours"] == 2 * 136 - 8 - 1
    # April: 22 weekdays less Good Friday (3 April): 21 days, 168 hours a rep.
    assert found["2026-04"]["business_hours"] == 168
    assert found["2026-04"]["rep_hours"] == 2 * 168 - 1 - 1.5


def lebaran_leave(users, minutes: int) -> None:
    """The rep's leave before Lebaran: 2–6 March and Monday 9 March from 09:00 for `minutes`."""
    off(users["sales_rep"], jkt(2026, 3, 2), jkt(2026, 3, 9, 9) + timedelta(minutes=minutes))


def test_exactly_25_percent_more_a_rep_hour_is_no_warning(users, team, volume):
    # Before: 100 leads over 2 × 144 hours a month. March at +25 %: 100 leads over 288 ÷ 1.25
    # = 230.4 rep-hours, i.e. 272 less 41.6 hours of leave: five days and 1 h 36 min.
    lebaran_leave(users, minutes=96)
    march = months(capacity_ahead(team=team, now=NOW))["2026-03"]
    assert march["rep_hours"] == 230.4
    assert march["leads_per_rep_hour"] == round(100 / 230.4, 4)
    assert march["leads_per_rep_hour"] == round(1.25 * march["average_before"], 4)
    assert march["warning"] is False


def test_more_than_25_percent_more_a_rep_hour_is_a_warning(users, team, volume):
    lebaran_leave(users, minutes=97)  # one minute more of leave
    found = months(capacity_ahead(team=team, now=NOW))
    assert found["2026-03"]["warning"] is True
    assert found["2026-04"]["warning"] is False  # April's basis holds the crunch itself


def test_past_months_count_the_reps_of_their_time(users, team, volume):
    """A rep who left at the end of January counted then; one who joins on 16 March counts
    from then, and in the expectation from March's last day."""
    gone = UserFactory(role="sales_rep", team=team, on=date(2025, 1, 1))
    Membership.objects.filter(user=gone).update(ended_on=date(2026, 1, 31))
    new = UserFactory(role="sales_rep", team=team, on=date(2026, 3, 16))
    capacity = capacity_ahead_for(teams=[team], now=jkt(2026, 5, 5))[team.pk]
    found = months(capacity)
    assert list(found) == ["2026-05", "2026-06", "2026-07"]
    past = months(capacity_ahead(team=team, now=jkt(2026, 2, 5)))  # February, as it looked then
    assert past["2026-02"]["reps"] == 2  # the one who left is not counted on 28 February
    assert past["2026-03"]["reps"] == 3 and past["2026-03"]["expected_leads"] == 150
    # In March the new rep works 16–17, 25–27 and 30–31 March: 7 days.
    assert past["2026-03"]["rep_hours"] == 2 * 136 + 7 * 8
    assert new.pk and gone.pk


def test_the_basis_uses_the_reps_of_the_months_before(users, team, volume):
    gone = UserFactory(role="sales_rep", team=team, on=date(2025, 1, 1))
    Membership.objects.filter(user=gone).update(ended_on=date(2026, 1, 15))
    march = months(capacity_ahead(team=team, now=NOW))["2026-03"]
    # December: 3 reps, 150 leads over 3 × 144 h. January: the third rep until the 15th (5–9
    # and 12–15: 9 days, 72 h), 2 reps at its end: 100 leads over 288 + 72 h. February: 100
    # leads over 288 h.
    assert march["average_before"] == round((150 / 432 + 100 / 360 + 100 / 288) / 3, 4)


def test_a_quarterly_sla_expects_a_third_a_month_and_none_expects_nothing(users, team, marketing_team):
    assert months(capacity_ahead(team=team, now=NOW))["2026-03"]["expected_leads"] is None
    march = months(capacity_ahead(team=team, now=NOW))["2026-03"]
    assert (march["leads_per_rep_hour"], march["warning"]) == (None, False)
    slas.sla_create(
        by=users["admin"], team=team, kind="volume", name="Quarterly", from_team=marketing_team,
        leads_per_rep=150, period="quarter", now=jkt(2025, 1, 1),
    )  # fmt: skip
    assert months(capacity_ahead(team=team, now=NOW))["2026-03"]["expected_leads"] == 100


def test_a_team_without_reps_has_no_rate(users, other_sales_team):
    Membership.objects.filter(team=other_sales_team).delete()
    march = months(capacity_ahead(team=other_sales_team, now=NOW))["2026-03"]
    assert (march["rep_hours"], march["leads_per_rep_hour"], march["warning"]) == (0, None, False)


def test_another_teams_closed_dates_and_reps_are_left_out(users, team, volume, other_sales_team):
    teams.closed_date_add(team=other_sales_team, day=date(2026, 3, 2), name="Outing")
    off(users["other_team_rep"], jkt(2026, 3, 3), jkt(2026, 3, 4))
    march = months(capacity_ahead(team=team, now=NOW))["2026-03"]
    assert (march["business_hours"], march["rep_hours"]) == (136, 272)


def test_the_query_count_is_the_same_for_two_and_ten_reps(users, team, volume):
    counts = []
    for n in (2, 10):
        while Membership.objects.filter(team=team, role="sales_rep").count() < n:
            rep = UserFactory(role="sales_rep", team=team, on=date(2025, 6, 1))
            off(rep, jkt(2026, 4, 1), jkt(2026, 4, 3))
        with CaptureQueriesContext(connection) as queries:
            capacity_ahead(team=team, now=NOW)
        counts.append(len(queries))
    assert counts == [4, 4]
    with CaptureQueriesContext(connection) as queries:
        capacity_ahead(team=team, now=NOW, sla=volume)
    assert len(queries) == 3  # the SLA given: no query for it


# -- the endpoint ---------------------------------------------------------------------------------
def get(client, **params):
    with time_machine.travel(NOW, tick=False):
        return client.get(URL, params)


def test_the_endpoint_answers_three_months(users, team, volume, api_as):
    body = get(api_as(users["marketer"]), team=team.pk).json()
    assert body["team"] == team.pk and [row["month"] for row in body["months"]] == ["2026-03", "2026-04", "2026-05"]
    assert body["months"][0] == {
        "month": "2026-03",
        "business_hours": 136.0,
        "rep_hours": 272.0,
        "reps": 2,
        "expected_leads": 100.0,
        "leads_per_rep_hour": 0.3676,
        "average_before": 0.3472,
        "warning": False,
    }


@pytest.mark.parametrize(
    "who,which,status",
    [
        ("sales_manager", None, 200),
        ("sales_rep", "team", 200),
        ("marketing_manager", "team", 200),
        ("admin", "other", 200),
        ("other_team_rep", "team", 404),
        ("other_manager", "team", 404),
        ("sales_rep", "other", 404),
        ("marketing_manager", None, 400),
        ("sales_manager", "marketing", 400),
    ],
)
def test_who_may_see_a_teams_capacity(users, team, other_sales_team, marketing_team, api_as, who, which, status):
    chosen = {"team": team, "other": other_sales_team, "marketing": marketing_team}
    response = get(api_as(users[who]), **({"team": chosen[which].pk} if which else {}))
    assert response.status_code == status, response.content
    if status == 400:
        assert list(response.json()) == ["team"]


@pytest.mark.parametrize("value", ["x", "0", "-1", "12345678"])
def test_a_bad_team_is_a_field_error(users, api_as, value):
    response = get(api_as(users["sales_manager"]), team=value)
    assert response.status_code == 400 and "team" in response.json()


def test_the_endpoint_costs_the_same_queries_for_two_and_ten_reps(users, team, volume, api_as):
    client = api_as(users["sales_manager"])
    counts = []
    for n in (2, 10):
        while Membership.objects.filter(team=team, role="sales_rep").count() < n:
            rep = UserFactory(role="sales_rep", team=team, on=date(2025, 6, 1))
            off(rep, jkt(2026, 3, 2), jkt(2026, 3, 3))
        with CaptureQueriesContext(connection) as queries:
            assert get(client, team=team.pk).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] == 6, counts  # token, team, then the four of the selector
