"""The built-in metrics of many scorecards at once, in a constant number of statements.

The declared fast path of `kpis.metrics`, which defines each metric and measures one scope
at a time, for the KPI page and targets: a scorecard run for every team and four periods
would repeat its ~20 queries per card. Here four set-based statements (their SQL in
`kpis.grouped_sql`) read what every card needs, plus the campaigns and (in
`kpis.scorecards`) the targets, and the same formulas (`kpis.formulas`) turn them into
values: the same statements whatever the number of teams and periods. The values are
exactly those `kpis.metrics` gives each card alone, to the last bit of every float
(tests/kpis/test_scorecards_grouped.py holds the proof).

A lead's first assignment, first follow-up after it and whether it reached qualified are
read as stored on the lead (`leads.services.facts`), not looked up in the history tables.

Counts and sums are pre-aggregated in SQL by the teams a row belongs to and by its
*bucket*: the cards' bounds (instants in each team's time zone), sorted, cut time into
buckets, and a bucket lies wholly inside or outside any card's range. A few thousand rows
come back, and `_Grid` adds each to the cards it belongs to.

A marketing team's leads are those of its campaigns and those its members created
(`metrics.scoped_leads`). An OR across the two joins cannot use an index, and a lead can
belong to two marketing teams; so every row carries its three teams (the lead's sales
team, its campaign's, its creator's), and a lead counts for its creator's team only when
that is not its campaign's (once per team).

Medians cannot be pre-aggregated. On PostgreSQL the cards come in as a VALUES list, each
lead is joined to its cards through the three teams (a UNION ALL, not an OR), and the
median is an ordered-set aggregate: the mean of the lower and the upper middle value
(`percentile_disc` at 0.5 and a hair above, from one sort), which is what `statistics.median`
computes, to the bit; `percentile_cont(0.5)` interpolates as lo + 0.5 × (hi − lo), which
differs from (lo + hi) / 2 in the last bit about one time in six. SQLite has neither, and
no exact interval arithmetic: there the timestamps come back and Python takes the median.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from statistics import median
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, connections

from kpis.formulas import rate, roi
from kpis.grouped_sql import (
    ASSIGNED_MEDIAN,
    ASSIGNED_VALUES,
    CREATED,
    FIRST_RESPONSE_MEDIAN,
    FIRST_RESPONSE_VALUES,
    FIRST_RESPONSES,
    ROUTES,
    SLAS,
    TEAMS,
    TOUCH_TALLIES,
    TOUCHES,
    WON,
    bucket_sql,
    fetch,
    hours_between,
    hours_sql,
    median_sql,
    money_value,
    param,
    postgres,
)
from kpis.metrics import BUILT_IN, ZERO, Scope, scope_range
from kpis.models import Metric
from leads.models import Campaign
from slas.models import Sla
from slas.selectors import compliance
from teams.models import Team

CLOCK_KINDS = (Sla.Kind.RESPONSE, Sla.Kind.CADENCE, Sla.Kind.ASSIGNMENT)

SALES, MARKETING = Team.Kind.SALES, Team.Kind.MARKETING


@dataclass(frozen=True)
class Card:
    """A team and a period of dates [first, last], measured in the team's time zone. A period
    still in progress is measured up to today (`last`) but its targets are the whole
    period's, which ends on `period_last`."""

    team: Team
    first: date
    last: date
    period_last: date | None = None

    @property
    def target_last(self) -> date:
        return self.period_last or self.last


@dataclass(frozen=True)
class _Frame:
    """A card as the statements see it: its bounds as instants, and as dates for campaigns."""

    index: int
    team_id: int
    kind: str
    start: datetime
    end: datetime
    before: datetime  # the start of the previous period of the same length (leads_growth)
    first: date
    after: date  # the day after the last


class _Campaign(NamedTuple):
    team_id: int
    starts: date
    ends: date | None
    spend: Decimal
    name: str


@dataclass
class _Totals:
    """What the statements add up for one card."""

    created: int = 0
    before: int = 0
    qualified: int = 0
    won: int = 0
    rejected: int = 0
    to_assign: float | None = None
    first_response: float | None = None
    revenue: Decimal = ZERO
    campaign_revenue: Decimal = ZERO
    companies: Counter = field(default_factory=Counter)
    clocks: dict[str, list[int]] = field(default_factory=lambda: {kind: [0, 0] for kind in CLOCK_KINDS})
    breaches: int = 0
    touches: list[int] = field(default_factory=lambda: [0, 0])  # all, captured
    disputes: list[int] = field(default_factory=lambda: [0, 0])  # raised, overturned
    reasons: Counter = field(default_factory=Counter)
    sources: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    campaigns: dict[str | None, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))


def grouped_metrics(*, cards: Sequence[Card]) -> list[dict[str, Any]]:
    """For each card, in order: every metric of `metrics.BUILT_IN` (same keys, values and
    order as `metrics.measure` for the team and period), `breaches`, `captured_share`,
    `disputes_raised` and `disputes_overturned`, and for a marketing team
    `rejection_reasons` (overturned rejections left out), `won_rate_by_source` and
    `won_rate_by_campaign`.

    Reads only. Six queries whatever the number of cards (on two connections at once on
    PostgreSQL, outside a transaction)."""
    if not cards:
        return []
    grid = _Grid([_frame(index, card) for index, card in enumerate(cards)])
    campaigns = _campaigns()
    totals = [_Totals() for _ in grid.frames]
    # Two halves of about the same cost at 1,000,000 leads (bench/README.md); each fills its
    # own fields of the totals.
    _together(
        lambda: (_created(grid, totals, campaigns), _touches(grid, totals)),
        lambda: (_won(grid, totals, campaigns), _first_responses(grid, totals), _slas(grid, totals)),
    )
    return [_card(frame, totals[frame.index], campaigns) for frame in grid.frames]


def _together(first: Callable[[], Any], second: Callable[[], Any]) -> None:
    """Run `second` on a connection of its own while `first` runs on this one, so that
    PostgreSQL works on both with a core each (SCORECARDS_PARALLEL, on by default).
    One after the other on SQLite, and inside a transaction, whose uncommitted rows another
    connection could not see (tests; a caller's atomic block)."""
    if not (postgres() and settings.SCORECARDS_PARALLEL) or connection.in_atomic_block:
        first()
        second()
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        done = pool.submit(_on_own_connection, second)
        first()
        done.result()


def _on_own_connection(work: Callable[[], Any]) -> None:
    try:
        work()
    finally:
        connections.close_all()  # this thread's: its connection would outlive the pool


def _frame(index: int, card: Card) -> _Frame:
    start, end = scope_range(Scope(team=card.team), card.first, card.last)
    return _Frame(
        index=index,
        team_id=card.team.pk,
        kind=card.team.kind,
        start=start,
        end=end,
        before=start - (end - start),  # as metrics.leads_growth reckons it
        first=card.first,
        after=card.last + timedelta(days=1),
    )


def _card(frame: _Frame, totals: _Totals, campaigns: dict[int, _Campaign]) -> dict[str, Any]:
    spend = sum((c.spend for c in campaigns.values() if _runs(c, frame) and _counts_for(c, frame)), ZERO)
    repeat = sum(1 for n in totals.companies.values() if n > 1)
    response, cadence = totals.clocks[Sla.Kind.RESPONSE], totals.clocks[Sla.Kind.CADENCE]
    assignment = totals.clocks[Sla.Kind.ASSIGNMENT]
    values = {
        Metric.LEADS_CREATED: totals.created,
        Metric.LEADS_GROWTH: (totals.created - totals.before) / totals.before if totals.before else None,
        Metric.LEAD_TO_QUALIFIED_RATE: rate(totals.qualified, totals.created),
        Metric.LEAD_TO_WON_RATE: rate(totals.won, totals.created),
        Metric.REVENUE_WON: totals.revenue,
        Metric.CAMPAIGN_ROI: roi(totals.campaign_revenue, spend),
        Metric.REPEAT_CUSTOMER_RATE: rate(repeat, len(totals.companies)),
        Metric.MEDIAN_FIRST_RESPONSE_HOURS: totals.first_response,
        Metric.RESPONSE_SLA_COMPLIANCE: compliance(*response),
        Metric.CADENCE_SLA_COMPLIANCE: compliance(*cadence),
        Metric.REJECTION_RATE: rate(totals.rejected, totals.created),
        Metric.MEDIAN_TIME_TO_ASSIGN_HOURS: totals.to_assign,
        Metric.ASSIGNMENT_SLA_COMPLIANCE: compliance(*assignment),
    }
    card = {name: values[name] for name in BUILT_IN}
    card["breaches"] = totals.breaches
    card["captured_share"] = rate(totals.touches[1], totals.touches[0])
    card["disputes_raised"], card["disputes_overturned"] = totals.disputes
    if frame.kind == MARKETING:
        card["rejection_reasons"] = dict(sorted(totals.reasons.items()))
        card["won_rate_by_source"] = _won_rates(totals.sources)
        card["won_rate_by_campaign"] = _won_rates(totals.campaigns)
    return card


def _won_rates(counts: dict[str | None, list[int]]) -> dict[str, float]:
    """Won ÷ created by name, ordered by name (no campaign, "", first) as the database orders it."""
    ordered = sorted(counts.items(), key=lambda item: (item[0] is not None, item[0] or ""))
    return {name or "": won / total for name, (total, won) in ordered if total}


class _Grid:
    """The cards by team, and the buckets that cut time at every card's bounds."""

    def __init__(self, frames: list[_Frame]) -> None:
        self.frames = frames
        self.by_team: dict[tuple[str, int], list[_Frame]] = defaultdict(list)
        for frame in frames:
            self.by_team[(frame.kind, frame.team_id)].append(frame)

    def bounds(self, *, before: bool = False) -> list[datetime]:
        """Every card's start and end (and previous start), sorted: bucket k is [b[k], b[k+1])."""
        instants = {f.start for f in self.frames} | {f.end for f in self.frames}
        return sorted(instants | ({f.before for f in self.frames} if before else set()))

    @staticmethod
    def inside(bounds: list[datetime], bucket: int, start: datetime, end: datetime) -> bool:
        return start <= bounds[bucket] and bounds[bucket + 1] <= end

    def lead_cards(self, sales_team: int, campaign_team: int | None, creator_team: int | None) -> list[_Frame]:
        """The cards a lead may count for: its sales team's, its campaign's marketing team's,
        and its creator's marketing team's unless that is the campaign's."""
        found = self.by_team.get((SALES, sales_team), []) + self.by_team.get((MARKETING, campaign_team), [])
        if creator_team != campaign_team:
            found = found + self.by_team.get((MARKETING, creator_team), [])
        return found

    def values(self) -> tuple[str, list[Any]]:
        """The cards as a VALUES list (i, team_id, kind, s, e) and its parameters."""
        rows = ", ".join(["(%s, %s, %s, %s, %s)"] * len(self.frames))
        params: list[Any] = []
        for f in self.frames:
            params += [f.index, f.team_id, f.kind, param(f.start), param(f.end)]
        return f"card (i, team_id, kind, s, e) AS (VALUES {rows}), ", params


# -- leads created: cohort, growth, breakdowns, time to assign ----------------------------------
def _created(grid: _Grid, totals: list[_Totals], campaigns: dict[int, _Campaign]) -> None:
    bounds = grid.bounds(before=True)
    lowest = param(min(f.start for f in grid.frames))
    bucket, bucket_params = bucket_sql("l.created_at", bounds)
    cards, card_params = grid.values() if postgres() else ("", [])
    if postgres():
        hours = hours_sql("first_assigned", "created_at")
        assigned = ASSIGNED_MEDIAN.format(median=median_sql(hours), routes=ROUTES.format(at="created_at"))
    else:
        assigned = ASSIGNED_VALUES
    sql = CREATED.format(cards=cards, bucket=bucket, teams=TEAMS, assigned=assigned)
    params = [*card_params, *bucket_params, lowest, lowest, param(bounds[0]), param(bounds[-1]), lowest]
    waits = defaultdict(list)
    for part, a, campaign_team, creator_team, k, name, other, n, qualified, won, rejected, value in fetch(sql, params):
        if part == "median":
            totals[a].to_assign = value
            continue
        for frame in grid.lead_cards(a, campaign_team, creator_team):
            if part == "value":
                if grid.inside(bounds, k, frame.start, frame.end):
                    waits[frame.index].append(hours_between(other, name))
            elif part == "reason":
                if frame.kind == MARKETING and grid.inside(bounds, k, frame.start, frame.end):
                    totals[frame.index].reasons[name] += n
            elif grid.inside(bounds, k, frame.start, frame.end):
                campaign = campaigns[other].name if other in campaigns else None
                _add_created(totals[frame.index], frame, name, campaign, n, qualified, won, rejected)
            elif grid.inside(bounds, k, frame.before, frame.start):
                totals[frame.index].before += n
    for index, hours in waits.items():
        totals[index].to_assign = median(hours)


def _add_created(totals: _Totals, frame: _Frame, source, campaign, n, qualified, won, rejected) -> None:
    totals.created += n
    totals.qualified += qualified
    totals.won += won
    totals.rejected += rejected
    if frame.kind == MARKETING:
        for counts in (totals.sources[source], totals.campaigns[campaign]):
            counts[0] += n
            counts[1] += won


# -- leads won: revenue, revenue from campaigns, repeat customers -------------------------------
def _won(grid: _Grid, totals: list[_Totals], campaigns: dict[int, _Campaign]) -> None:
    """Revenue of the leads won (closed) in each card's period; the part from campaigns
    running in it (a marketing team's own); companies won, and how often."""
    bounds = grid.bounds()
    bucket, bucket_params = bucket_sql("l.closed_at", bounds)
    sql = WON.format(bucket=bucket, teams=TEAMS)
    params = [*bucket_params, param(bounds[0]), param(bounds[-1])]
    for sales_team, campaign_team, creator_team, campaign_id, k, company, n, value in fetch(sql, params):
        amount = money_value(value)
        for frame in grid.lead_cards(sales_team, campaign_team, creator_team):
            if not grid.inside(bounds, k, frame.start, frame.end):
                continue
            card = totals[frame.index]
            card.revenue += amount
            campaign = campaigns.get(campaign_id)
            if campaign is not None and _runs(campaign, frame) and _counts_for(campaign, frame):
                card.campaign_revenue += amount
            if company != "":
                card.companies[company] += n


def _campaigns() -> dict[int, _Campaign]:
    """Every campaign by id (a company has tens or hundreds): their spend and dates for ROI,
    their names for the won rates by campaign, which the statements group by id."""
    found = Campaign.objects.order_by().values_list("pk", "team_id", "start_date", "end_date", "spend", "name")
    return {pk: _Campaign(*rest) for pk, *rest in found}


def _runs(campaign: _Campaign, frame: _Frame) -> bool:
    return campaign.starts < frame.after and (campaign.ends is None or campaign.ends >= frame.first)


def _counts_for(campaign: _Campaign, frame: _Frame) -> bool:
    """A sales team's ROI counts every campaign; a marketing team's, its own."""
    return frame.kind != MARKETING or campaign.team_id == frame.team_id


# -- first responses ---------------------------------------------------------------------------
def _first_responses(grid: _Grid, totals: list[_Totals]) -> None:
    bounds = grid.bounds()
    bucket, bucket_params = bucket_sql("l.first_assigned_at", bounds)
    span = [param(bounds[0]), param(bounds[-1])]
    if postgres():
        cards, card_params = grid.values()
        hours = hours_sql("first_touch", "first_assigned")
        select = FIRST_RESPONSE_MEDIAN.format(median=median_sql(hours), routes=ROUTES.format(at="first_assigned"))
        sql = FIRST_RESPONSES.format(cards=cards, bucket=bucket, teams=TEAMS, select=select)
        for index, hours_median in fetch(sql, [*card_params, *bucket_params, *span]):
            totals[index].first_response = hours_median
        return
    sql = FIRST_RESPONSES.format(cards="", bucket=bucket, teams=TEAMS, select=FIRST_RESPONSE_VALUES)
    waits = defaultdict(list)
    for sales_team, campaign_team, creator_team, k, assigned, touched in fetch(sql, [*bucket_params, *span]):
        for frame in grid.lead_cards(sales_team, campaign_team, creator_team):
            if grid.inside(bounds, k, frame.start, frame.end):
                waits[frame.index].append(hours_between(touched, assigned))
    for index, hours in waits.items():
        totals[index].first_response = median(hours)


# -- touches: how much of the record was captured rather than typed ----------------------------
def _touches(grid: _Grid, totals: list[_Totals]) -> None:
    bounds = grid.bounds()
    if all(_on_the_hour(bound) for bound in bounds):
        bucket, bucket_params = bucket_sql("t.hour", bounds)
        sql = TOUCH_TALLIES.format(bucket=bucket)
    else:  # a zone half an hour off UTC's hours
        bucket, bucket_params = bucket_sql("t.occurred_at", bounds)
        sql = TOUCHES.format(bucket=bucket, teams=TEAMS)
    for sales_team, campaign_team, creator_team, k, n, captured in fetch(sql, [*bucket_params, *_span(bounds)]):
        for frame in grid.lead_cards(sales_team, campaign_team, creator_team):
            if grid.inside(bounds, k, frame.start, frame.end):
                totals[frame.index].touches[0] += n
                totals[frame.index].touches[1] += captured


def _on_the_hour(instant: datetime) -> bool:
    utc = instant.astimezone(UTC)
    return utc.minute == utc.second == utc.microsecond == 0


def _span(bounds: list[datetime]) -> list[Any]:
    return [param(bounds[0]), param(bounds[-1])]


# -- SLA compliance and breaches; disputes --------------------------------------------------------
DISPUTE_PARTS = {"raised": 0, "overturned": 1}


def _slas(grid: _Grid, totals: list[_Totals]) -> None:
    """Clocks and breaches by the team that owns or owes them; disputes raised and overturned
    (SPEC §15), for the sales team of the disputed lead and the raiser's marketing team."""
    bounds = grid.bounds()
    clock_bucket, clock_params = bucket_sql("c.due_at", bounds)
    breach_bucket, breach_params = bucket_sql("b.due_at", bounds)
    raised_bucket, raised_params = bucket_sql("d.raised_at", bounds)
    ruled_bucket, ruled_params = bucket_sql("d.ruled_at", bounds)
    span = [param(bounds[0]), param(bounds[-1])]
    sql = SLAS.format(
        clock_bucket=clock_bucket, breach_bucket=breach_bucket, raised_bucket=raised_bucket, ruled_bucket=ruled_bucket
    )
    params = [*clock_params, False, *span, *breach_params, False, *span, *raised_params, *span, *ruled_params, *span]
    for part, team, responsible_team, kind, k, n, breached in fetch(sql, params):
        if part in DISPUTE_PARTS:
            for frame in grid.by_team.get((SALES, team), []) + grid.by_team.get((MARKETING, responsible_team), []):
                if grid.inside(bounds, k, frame.start, frame.end):
                    totals[frame.index].disputes[DISPUTE_PARTS[part]] += n
            continue
        if part == "clock":
            # A team's compliance counts the clocks of the team, whatever its kind.
            for frame in grid.by_team.get((SALES, team), []) + grid.by_team.get((MARKETING, team), []):
                if grid.inside(bounds, k, frame.start, frame.end):
                    counts = totals[frame.index].clocks[kind]
                    counts[0] += n
                    counts[1] += breached
            continue
        for frame in grid.by_team.get((SALES, team), []) + grid.by_team.get((MARKETING, responsible_team), []):
            if grid.inside(bounds, k, frame.start, frame.end):
                totals[frame.index].breaches += n
