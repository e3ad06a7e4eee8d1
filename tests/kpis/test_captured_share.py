"""`captured_share` (SPEC §14): the follow-ups not entered by hand ÷ all follow-ups in a
period, on the metrics, the stored scorecards, the rep leaderboard and the scorecards page.

The data set, by hand (Sales Jakarta, Asia/Jakarta):
  lead A (rep1, created 20 Sep): click 30 Sep 23:30 (September in Jakarta, though 16:30 UTC),
      manual 1 Oct 00:30 (October in Jakarta, though 30 Sep 17:30 UTC), manual 5 Oct, email 6 Oct;
  lead B (rep1, created 2 Oct, a campaign of Marketing): manual 2 Oct, click 3 Oct;
  Papua's lead (another team): click 7 Oct.
October for Sales Jakarta: 3 manual + 1 click + 1 email → 2/5 = 0.4; September: 1/1 = 1.0;
Marketing's October (lead B only): 1/2 = 0.5.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kpis import dashboards, metrics
from kpis.metrics import Scope, scope_range
from kpis.models import Scorecard
from kpis.scorecards import scorecards_compute
from leads import services as leads
from tests.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db
JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 10, 14, 10, 30, tzinfo=JAKARTA)  # mid-October: a month and a quarter in progress


def jkt(*args) -> datetime:
    return datetime(*args, tzinfo=JAKARTA)


@pytest.fixture
def touches(users, sales_team, other_sales_team, marketing_team) -> None:
    rep, manager = users["sales_rep"], users["sales_manager"]
    a = LeadFactory(team=sales_team, created_at=jkt(2026, 9, 20, 9))
    leads.lead_assign(lead=a, owner=rep, by=manager, now=jkt(2026, 9, 20, 10))
    b = LeadFactory(team=sales_team, created_at=jkt(2026, 10, 2, 9), campaign=CampaignFactory(team=marketing_team))
    leads.lead_assign(lead=b, owner=rep, by=manager, now=jkt(2026, 10, 2, 9))
    papua = LeadFactory(team=other_sales_team, created_at=jkt(2026, 10, 1, 9))
    leads.lead_assign(lead=papua, owner=users["other_team_rep"], by=users["other_manager"], now=jkt(2026, 10, 1, 9))
    for lead, by, kind, origin, at in [
        (a, rep, "call", "click", jkt(2026, 9, 30, 23, 30)),
        (a, rep, "call", "manual", jkt(2026, 10, 1, 0, 30)),
        (a, rep, "meeting", "manual", jkt(2026, 10, 5, 10)),
        (a, rep, "email", "email", jkt(2026, 10, 6, 10)),
        (b, rep, "email", "manual", jkt(2026, 10, 2, 10)),
        (b, rep, "message", "click", jkt(2026, 10, 3, 10)),
        (papua, users["other_team_rep"], "call", "click", jkt(2026, 10, 7, 10)),
    ]:
        extra = {"external_id": f"<{at:%d%H%M}@mail.example>"} if origin == "email" else {}
        leads.touch_log(lead=lead, by=by, kind=kind, origin=origin, now=at, **extra)


def _range(scope: Scope, first: date, last: date) -> tuple[datetime, datetime]:
    return scope_range(scope, first, last)


# -- the metric ------------------------------------------------------------------------------------
def test_the_share_of_a_sales_teams_follow_ups_captured_in_a_month(sales_team, touches):
    scope = Scope(team=sales_team)
    assert metrics.captured_share(scope, *_range(scope, date(2026, 10, 1), date(2026, 10, 31))) == 0.4
    assert metrics.captured_share(scope, *_range(scope, date(2026, 9, 1), date(2026, 9, 30))) == 1.0


def test_the_share_on_a_marketing_teams_leads_and_a_reps_own(users, other_sales_team, marketing_team, touches):
    october = (date(2026, 10, 1), date(2026, 10, 31))
    marketing = Scope(team=marketing_team)
    assert metrics.captured_share(marketing, *_range(marketing, *october)) == 0.5
    rep = Scope(user=users["sales_rep"])
    assert metrics.captured_share(rep, *_range(rep, *october)) == 0.4
    papua = Scope(team=other_sales_team)
    assert metrics.captured_share(papua, *_range(papua, *october)) == 1.0


def test_no_follow_ups_is_no_share(users, sales_team, touches):
    scope = Scope(team=sales_team)
    assert metrics.captured_share(scope, *_range(scope, date(2026, 8, 1), date(2026, 8, 31))) is None
    other = Scope(user=users["other_rep"])
    assert metrics.captured_share(other, *_range(other, date(2026, 10, 1), date(2026, 10, 31))) is None


def test_only_hand_entered_follow_ups_is_a_share_of_zero(users, sales_team):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], created_at=jkt(2026, 10, 1, 9))
    leads.touch_log(lead=lead, by=users["sales_rep"], kind="call", now=jkt(2026, 10, 1, 10))
    scope = Scope(team=sales_team)
    assert metrics.captured_share(scope, *_range(scope, date(2026, 10, 1), date(2026, 10, 31))) == 0.0


# -- the stored scorecards ----------------------------------------------------------------------------
def _card(team, period: str, start: date) -> dict:
    return Scorecard.objects.get(team=team, period=period, period_start=start).metrics


def test_the_stored_scorecards_carry_the_share(sales_team, other_sales_team, marketing_team, touches):
    assert scorecards_compute(now=NOW, teams=[sales_team, other_sales_team, marketing_team]) == 12
    assert _card(sales_team, "month", date(2026, 10, 1))["captured_share"] == 0.4
    assert _card(sales_team, "month", date(2026, 9, 1))["captured_share"] == 1.0
    assert _card(sales_team, "quarter", date(2026, 10, 1))["captured_share"] == 0.4
    assert _card(sales_team, "quarter", date(2026, 7, 1))["captured_share"] == 1.0
    assert _card(marketing_team, "month", date(2026, 10, 1))["captured_share"] == 0.5
    assert _card(marketing_team, "month", date(2026, 9, 1))["captured_share"] is None
    assert _card(other_sales_team, "month", date(2026, 10, 1))["captured_share"] == 1.0
    assert _card(other_sales_team, "month", date(2026, 9, 1))["captured_share"] is None


def test_a_card_without_follow_ups_has_no_share(users, sales_team):
    LeadFactory(team=sales_team, owner=users["sales_rep"], created_at=jkt(2026, 10, 1, 9))
    scorecards_compute(now=NOW, teams=[sales_team])
    assert _card(sales_team, "month", date(2026, 10, 1))["captured_share"] is None


# -- the rep leaderboard and the scorecards page -------------------------------------------------------
def test_the_rep_leaderboard_gives_each_rep_their_share(users, sales_team, touches):
    rows = dashboards.rep_leaderboard(
        teams=[sales_team], first=date(2026, 10, 1), last=date(2026, 10, 31), user=users["sales_manager"]
    )
    found = {row["rep"].username: (row["touches"], row["captured_share"]) for row in rows}
    assert found == {"rep1": (5, 0.4), "rep2": (0, None)}
    september = dashboards.rep_leaderboard(
        teams=[sales_team], first=date(2026, 9, 1), last=date(2026, 9, 30), user=users["sales_manager"]
    )
    assert {row["rep"].username: row["captured_share"] for row in september} == {"rep1": 1.0, "rep2": None}


def test_the_scorecards_page_shows_the_share(client, users, sales_team, marketing_team, touches):
    scorecards_compute(now=NOW, teams=[sales_team, marketing_team])
    client.force_login(users["sales_manager"])
    with time_machine.travel(NOW, tick=False):
        response = client.get("/scorecards/?period=month&start=2026-10-01")
    assert response.status_code == 200
    rows = {row["rep"].username: row["captured_share"] for row in response.context["leaderboard"]}
    assert rows == {"rep1": 0.4, "rep2": None}
    page = response.content.decode()
    board = page[page.index('aria-labelledby="leaderboard-heading"') :]
    board = board[: board.index("</section>")]
    assert ">Captured</abbr></th>" in board
    assert '<td class="text-end">5</td><td class="text-end">40 %</td>' in board
    assert '<td class="text-end">0</td><td class="text-end">—</td>' in board
    assert "Follow-ups captured, not typed" in page
