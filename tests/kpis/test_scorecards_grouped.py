"""Scorecards computed for all teams at once (`kpis.grouped`) against the per-team metrics.

The reference below is the per-team card as `kpis.scorecards.card_metrics` computed it
before the grouped statements: every metric of `kpis.metrics` (which stays the truth for
the KPI page and targets) for one team and period. On a random company (several sales
and marketing teams in three time zones, leads in and out of the periods, assignments and
reassignments, follow-ups, rejections, wins with values, campaigns, SLA breaches, waived
ones, targets) the grouped cards must be equal to it: same keys in the same order, same
values to the last bit of every float.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext

from kpis import metrics
from kpis import services as kpi_services
from kpis.grouped import Card
from kpis.metrics import Scope, scope_range
from kpis.models import Metric, Scorecard, Target
from kpis.scorecards import _json, card_metrics, cards_metrics, scorecard_periods, scorecards_compute
from leads import services as leads
from leads.models import Rejection
from slas import services as slas
from slas.models import Breach
from teams.models import Role, Team, User
from tests.factories import CampaignFactory, LeadFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
NOW = datetime(2026, 10, 14, 3, 30, tzinfo=UTC)  # mid-October: a month and a quarter in progress
ZONES = ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"]


# -- the reference: one team, one period, through kpis.metrics -------------------------------------
def reference_card(*, team: Team, first: date, last: date) -> dict[str, Any]:
    scope = Scope(team=team)
    start, end = scope_range(scope, first, last)
    values: dict[str, Any] = {name: function(scope, start, end) for name, function in metrics.BUILT_IN.items()}
    values["breaches"] = metrics.breaches(scope, start, end)
    values["captured_share"] = metrics.captured_share(scope, start, end)
    values["disputes_raised"] = metrics.disputes_raised(scope, start, end)
    values["disputes_overturned"] = metrics.disputes_overturned(scope, start, end)
    if team.kind == Team.Kind.SALES:
        values["leads_received"] = values[Metric.LEADS_CREATED]
        values["quota"] = _target_sum(team, Metric.REVENUE_WON, first, last)
    else:
        values["leads_delivered"] = values[Metric.LEADS_CREATED]
        rejected = values[Metric.REJECTION_RATE]
        values["acceptance_rate"] = None if rejected is None else 1 - rejected
        leads_in = metrics.scoped_leads(scope).filter(created_at__gte=start, created_at__lt=end)
        reasons = Rejection.objects.filter(lead__in=leads_in, overturned_at__isnull=True)
        reasons = reasons.values_list("reason").annotate(n=Count("pk"))
        values["rejection_reasons"] = dict(reasons.order_by())
        values["won_rate_by_source"] = _won_rate_by(leads_in, "source")
        values["won_rate_by_campaign"] = _won_rate_by(leads_in, "campaign__name")
        values["growth_target"] = _target_sum(team, Metric.LEADS_GROWTH, first, last)
    return values


def _target_sum(team: Team, metric: str, first: date, last: date) -> Decimal | None:
    targets = Target.objects.filter(kpi__metric=metric, period_start=first, period_end=last)
    own = targets.filter(team=team).values_list("target", flat=True).first()
    if own is not None or metric != Metric.REVENUE_WON:
        return own
    people = list(targets.filter(user__team=team).values_list("target", flat=True))
    return sum(people, Decimal(0)) if people else None


def _won_rate_by(leads_in, field: str) -> dict[str, float]:
    rows = leads_in.values(field).annotate(total=Count("pk"), won=Count("pk", filter=Q(status="won"))).order_by(field)
    return {row[field] or "": row["won"] / row["total"] for row in rows if row["total"]}


# -- a random company ------------------------------------------------------------------------------
def company(seed: int, *, sales: int = 3, marketing: int = 2, leads_count: int = 60) -> dict[str, Any]:
    """Teams, people, campaigns, SLAs and targets, then leads from April to mid-October worked
    through the services (so assignments, clocks, status changes are as in production), then
    the sweep, and a few breaches waived."""
    rng = random.Random(seed)
    admin = UserFactory(username=f"admin{seed}", role=Role.ADMIN, team=None)
    sales_teams = [
        TeamFactory(name=f"Sales {seed}.{n}", kind=Team.Kind.SALES, timezone=ZONES[n % 3]) for n in range(sales)
    ]
    marketing_teams = [
        TeamFactory(name=f"Marketing {seed}.{n}", kind=Team.Kind.MARKETING, timezone=ZONES[(n + 2) % 3])
        for n in range(marketing)
    ]
    on = date(2026, 1, 1)
    reps = {team.pk: [UserFactory(role=Role.SALES_REP, team=team, on=on) for _ in range(2)] for team in sales_teams}
    marketers = {
        team.pk: [UserFactory(role=Role.MARKETER, team=team, on=on) for _ in range(2)] for team in marketing_teams
    }
    campaigns = []
    for n, team in enumerate(marketing_teams):
        for k, (starts, ends) in enumerate(
            [(date(2026, 3, 1), date(2026, 6, 30)), (date(2026, 6, 15), None), (date(2026, 9, 1), date(2026, 10, 31))]
        ):
            campaigns.append(
                CampaignFactory(
                    team=team,
                    name="Always on" if k == 1 else f"Campaign {n}.{k}",  # one name in every team
                    start_date=starts,
                    end_date=ends,
                    spend=Decimal(rng.randrange(1_000_000, 90_000_000)) / 100,
                )
            )
    for n, team in enumerate(sales_teams):
        common = {"by": admin, "team": team, "now": datetime(2026, 3, 1, tzinfo=UTC)}
        slas.sla_create(
            kind="response", name="Response", target_value=rng.choice([4, 8]), target_unit="hours", **common
        )
        slas.sla_create(kind="cadence", name="Cadence", min_touches=3, window_days=10, **common)
        slas.sla_create(kind="assignment", name="Assignment", target_value=24, target_unit="hours", **common)
        slas.sla_create(
            kind="volume",
            name="Volume",
            from_team=marketing_teams[n % len(marketing_teams)],
            leads_per_rep=rng.choice([5, 30]),
            period="month",
            **common,
        )
    _targets(rng, admin, sales_teams, marketing_teams, reps)
    creators = [u for people in marketers.values() for u in people] + [reps[sales_teams[0].pk][0], None]
    for _ in range(leads_count):
        _lead(rng, admin, sales_teams, reps, campaigns, creators)
    slas.sla_sweep(now=NOW, full=True)
    for breach in Breach.objects.order_by("pk"):
        if rng.random() < 0.15:
            slas.breach_waive(breach=breach, by=admin, reason="Bad data", now=NOW)
    return {"sales": sales_teams, "marketing": marketing_teams, "teams": sales_teams + marketing_teams}


def _targets(rng, admin, sales_teams, marketing_teams, reps) -> None:
    revenue = kpi_services.kpi_create(by=admin, name="Revenue", metric="revenue_won")
    growth = kpi_services.kpi_create(by=admin, name="Growth", metric="leads_growth")
    for start in (date(2026, 9, 1), date(2026, 7, 1)):
        period = "month" if start.month == 9 else "quarter"
        amount = Decimal(rng.randrange(10**8, 10**10)) / 100
        kpi_services.target_create(
            by=admin, kpi=revenue, team=sales_teams[0], period=period, period_start=start, target=amount
        )
        for rep in reps[sales_teams[1].pk]:  # no team target: the people's targets add up
            kpi_services.target_create(
                by=admin, kpi=revenue, user=rep, period=period, period_start=start, target=amount
            )
        kpi_services.target_create(
            by=admin, kpi=growth, team=marketing_teams[0], period=period, period_start=start, target=Decimal("0.15")
        )


def _lead(rng, admin, sales_teams, reps, campaigns, creators) -> None:
    team = rng.choice(sales_teams)
    created = datetime(2026, 4, 1, tzinfo=UTC) + timedelta(seconds=rng.uniform(0, 196 * 86400))
    lead = LeadFactory(
        team=team,
        created_at=created,
        campaign=rng.choice([*campaigns, None, None]),
        created_by=rng.choice(creators),
        company=rng.choice(["PT Maju", "PT Jaya", "CV Sentosa", "PT Abadi", ""]),
        source=rng.choice(["web", "event", "referral", "ads"]),
    )
    slas.clocks_start_unassigned(leads=[lead], now=created)  # created without an owner, as lead_create does
    if rng.random() < 0.1:
        return  # never assigned
    owner = rng.choice(reps[team.pk])
    at = created + timedelta(seconds=rng.uniform(60, 3 * 86400))
    if at >= NOW:
        return
    leads.lead_assign(lead=lead, owner=owner, by=admin, now=at)
    if rng.random() < 0.15 and at + timedelta(days=1) < NOW:  # reassigned the next day
        at += timedelta(days=1, seconds=rng.uniform(0, 3600))
        owner = next(rep for rep in reps[team.pk] if rep != owner)
        leads.lead_assign(lead=lead, owner=owner, by=admin, now=at)
    for _ in range(rng.choice([0, 1, 2, 3, 4])):
        at += timedelta(seconds=rng.uniform(600, 4 * 86400))
        if at >= NOW:
            return
        origin = rng.choice(["manual", "manual", "click", "email", "api"])
        leads.touch_log(lead=lead, by=owner, kind="call", origin=origin, now=at)
    at += timedelta(seconds=rng.uniform(600, 5 * 86400))
    if at >= NOW:
        return
    _close(rng, lead, owner, admin, at)


def _close(rng, lead, owner, admin, at: datetime) -> None:
    roll = rng.random()
    if roll < 0.25:
        # Up to IDR 1 M with cents: SQLite sums decimals as floats, exact to 15 digits.
        value = rng.choice([None, Decimal(rng.randrange(10**5, 10**8)) / 100])
        leads.lead_status_change(lead=lead, by=owner, status="qualified", now=at)
        leads.lead_status_change(lead=lead, by=owner, status="won", value=value, now=at + timedelta(hours=5))
    elif roll < 0.4:
        leads.lead_status_change(lead=lead, by=owner, status="qualified", now=at)
        if rng.random() < 0.5:  # reached qualified once, then moved back
            leads.lead_status_change(lead=lead, by=admin, status="working", now=at + timedelta(hours=1))
    elif roll < 0.55:
        leads.lead_reject(lead=lead, by=owner, reason=rng.choice(["spam", "not_icp", "duplicate"]), now=at)
        if rng.random() < 0.3:  # reopened, and rejected again
            leads.lead_status_change(lead=lead, by=admin, status="working", now=at + timedelta(hours=2))
            leads.lead_reject(lead=lead, by=admin, reason="bad_contact", now=at + timedelta(hours=3))
        elif at + timedelta(days=3) < NOW:  # disputed by Marketing (SPEC §15), mostly
            _dispute(random.Random(lead.pk), lead, admin, at)
    elif roll < 0.65:
        leads.lead_status_change(lead=lead, by=owner, status="lost", now=at)


def _dispute(rng, lead, admin, at: datetime) -> None:
    """A marketer (or an admin, of no team) disputes the rejection; most are ruled on a day or
    two later, some overturned (the lead routed again), some across a period's end. Its own
    `rng`, so that the company's other data stays as it was."""
    if rng.random() < 0.3:
        return  # not disputed
    raiser = rng.choice([*User.objects.filter(role=Role.MARKETER).order_by("pk"), admin])
    raised = at + timedelta(hours=rng.uniform(1, 30))
    dispute = leads.dispute_raise(lead=lead, by=raiser, note="A good lead.", now=raised)
    if rng.random() < 0.2:
        return  # still open
    ruling = rng.choice(["upheld", "overturned", "overturned"])
    leads.dispute_rule(
        dispute=dispute,
        by=admin,
        ruling=ruling,
        ruling_note="Looked again.",
        now=raised + timedelta(hours=rng.uniform(1, 48)),
    )


def every_card(teams: list[Team]) -> list[Card]:
    """The nightly job's cards (current and previous month and quarter), a whole year, and a
    period before any data."""
    cards = [card for _, _, card in scorecard_periods(teams=teams, now=NOW)]
    for team in teams:
        cards += [Card(team, date(2026, 1, 1), date(2026, 12, 31)), Card(team, date(2025, 1, 1), date(2025, 3, 31))]
    return cards


def assert_same(found: dict[str, Any], expected: dict[str, Any], card: Card) -> None:
    assert list(found) == list(expected), card
    for key, value in expected.items():
        assert found[key] == value, (card.team.name, card.first, card.last, key, found[key], value)
        assert type(found[key]) is type(value) or value is None, (key, type(found[key]), type(value))


# -- the tests -------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_grouped_cards_equal_the_per_team_metrics(seed):
    world = company(seed)
    cards = every_card(world["teams"])
    expected = [reference_card(team=card.team, first=card.first, last=card.last) for card in cards]
    found = cards_metrics(cards=cards)
    for card, one, reference in zip(cards, found, expected, strict=True):
        assert_same(one, reference, card)
    # The data reaches every branch: a test that compared empty cards would prove nothing.
    numbers = [(key, value) for card in expected for key, value in card.items()]
    for key in (*metrics.BUILT_IN, "breaches", "quota", "growth_target", "disputes_raised", "disputes_overturned"):
        assert any(value not in (None, 0, {}) for name, value in numbers if name == key), key
    assert any(card.get("rejection_reasons") for card in expected)
    assert any(len(card.get("won_rate_by_campaign", {})) > 2 for card in expected)


def test_one_card_alone_equals_the_reference():
    world = company(4, sales=2, marketing=1, leads_count=40)
    for team in world["teams"]:
        for _, _, card in scorecard_periods(teams=[team], now=NOW):
            found = card_metrics(team=team, first=card.first, last=card.last)
            assert_same(found, reference_card(team=team, first=card.first, last=card.last), card)


def test_a_lead_of_two_marketing_teams_counts_once_for_each(users, sales_team):
    """Created by a member of one marketing team from another's campaign: both count it;
    from its own team's campaign: once."""
    first, second = TeamFactory(kind=Team.Kind.MARKETING), TeamFactory(kind=Team.Kind.MARKETING)
    marketer = UserFactory(role=Role.MARKETER, team=first)
    theirs, ours = CampaignFactory(team=second), CampaignFactory(team=first)
    at = datetime(2026, 8, 10, 3, tzinfo=UTC)
    LeadFactory(team=sales_team, created_by=marketer, campaign=theirs, created_at=at)
    LeadFactory(team=sales_team, created_by=marketer, campaign=ours, created_at=at)
    LeadFactory(team=sales_team, created_by=users["sales_rep"], campaign=None, created_at=at)
    cards = [Card(team, date(2026, 8, 1), date(2026, 8, 31)) for team in (first, second, sales_team)]
    found = [card[Metric.LEADS_CREATED] for card in cards_metrics(cards=cards)]
    assert found == [2, 1, 3]


def test_stored_scorecards_are_the_reference_as_json():
    world = company(5, sales=2, marketing=2, leads_count=40)
    assert scorecards_compute(now=NOW, teams=world["teams"]) == 16
    assert scorecards_compute(now=NOW + timedelta(hours=1), teams=world["teams"]) == 16  # replaced, not added
    assert Scorecard.objects.count() == 16
    for kind, last, card in scorecard_periods(teams=world["teams"], now=NOW):
        stored = Scorecard.objects.get(team=card.team, period=kind, period_start=card.first)
        assert stored.period_end == last
        assert stored.computed_at == NOW + timedelta(hours=1)
        assert stored.metrics == _json(reference_card(team=card.team, first=card.first, last=card.last))


def test_the_query_count_does_not_grow_with_the_teams(django_assert_max_num_queries):
    """2 teams or 6, each with its four periods: the same statements."""
    world = company(6, sales=3, marketing=3, leads_count=30)
    two = [world["sales"][0], world["marketing"][0]]

    def cards_of(teams: list[Team]) -> list[Card]:
        return [card for _, _, card in scorecard_periods(teams=teams, now=NOW)]

    with CaptureQueriesContext(connection) as small:
        cards_metrics(cards=cards_of(two))
    with django_assert_max_num_queries(len(small)), CaptureQueriesContext(connection) as large:
        found = cards_metrics(cards=cards_of(world["teams"]))
    assert len(found) == 24 and len(large) == len(small)
    assert len(small) == 7  # five set-based statements, the campaigns, the targets
    with django_assert_max_num_queries(len(small) + 1):  # and one upsert to store them
        assert scorecards_compute(now=NOW, teams=world["teams"]) == 24


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's medians are taken in Python")
def test_the_one_sort_median_is_statistics_median_to_the_bit():
    """Odd and even counts, ties, one value, values that average inexactly."""
    from statistics import median

    from kpis.grouped_sql import median_sql

    draw = random.Random(7)
    sizes = [*range(1, 30), 100, 1001, 4096]
    with connection.cursor() as cursor:
        for n in sizes:
            values = [draw.choice([draw.random() * 100, 0.1, 1 / 3, 7.0]) for _ in range(n)]
            sql = f"SELECT {median_sql('h')} FROM unnest(%s::double precision[]) AS v(h)"  # noqa: S608 (no input)
            cursor.execute(sql, [values])
            assert cursor.fetchone()[0] == median(values), n


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs the statements one after the other")
@pytest.mark.django_db(transaction=True)
def test_on_two_connections_the_cards_are_the_same(monkeypatch, settings):
    """Outside a transaction, PostgreSQL runs half of the statements on a second connection
    (committed data: each connection sees it): the cards are those of one connection."""
    import threading

    from kpis import grouped

    world = company(8, sales=2, marketing=2, leads_count=40)
    cards = every_card(world["teams"])
    settings.SCORECARDS_PARALLEL = False
    alone = cards_metrics(cards=cards)
    settings.SCORECARDS_PARALLEL = True
    threads = set()
    original = grouped._on_own_connection

    def noting(work):
        threads.add(threading.get_ident())
        return original(work)

    monkeypatch.setattr(grouped, "_on_own_connection", noting)
    assert cards_metrics(cards=cards) == alone
    assert threads and threading.get_ident() not in threads
    assert any(card[Metric.LEADS_CREATED] for card in alone) and any(card["breaches"] for card in alone)
