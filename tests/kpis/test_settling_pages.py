"""The breach cost and capacity ahead where people look (SPEC §15): both managers'
dashboards, beside the volume SLA, and the weekly digest; in English and Indonesian."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from slas import services as slas
from slas.services import notifications
from teams import services as teams
from teams.models import Membership, TimeOff
from tests.factories import UserFactory
from tests.kpis.conftest import BREACHED
from tests.kpis.test_breach_cost import cohort

pytestmark = pytest.mark.django_db
JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 8, 20, 10, tzinfo=JAKARTA)  # Thursday; last week is 10–16 August
LAST_MONDAY = datetime(2026, 8, 10, tzinfo=JAKARTA)


@pytest.fixture
def costly(judged, users, sales_team, marketing_team):
    """30 met leads (9 won) and 30 breached (3 won), 3 of whose breaches fell due last week:
    7,000,000 a breach (see test_breach_cost); a volume SLA of 50 leads per rep a month."""
    Membership.objects.update(started_on=date(2025, 1, 1))
    cohort(judged, sales_team, breached=27, start=NOW - timedelta(days=30))
    for day in (1, 2, 4):
        due = LAST_MONDAY + timedelta(days=day, hours=11)
        judged(sales_team, BREACHED, due - timedelta(hours=2), due_at=due)
    return slas.sla_create(
        by=users["marketing_manager"], team=sales_team, kind="volume", name="50 leads per rep a month",
        from_team=marketing_team, now=datetime(2025, 1, 1, tzinfo=JAKARTA),
    )  # fmt: skip


def page(client, user, path="/", when=NOW):
    with time_machine.travel(when, tick=False):  # signed in then: a session of today would expire there
        client.force_login(user)
        response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def chart_data(html: str, team) -> dict:
    start = html.index(f'<script id="capacity-data-{team.pk}" type="application/json">')
    body = html[html.index(">", start) + 1 : html.index("</script>", start)]
    return json.loads(body)


def test_the_sales_managers_dashboard_puts_last_week_in_money(client, users, sales_team, costly):
    html = page(client, users["sales_manager"])
    assert "Last week: 3 breaches ≈ IDR 21,000,000 of expected revenue" in html
    assert "IDR 7,000,000 a breach" in html and "Week of 10 Aug 2026 to 16 Aug 2026" in html
    assert "30 % of those whose SLAs were kept were won (30 leads), 10 % of those with a breach (30 leads)" in html
    assert "the median deal won was IDR 35,000,000" in html
    # Capacity ahead: the chart, its figures for screen readers, and the scripts that draw it.
    assert 'data-chart="capacity"' in html and "Capacity ahead, month by month" in html
    data = chart_data(html, sales_team)
    assert data["labels"] == ["August 2026", "September 2026", "October 2026"]
    assert len(data["rep_hours"]) == len(data["per_hour"]) == 3 and data["warning"] == [False] * 3
    assert "/static/vendor/chartjs/chart.umd.min.js" in html and "/static/js/charts.js" in html


def test_the_dashboard_in_indonesian(client, users, sales_team, costly):
    manager = users["sales_manager"]
    manager.language = "id"
    manager.save(update_fields=["language"])
    html = page(client, manager)
    assert 'lang="id"' in html
    assert "IDR 21.000.000" in html and "IDR 35.000.000" in html  # a dot groups thousands
    assert chart_data(html, sales_team)["labels"][0] == "Agustus 2026"


def test_not_enough_data_says_why(client, users, sales_team, judged):
    judged(sales_team, BREACHED, LAST_MONDAY + timedelta(hours=9), due_at=LAST_MONDAY + timedelta(hours=11))
    html = page(client, users["sales_manager"])
    assert "Not enough data yet" in html and "Last week: 1 breach." in html
    assert "it takes 30 leads that kept their SLAs and 30 that breached them" in html
    assert "So far: 0 leads kept their SLAs, 1 breached them." in html
    assert "No volume SLA expects leads of this team" in html  # and the hours stand alone


def test_the_marketing_manager_sees_the_sales_teams_it_delivers_to(client, users, sales_team, costly):
    html = page(client, users["marketing_manager"])
    assert "What breaches cost · Sales Jakarta" in html and "Capacity ahead · Sales Jakarta" in html
    assert "Last week: 3 breaches ≈ IDR 21,000,000 of expected revenue" in html
    assert "Sales Jayapura" not in html  # no volume SLA owed to it
    for who in ("marketer", "sales_rep"):  # managers only
        assert 'data-chart="capacity"' not in page(client, users[who])


def lebaran(users, sales_team):
    """Sales Jakarta in March 2026 (see test_capacity): cuti bersama, and a rep on leave from
    2 to 9 March, past the 25 % line by a minute."""
    for day in (18, 20, 23, 24):
        teams.closed_date_add(team=sales_team, day=date(2026, 3, day), name="Cuti bersama")
    for day in (date(2025, 12, d) for d in (24, 26, 29, 30)):
        teams.closed_date_add(team=sales_team, day=day, name="Tutup akhir tahun")
    for day in (date(2026, 1, 2), date(2026, 1, 30), date(2026, 2, 16)):
        teams.closed_date_add(team=sales_team, day=day, name="Cuti bersama")
    start = datetime(2026, 3, 2, tzinfo=JAKARTA)
    TimeOff.objects.create(user=users["sales_rep"], start=start, end=start + timedelta(days=7, hours=10, minutes=37))


def test_beside_the_volume_sla_a_warning_month_is_marked_in_words(client, users, sales_team, costly):
    lebaran(users, sales_team)
    march = datetime(2026, 3, 10, 10, tzinfo=JAKARTA)
    for who in ("sales_manager", "marketing_manager", "sales_rep"):
        html = page(client, users[who], f"/slas/{costly.pk}/", when=march)
        data = chart_data(html, sales_team)
        assert data["labels"] == ["March 2026 (warning)", "April 2026", "May 2026"]
        assert data["warning"] == [True, False, False]
        assert "Warning:</strong> March 2026 expects 0.43 leads per rep-hour" in html
        assert "more than 25 % above the 0.35 of the three months before" in html
        assert "yes: more than 25 % above the three months before" in html  # the table
    response_sla = slas.sla_create(
        by=users["sales_manager"], team=sales_team, kind="response", name="Within 2 hours",
        target_value=2, target_unit="hours", now=march - timedelta(days=30),
    )  # fmt: skip
    assert 'data-chart="capacity"' not in page(client, users["sales_manager"], f"/slas/{response_sla.pk}/", march)


def test_the_volume_sla_page_in_indonesian(client, users, sales_team, costly):
    lebaran(users, sales_team)
    manager = users["marketing_manager"]
    manager.language = "id"
    manager.save(update_fields=["language"])
    html = page(client, manager, f"/slas/{costly.pk}/", when=datetime(2026, 3, 10, 10, tzinfo=JAKARTA))
    assert chart_data(html, sales_team)["labels"][0].startswith("Maret 2026")
    assert "0,43" in html  # a comma for decimals


def test_the_dashboard_costs_the_same_queries_at_10_and_50_leads_and_2_and_10_reps(
    client, users, sales_team, judged, costly
):
    with time_machine.travel(NOW, tick=False):  # signed in at NOW: a session of today would expire there
        client.force_login(users["sales_manager"])
    counts = []
    for leads, reps in ((10, 2), (50, 10)):
        cohort(judged, sales_team, met=leads // 2, breached=leads // 2, start=NOW - timedelta(days=40))
        while Membership.objects.filter(team=sales_team, role="sales_rep").count() < reps:
            rep = UserFactory(role="sales_rep", team=sales_team, on=date(2026, 1, 1))
            TimeOff.objects.create(user=rep, start=NOW, end=NOW + timedelta(days=2))
        with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
            assert client.get("/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


# -- the weekly digest ------------------------------------------------------------------------------
def test_the_digest_puts_the_weeks_breaches_in_money(users, sales_team, costly, mailoutbox):
    monday = datetime(2026, 8, 17, 9, tzinfo=JAKARTA)
    notifications.digests_schedule(now=monday)
    notifications.deliveries_send(now=monday)
    by_to = {message.to[0]: message for message in mailoutbox}
    for who in ("sales.manager", "marketing.manager"):  # both sides of the agreement
        message = by_to[f"{who}@example.com"]
        line = "Last week: 3 breaches ≈ IDR 21,000,000 of expected revenue"
        assert line in message.body and line in message.alternatives[0][0]
        assert "the median deal won was IDR 35,000,000" in message.body
    assert "of expected revenue" not in by_to["rep1@example.com"].body  # a rep's digest is their own


def test_the_digest_says_when_there_is_not_enough_data(users, sales_team, judged, mailoutbox):
    judged(sales_team, BREACHED, LAST_MONDAY + timedelta(hours=9), due_at=LAST_MONDAY + timedelta(hours=11))
    monday = datetime(2026, 8, 17, 9, tzinfo=JAKARTA)
    notifications.digests_schedule(now=monday)
    notifications.deliveries_send(now=monday)
    (message,) = [m for m in mailoutbox if m.to == ["sales.manager@example.com"]]
    assert "What breaches cost: Not enough data yet: it takes 30 leads" in message.body
    assert "of expected revenue" not in message.body


def test_the_digest_in_indonesian(users, sales_team, costly, mailoutbox):
    manager = users["sales_manager"]
    manager.language = "id"
    manager.save(update_fields=["language"])
    monday = datetime(2026, 8, 17, 9, tzinfo=JAKARTA)
    notifications.digests_schedule(now=monday)
    notifications.deliveries_send(now=monday)
    (message,) = [m for m in mailoutbox if m.to == ["sales.manager@example.com"]]
    assert "IDR 21.000.000" in message.body and "IDR 21.000.000" in message.alternatives[0][0]
