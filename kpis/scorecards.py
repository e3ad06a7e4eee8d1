"""Team scorecards: computed by a nightly job (and on demand) and stored, so history is cheap.

`scorecards_compute` stores one card per team and period (the current and the previous
month and quarter, in the team's time zone); `scorecards_refresh` recomputes the stored
cards of any period that a later change marked stale (`scorecards_mark_stale`).
Idempotent: a recompute replaces the card (unique per team, period kind and start), never
duplicates it. The metrics of all the cards are computed together (`kpis.grouped`), so a
run costs the same few queries for 2 teams or 50.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q

from kpis.grouped import Card, grouped_metrics
from kpis.metrics import Scope
from kpis.models import Metric, Scorecard, Target
from teams.calendar import period_bounds
from teams.models import Team

PERIODS = ("month", "quarter")


def periods_to_compute(*, team: Team, now: datetime) -> list[tuple[str, date, date]]:
    """(kind, first day, last day) of the current and previous month and quarter."""
    today = now.astimezone(Scope(team=team).zone).date()
    found = []
    for kind in PERIODS:
        start, after = period_bounds(today, kind)
        previous_start, _ = period_bounds(start - timedelta(days=1), kind)
        found += [(kind, start, after - timedelta(days=1)), (kind, previous_start, start - timedelta(days=1))]
    return found


def scorecard_periods(*, teams: Sequence[Team], now: datetime) -> list[tuple[str, date, Card]]:
    """(kind, last day, card) of every team's current and previous month and quarter; the
    card of a period in progress ends today, in the team's time zone."""
    found = []
    for team in teams:
        today = now.astimezone(Scope(team=team).zone).date()
        for kind, first, last in periods_to_compute(team=team, now=now):
            found.append((kind, last, Card(team=team, first=first, last=min(last, today), period_last=last)))
    return found


def scorecards_compute(*, now: datetime, teams: list[Team] | None = None) -> int:
    """Compute and store the scorecards of every team (or `teams`); returns cards written.

    A constant number of queries whatever the number of teams: the metrics of every card at
    once (`cards_metrics`), then one upsert on the card's unique key (team, period, start),
    which makes a rerun replace the cards, never duplicate them.
    """
    teams = list(teams if teams is not None else Team.objects.order_by("name"))
    periods = scorecard_periods(teams=teams, now=now)
    values = cards_metrics(cards=[card for _, _, card in periods])
    rows = [
        Scorecard(
            team=card.team,
            period=kind,
            period_start=card.first,
            period_end=last,
            computed_at=now,
            metrics=_json(metrics),
        )
        for (kind, last, card), metrics in zip(periods, values, strict=True)
    ]
    Scorecard.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["team", "period", "period_start"],
        update_fields=["period_end", "computed_at", "metrics"],
    )
    return len(rows)


def scorecards_mark_stale(*, team_ids: Iterable[int | None], instants: Iterable[datetime], now: datetime) -> int:
    """Mark for recomputing the stored cards of these teams whose period holds any of these
    instants (as a date in each team's time zone): a change to their figures after they were
    computed, such as a rejection overturned (SPEC §15). `scorecards_refresh` recomputes them
    soon after, so that no request computes a card or waits on the broker. In the caller's
    transaction; two statements. Returns the cards marked."""
    team_ids = {team_id for team_id in team_ids if team_id is not None}
    instants = list(instants)
    held = Q(pk__in=[])
    for team_id, zone in Team.objects.filter(pk__in=team_ids).values_list("pk", "timezone"):
        for day in {instant.astimezone(ZoneInfo(zone)).date() for instant in instants}:
            held |= Q(team_id=team_id, period_start__lte=day, period_end__gte=day)
    return Scorecard.objects.filter(held).update(stale_at=now)


REFRESH_BATCH = 200


def scorecards_refresh(*, now: datetime, limit: int = REFRESH_BATCH) -> int:
    """Recompute the stored cards marked stale (the oldest marks first, up to `limit`) and
    clear their marks; returns the cards recomputed. A card of a period in progress is
    computed up to today, as the nightly job computes it.

    Safe twice or at once: the cards are locked (skipping those another run holds) in the
    transaction that rewrites them, so a card marked again meanwhile waits for that run and
    stays marked for the next. A constant number of statements whatever the number of cards
    (`cards_metrics`); a run with nothing marked is one statement on a partial index."""
    with transaction.atomic():
        stale = list(
            Scorecard.objects.filter(stale_at__isnull=False)
            .select_related("team")
            .order_by("stale_at", "pk")
            .select_for_update(skip_locked=True, of=("self",))[:limit]
        )
        if not stale:
            return 0
        cards = [
            Card(
                team=card.team,
                first=card.period_start,
                last=min(card.period_end, now.astimezone(Scope(team=card.team).zone).date()),
                period_last=card.period_end,
            )
            for card in stale
        ]
        for card, metrics in zip(stale, cards_metrics(cards=cards), strict=True):
            card.metrics, card.computed_at, card.stale_at = _json(metrics), now, None
        Scorecard.objects.bulk_update(stale, ["metrics", "computed_at", "stale_at"])
    return len(stale)


def card_metrics(*, team: Team, first: date, last: date) -> dict[str, Any]:
    """Every built-in metric of SPEC §5 for the team, plus the figures of its side of the card:
    for a sales team leads received and quota, for a marketing team leads delivered,
    acceptance, rejection reasons, won rates by source and campaign, growth target."""
    return cards_metrics(cards=[Card(team=team, first=first, last=last)])[0]


def cards_metrics(*, cards: Sequence[Card]) -> list[dict[str, Any]]:
    """`card_metrics` of many cards, in order, in a constant number of queries (`kpis.grouped`)."""
    found = grouped_metrics(cards=cards)
    targets = _targets(cards)
    for card, values in zip(cards, found, strict=True):
        team = card.team
        breakdowns = {name: values.pop(name, None) for name in BREAKDOWNS}
        if team.kind == Team.Kind.SALES:
            values["leads_received"] = values[Metric.LEADS_CREATED]
            values["quota"] = targets(team, Metric.REVENUE_WON, card.first, card.target_last)
        else:
            values["leads_delivered"] = values[Metric.LEADS_CREATED]
            rejected = values[Metric.REJECTION_RATE]
            values["acceptance_rate"] = None if rejected is None else 1 - rejected
            values.update(breakdowns)
            values["growth_target"] = targets(team, Metric.LEADS_GROWTH, card.first, card.target_last)
    return found


BREAKDOWNS = ("rejection_reasons", "won_rate_by_source", "won_rate_by_campaign")


def _targets(cards: Sequence[Card]) -> Callable[[Team, str, date, date], Decimal | None]:
    """The targets of the cards' periods (one query), as a look-up: a team's own target for a
    metric over exactly the period, the first by the targets' ordering; for revenue, without
    one, the sum of its people's targets."""
    found = (
        Target.objects.filter(
            kpi__metric__in=[Metric.REVENUE_WON, Metric.LEADS_GROWTH],
            period_start__in={card.first for card in cards},
            period_end__in={card.target_last for card in cards},
        )
        .order_by(*Target._meta.ordering)
        .values_list("kpi__metric", "period_start", "period_end", "team_id", "user__team_id", "target")
    )
    own: dict[tuple, Decimal] = {}
    people: dict[tuple, list[Decimal]] = {}
    for metric, first, last, team_id, user_team_id, target in found:
        if team_id is not None:
            own.setdefault((metric, first, last, team_id), target)
        if user_team_id is not None:
            people.setdefault((metric, first, last, user_team_id), []).append(target)

    def lookup(team: Team, metric: str, first: date, last: date) -> Decimal | None:
        key = (metric, first, last, team.pk)
        if key in own or metric != Metric.REVENUE_WON:
            return own.get(key)
        return sum(people[key], Decimal(0)) if key in people else None

    return lookup


def _json(values: dict[str, Any]) -> dict[str, Any]:
    """Amounts as decimal strings with two places (exact, the same on every database);
    everything else as JSON has it."""
    cents = Decimal("0.01")
    return {key: str(value.quantize(cents)) if isinstance(value, Decimal) else value for key, value in values.items()}
