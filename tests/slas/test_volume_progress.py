"""Volume SLA progress of many SLAs at once (the marketing dashboard lists every SLA its
team owes): the figures of one SLA at a time, in two queries whatever their number."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from leads import services as leads
from slas import services
from slas.models import Sla
from slas.selectors import volume_delivered, volume_expected, volume_progress, volume_progress_for
from teams.models import Membership
from tests.factories import LeadFactory
from tests.slas.conftest import ACTIVE_FROM, jkt

pytestmark = pytest.mark.django_db
NOW = jkt(2026, 8, 16, 12)  # half of August gone in Jakarta


@pytest.fixture
def owed(users, sales_team, other_sales_team, marketing_team, volume_sla) -> list[Sla]:
    """Three volume SLAs the marketing team owes: the spec's (every source, spam left out),
    web leads only for Jakarta, and a quarterly one for Jayapura that counts rejected leads."""
    Membership.objects.update(started_on=date(2026, 1, 1))
    by = users["marketing_manager"]
    services.sla_create(
        by=by,
        team=sales_team,
        kind="volume",
        name="Web leads",
        from_team=marketing_team,
        sources=["web"],
        leads_per_rep=1,
        now=ACTIVE_FROM,
    )
    services.sla_create(
        by=by,
        team=other_sales_team,
        kind="volume",
        name="Papua",
        from_team=marketing_team,
        period="quarter",
        count_rejected=True,
        now=ACTIVE_FROM,
    )
    for day in range(1, 11):
        LeadFactory(team=sales_team, source="web" if day % 2 else "event", created_at=jkt(2026, 8, day, 10))
    _spam(team=sales_team, rep=users["sales_rep"], by=users["sales_manager"], created=jkt(2026, 8, 12, 10))
    _spam(team=other_sales_team, rep=users["other_team_rep"], by=users["other_manager"], created=jkt(2026, 7, 20, 10))
    LeadFactory(team=other_sales_team, created_at=jkt(2026, 8, 2, 10))
    return list(Sla.objects.filter(kind="volume").select_related("team").order_by("pk"))


def _spam(*, team, rep, by, created) -> None:
    lead = LeadFactory(team=team, source="event", created_at=created)
    leads.lead_assign(lead=lead, owner=rep, by=by, now=created)
    leads.lead_reject(lead=lead, by=rep, reason="spam", now=created.replace(hour=11))


def test_many_slas_in_two_queries(owed, django_assert_num_queries):
    with django_assert_num_queries(2):
        found = volume_progress_for(slas=owed, now=NOW)
    figures = {sla.name: (p.delivered, p.expected, p.pace, p.state) for sla in owed for p in [found[sla.pk]]}
    assert figures == {
        # 10 leads (the spam one left out); two reps × 50; half of August: 50 by now.
        "50 leads per rep per month": (10, 100, 50, "at_risk"),
        # the 5 web leads; two reps × 1; 1 by now.
        "Web leads": (5, 2, 1, "pending"),
        # the quarter in Jayapura, the spam lead of July counted; one rep × 50; 25 by now.
        "Papua": (2, 50, 25, "at_risk"),
    }
    papua = next(sla for sla in owed if sla.name == "Papua")
    assert (found[papua.pk].period_start, found[papua.pk].period_end) == (date(2026, 7, 1), date(2026, 9, 30))


def test_the_same_figures_as_one_sla_at_a_time(owed):
    found = volume_progress_for(slas=owed, now=NOW)
    for sla in owed:
        progress = found[sla.pk]
        assert progress == volume_progress(sla=sla, now=NOW)
        start = datetime(2026, 8 if sla.period == "month" else 7, 1, tzinfo=ZoneInfo(sla.team.timezone))
        assert progress.delivered == volume_delivered(sla=sla, start=start, end=NOW)
        assert progress.expected == volume_expected(sla=sla, last_day=date(2026, 8, 16))


def test_no_slas_no_queries(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert volume_progress_for(slas=[], now=NOW) == {}
