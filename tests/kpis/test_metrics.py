"""Built-in metrics against hand-computed values; targets and progress; scorecards."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from kpis import metrics, selectors, services
from kpis.metrics import Scope
from kpis.models import Scorecard
from kpis.scorecards import scorecards_compute
from leads import services as leads
from tests.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db
JAKARTA = ZoneInfo("Asia/Jakarta")


def jkt(*args) -> datetime:
    return datetime(*args, tzinfo=JAKARTA)


def august(scope: Scope) -> tuple[datetime, datetime]:
    return metrics.scope_range(scope, date(2026, 8, 1), date(2026, 8, 31))


@pytest.fixture
def pipeline(users, sales_team, marketing_team):
    """Four August leads of Sales Jakarta: one won (IDR 10 M, from a campaign), one qualified,
    one rejected as spam, one untouched; plus one lead of 31 July 23:30 Jakarta (= 16:30 UTC)."""
    rep, manager = users["sales_rep"], users["sales_manager"]
    campaign = CampaignFactory(team=marketing_team, start_date=date(2026, 8, 1), spend=Decimal("4000000"))
    made = []
    for day, hour in [(3, 9), (4, 9), (5, 9), (6, 9)]:
        lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, day, hour), company=f"PT {day}")
        leads.lead_assign(lead=lead, owner=rep, by=manager, now=jkt(2026, 8, day, hour + 1))
        made.append(lead)
    won, qualified, rejected, _quiet = made
    won.campaign = campaign
    won.save()
    leads.touch_log(lead=won, by=rep, kind="call", now=jkt(2026, 8, 3, 12))  # 2 h after assignment
    leads.lead_status_change(lead=won, by=rep, status="won", value=Decimal("10000000"), now=jkt(2026, 8, 10, 9))
    leads.touch_log(lead=qualified, by=rep, kind="call", now=jkt(2026, 8, 4, 14))  # 4 h
    leads.lead_status_change(lead=qualified, by=rep, status="qualified", now=jkt(2026, 8, 5, 9))
    leads.lead_reject(lead=rejected, by=rep, reason="spam", now=jkt(2026, 8, 5, 16))  # not a touch
    LeadFactory(team=sales_team, created_at=jkt(2026, 7, 31, 23, 30))
    return {"won": won, "campaign": campaign}


def test_lead_metrics_for_the_team(users, sales_team, pipeline):
    scope = Scope(team=sales_team)
    start, end = august(scope)
    assert metrics.leads_created(scope, start, end) == 4  # the 31 July 23:30 lead is July's in Jakarta
    assert metrics.lead_to_qualified_rate(scope, start, end) == 0.5
    assert metrics.lead_to_won_rate(scope, start, end) == 0.25
    assert metrics.rejection_rate(scope, start, end) == 0.25
    assert metrics.revenue_won(scope, start, end) == Decimal("10000000")
    assert metrics.median_first_response_hours(scope, start, end) == 3.0  # median of 2 h and 4 h
    assert metrics.median_time_to_assign_hours(scope, start, end) == 1.0
    assert metrics.campaign_roi(scope, start, end) == 1.5  # (10 M − 4 M) ÷ 4 M


def test_a_period_boundary_in_jakarta_is_not_utcs(users, sales_team, pipeline):
    scope = Scope(team=sales_team)
    july = metrics.scope_range(scope, date(2026, 7, 1), date(2026, 7, 31))
    assert metrics.leads_created(scope, *july) == 1
    assert july[1] == datetime(2026, 7, 31, 17, 0, tzinfo=ZoneInfo("UTC"))


def test_growth_and_empty_periods(users, sales_team, pipeline):
    scope = Scope(team=sales_team)
    start, end = august(scope)
    assert metrics.leads_growth(scope, start, end) == 3.0  # 4 in August vs 1 in the 31 days before
    empty = metrics.scope_range(scope, date(2025, 1, 1), date(2025, 1, 31))
    assert metrics.leads_created(scope, *empty) == 0
    for name in (
        "leads_growth",
        "lead_to_won_rate",
        "median_first_response_hours",
        "campaign_roi",
        "repeat_customer_rate",
        "response_sla_compliance",
    ):
        assert metrics.BUILT_IN[name](scope, *empty) is None, name
    assert metrics.revenue_won(scope, *empty) == Decimal(0)


def test_user_and_company_scopes(users, sales_team, pipeline):
    start, end = august(Scope())
    assert metrics.leads_created(Scope(user=users["sales_rep"]), start, end) == 4
    assert metrics.leads_created(Scope(user=users["other_rep"]), start, end) == 0
    assert metrics.leads_created(Scope(), start, end) == 4


def test_a_marketing_team_scope_counts_its_campaigns(users, marketing_team, pipeline):
    scope = Scope(team=marketing_team)
    assert metrics.leads_created(scope, *august(scope)) == 1


def test_repeat_customers(users, sales_team):
    for day, company in [(3, "PT A"), (4, "PT A"), (5, "PT B")]:
        lead = LeadFactory(team=sales_team, company=company, created_at=jkt(2026, 8, 1), owner=users["sales_rep"])
        leads.lead_status_change(lead=lead, by=users["sales_rep"], status="won", now=jkt(2026, 8, day))
    scope = Scope(team=sales_team)
    assert metrics.repeat_customer_rate(scope, *august(scope)) == 0.5


# -- targets and progress -----------------------------------------------------------------------
@pytest.fixture
def quota(users, sales_team):
    kpi = services.kpi_create(by=users["sales_manager"], name="Revenue", metric="revenue_won", team=sales_team)
    return services.target_create(
        by=users["sales_manager"],
        kpi=kpi,
        team=sales_team,
        period="month",
        period_start=date(2026, 8, 1),
        target=Decimal("20000000"),
    )


def test_progress_of_an_amount_follows_a_straight_line(users, pipeline, quota):
    mid = selectors.target_progress(target=quota, now=jkt(2026, 8, 16, 12))
    assert (mid.actual, mid.expected, mid.attainment, mid.status) == (
        Decimal("10000000"),
        Decimal("10000000.00"),
        0.5,
        "on_track",
    )
    late = selectors.target_progress(target=quota, now=jkt(2026, 8, 29))
    assert late.status == "off_track"
    ended = selectors.target_progress(target=quota, now=jkt(2026, 9, 2))
    assert (ended.elapsed, ended.status) == (1.0, "off_track")


def test_reaching_the_target_is_achieved(users, sales_team, pipeline, quota):
    quota.target = Decimal("5000000")
    quota.save()
    assert selectors.target_progress(target=quota, now=jkt(2026, 8, 12)).status == "achieved"


def test_lower_is_better_for_response_time(users, sales_team, pipeline):
    kpi = services.kpi_create(by=users["admin"], name="Speed", metric="median_first_response_hours")
    target = services.target_create(
        by=users["admin"],
        kpi=kpi,
        team=sales_team,
        period_start=date(2026, 8, 1),
        period_end=date(2026, 8, 31),
        target=Decimal("2"),
    )
    progress = selectors.target_progress(target=target, now=jkt(2026, 9, 1, 1))
    assert (progress.actual, progress.status, round(progress.attainment, 3)) == (3.0, "off_track", 0.667)


def test_target_validation(users, sales_team, other_sales_team):
    kpi = services.kpi_create(by=users["admin"], name="Leads", metric="leads_created")
    with pytest.raises(ValidationError, match="starts on its first day"):
        services.target_create(by=users["admin"], kpi=kpi, period="quarter", period_start=date(2026, 8, 1), target=1)
    with pytest.raises(ValidationError, match="calendar month, quarter or year"):
        services.target_create(
            by=users["admin"], kpi=kpi, period_start=date(2026, 8, 1), period_end=date(2026, 8, 20), target=1
        )
    with pytest.raises(ValidationError, match="negative"):
        services.target_create(by=users["admin"], kpi=kpi, period_start=date(2026, 7, 1), target=-1)
    quarter = services.target_create(by=users["admin"], kpi=kpi, period_start=date(2026, 7, 1), target=10)
    assert (quarter.period, quarter.period_end) == ("quarter", date(2026, 9, 30))
    with pytest.raises(PermissionDenied):
        services.target_create(
            by=users["sales_manager"], kpi=kpi, team=other_sales_team, period_start=date(2026, 7, 1), target=10
        )
    # Without a team or a person, a manager's target is their own team's (SPEC §1).
    own = services.target_create(by=users["sales_manager"], kpi=kpi, period_start=date(2026, 7, 1), target=10)
    assert (own.team, own.user) == (sales_team, None)
    with pytest.raises(PermissionDenied):
        services.target_create(by=users["sales_rep"], kpi=kpi, team=sales_team, period_start=date(2026, 7, 1), target=1)


def test_manual_kpis_aggregate_their_values(users, marketing_team):
    kpi = services.kpi_create(
        by=users["marketing_manager"], name="Website visitors", metric="manual", team=marketing_team
    )
    for day, value in [(3, 1200), (10, 1500)]:
        services.measurement_create(
            by=users["marketing_manager"], kpi=kpi, team=marketing_team, day=date(2026, 8, day), value=Decimal(value)
        )
    scope = Scope(team=marketing_team)
    assert metrics.measure(kpi, scope, date(2026, 8, 1), date(2026, 8, 31)) == Decimal(2700)
    kpi.aggregation = "average"
    assert metrics.measure(kpi, scope, date(2026, 8, 1), date(2026, 8, 31)) == Decimal(1350)
    built_in = services.kpi_create(by=users["admin"], name="Leads", metric="leads_created")
    with pytest.raises(ValidationError, match="manual KPIs only"):
        services.measurement_create(by=users["admin"], kpi=built_in, day=date(2026, 8, 1), value=Decimal(1))


# -- scorecards -----------------------------------------------------------------------------------
def test_scorecards_are_stored_once_per_team_and_period(users, sales_team, marketing_team, pipeline, quota):
    now = jkt(2026, 9, 2, 1)
    first = scorecards_compute(now=now, teams=[sales_team, marketing_team])
    assert first == 8  # 2 teams × (this and last month, this and last quarter)
    scorecards_compute(now=now + timedelta(hours=1), teams=[sales_team, marketing_team])
    assert Scorecard.objects.count() == 8
    card = Scorecard.objects.get(team=sales_team, period="month", period_start=date(2026, 8, 1))
    assert card.metrics["leads_received"] == 4
    assert card.metrics["revenue_won"] == "10000000.00"
    assert card.metrics["quota"] == "20000000.00"
    assert card.metrics["lead_to_won_rate"] == 0.25
    marketing = Scorecard.objects.get(team=marketing_team, period="month", period_start=date(2026, 8, 1))
    assert marketing.metrics["leads_delivered"] == 1
    assert marketing.metrics["won_rate_by_source"] == {"web": 1.0}


def test_the_card_of_a_month_in_progress_shows_the_whole_months_quota(users, sales_team, pipeline, quota):
    scorecards_compute(now=jkt(2026, 8, 16, 1), teams=[sales_team])  # halfway through August
    card = Scorecard.objects.get(team=sales_team, period="month", period_start=date(2026, 8, 1))
    assert card.period_end == date(2026, 8, 31)
    assert card.metrics["quota"] == "20000000.00"


def test_the_command_computes_scorecards(users, sales_team, capsys):
    call_command("compute_scorecards", "--as-of", "2026-09-02T01:00:00+07:00")
    assert Scorecard.objects.filter(team=sales_team).count() == 4
    assert "scorecards computed" in capsys.readouterr().out


def _csv(text: str, encoding: str = "utf-8"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("values.csv", text.encode(encoding), content_type="text/csv")


def test_manual_values_import_all_or_nothing(users, marketing_team):
    from kpis.models import Measurement

    kpi = services.kpi_create(by=users["marketing_manager"], name="Visitors", metric="manual", team=marketing_team)
    bad = services.measurements_import(
        by=users["marketing_manager"],
        kpi=kpi,
        team=marketing_team,
        file=_csv("tanggal,nilai\n2026-08-03,1200\n3/8/2026,x\n"),
    )
    assert [(row, column) for row, column, _ in bad.errors] == [(3, "date"), (3, "value")]
    assert not Measurement.objects.exists()
    good = services.measurements_import(
        by=users["marketing_manager"],
        kpi=kpi,
        team=marketing_team,
        file=_csv("\ufeffDate,Value\n2026-08-03,1200\n2026-08-10,1500.5\n"),
    )
    assert good.created == 2 and Measurement.objects.count() == 2
    latin = services.measurements_import(
        by=users["marketing_manager"],
        kpi=kpi,
        team=marketing_team,
        file=_csv("date,value,note\n2026-08-03,1,café\n", "latin-1"),
    )
    assert latin.errors[0][0] == 0
    with pytest.raises(PermissionDenied):
        services.measurements_import(by=users["marketer"], kpi=kpi, team=marketing_team, file=_csv("date,value\n"))


def test_manual_values_import_through_the_api(api_as, users, marketing_team):
    kpi = services.kpi_create(by=users["marketing_manager"], name="Visitors", metric="manual", team=marketing_team)
    client = api_as(users["marketing_manager"])
    response = client.post(
        "/api/v1/kpi-measurements/import/",
        {"kpi": kpi.pk, "team": marketing_team.pk, "file": _csv("date,value\n2026-08-03,12\n")},
        format="multipart",
    )
    assert response.status_code == 201 and response.json() == {"created": 1, "errors": []}
    response = client.post(
        "/api/v1/kpi-measurements/import/",
        {"kpi": kpi.pk, "team": marketing_team.pk, "file": _csv("date\n2026-08-03\n")},
        format="multipart",
    )
    assert response.status_code == 400 and response.json()["errors"][0]["row"] == 1


def test_a_rep_who_moves_team_leaves_the_old_teams_figures_alone(users, sales_team, other_sales_team, pipeline):
    from teams import services as team_services

    scope = Scope(team=sales_team)
    before = (metrics.leads_created(scope, *august(scope)), metrics.revenue_won(scope, *august(scope)))
    team_services.user_update(user=users["sales_rep"], team=other_sales_team, on=date(2026, 8, 20))
    assert (metrics.leads_created(scope, *august(scope)), metrics.revenue_won(scope, *august(scope))) == before
    other = Scope(team=other_sales_team)
    assert metrics.leads_created(other, *august(other)) == 0
    # The person's own figures follow them: the leads they still own.
    assert metrics.revenue_won(Scope(user=users["sales_rep"]), *august(scope)) == Decimal("10000000")


def test_scorecards_cost_the_same_queries_whatever_the_data_size(users, sales_team, marketing_team):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            scorecards_compute(now=jkt(2026, 9, 2, 1), teams=[sales_team, marketing_team])
        return len(queries)

    def add(n: int) -> None:
        for i in range(n):
            lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 1 + i % 20, 9), company=f"PT {i}")
            leads.lead_assign(
                lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=jkt(2026, 8, 1 + i % 20, 10)
            )

    add(2)
    count()  # the first run creates the cards; later runs replace them
    small = count()
    add(40)
    assert count() == small


def test_another_teams_kpi_takes_no_targets_or_values_from_a_manager(users, sales_team, marketing_team):
    visitors = services.kpi_create(by=users["marketing_manager"], name="Visitors", metric="manual", team=marketing_team)
    with pytest.raises(PermissionDenied):
        services.measurement_create(
            by=users["sales_manager"], kpi=visitors, team=sales_team, day=date(2026, 8, 3), value=Decimal(1)
        )
    with pytest.raises(PermissionDenied):
        services.target_create(
            by=users["sales_manager"],
            kpi=visitors,
            team=sales_team,
            period="month",
            period_start=date(2026, 8, 1),
            target=Decimal(1),
        )
    with pytest.raises(PermissionDenied):
        services.measurements_import(
            by=users["sales_manager"], kpi=visitors, team=sales_team, file=_csv("date,value\n2026-08-03,1\n")
        )
    company = services.kpi_create(by=users["admin"], name="Revenue", metric="revenue_won")
    assert (
        services.target_create(
            by=users["sales_manager"],
            kpi=company,
            team=sales_team,
            period="month",
            period_start=date(2026, 8, 1),
            target=Decimal(1),
        ).kpi
        == company
    )


def test_an_admin_with_a_team_and_a_manager_role_still_defines_company_kpis(users, sales_team):
    """A superuser acts as admin whatever role and team they carry: their KPI without a team
    is the company's, not the team's (the policy's role, not the stored one)."""
    boss = users["sales_manager"]
    boss.is_superuser = True
    boss.save(update_fields=["is_superuser"])
    assert services.kpi_create(by=boss, name="Company revenue", metric="revenue_won").team is None
    manager = users["other_manager"]
    assert services.kpi_create(by=manager, name="Revenue", metric="revenue_won").team == manager.team
