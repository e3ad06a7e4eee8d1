"""What a breach costs (SPEC §15): the revenue a lead whose follow-up promises were broken
wins less often than one whose promises were kept, from a sales team's own recent leads.

The cohort is the team's leads first assigned in the last 180 days
(`Lead.first_assigned_at` in [now − 180 days, now)), split in two groups:

- a lead is **breached** when a breach of a response or cadence SLA is recorded on it and
  not waived (a waived breach leaves compliance figures, and leaves these too);
- a lead is **met** when at least one of its response or cadence clocks was met and no
  such breach is recorded on it.

A lead with neither (its clocks still running, cancelled, or only waived breaches) is in
no group. Then cost per breach = max(0, met win rate − breached win rate) × the median deal
value of the won leads of both groups, in the team's currency and rounded to its unit;
unknown (None, with a reason) while either group has fewer than 30 leads.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from statistics import median
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from kpis.formulas import rate
from leads.models import Lead, Status
from slas.models import Breach, Clock, Sla
from teams.models import Team

BREACH_COST_DAYS = 180
# Fewer leads than this in either group and a difference of win rates is mostly chance.
BREACH_COST_MIN_LEADS = 30
JUDGED_KINDS = (Sla.Kind.RESPONSE, Sla.Kind.CADENCE)
# Currencies whose amounts are written in whole units: ISO 4217 gives the rupiah two
# decimals, but no price, invoice or bank statement in Indonesia uses them.
WHOLE_UNITS = frozenset({"IDR", "JPY", "KRW", "VND", "CLP", "ISK", "UGX", "PYG"})

NOT_ENOUGH_DATA = "not_enough_data"
NO_WON_VALUE = "no_won_value"
REASONS = {
    NOT_ENOUGH_DATA: _(
        "Not enough data yet: it takes %(n)d leads that kept their SLAs and %(n)d that breached "
        "them, assigned in the last %(days)d days."
    ),
    NO_WON_VALUE: _("No lead won in the last %(days)d days has a deal value yet."),
}


@dataclass(frozen=True)
class BreachCost:
    """A sales team's breach cost, with the figures it comes from."""

    team: Team
    since: datetime
    until: datetime
    currency: str
    met_leads: int
    met_won: int
    breached_leads: int
    breached_won: int
    median_won_value: Decimal | None
    cost_per_breach: Decimal | None
    reason: str | None  # None when the cost is known, else NOT_ENOUGH_DATA or NO_WON_VALUE

    @property
    def met_won_rate(self) -> float | None:
        return rate(self.met_won, self.met_leads)

    @property
    def breached_won_rate(self) -> float | None:
        return rate(self.breached_won, self.breached_leads)

    @property
    def reason_text(self) -> str | None:
        """Why the cost is unknown, in the active language (None when it is known)."""
        if self.reason is None:
            return None
        return str(REASONS[self.reason]) % {"n": BREACH_COST_MIN_LEADS, "days": BREACH_COST_DAYS}

    def times(self, breaches: int) -> Decimal | None:
        """What `breaches` breaches cost at this rate (None while the rate is unknown)."""
        return None if self.cost_per_breach is None else self.cost_per_breach * breaches


def breach_cost(*, team: Team, now: datetime) -> BreachCost:
    """`team`'s breach cost at `now`: two queries (see `breach_costs`)."""
    return breach_costs(teams=[team], now=now)[team.pk]


def breach_costs(*, teams: list[Team], now: datetime) -> dict[int, BreachCost]:
    """The breach cost of each of `teams` (sales teams) at `now`, by team id: two queries
    whatever the number of teams and leads (one grouped count of the groups and their wins,
    one list of the won values for the medians)."""
    ids = [team.pk for team in teams]
    since = now - timedelta(days=BREACH_COST_DAYS)
    judged = Q(kind__in=JUDGED_KINDS)
    leads = Lead.objects.filter(team_id__in=ids, first_assigned_at__gte=since, first_assigned_at__lt=now).annotate(
        breached=Exists(Breach.objects.filter(judged, lead_id=OuterRef("pk"), waived=False)),
        met=Exists(Clock.objects.filter(judged, lead_id=OuterRef("pk"), state=Clock.State.MET)),
    )
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = (
        leads.values_list("team_id", "breached", "met")
        .annotate(n=Count("pk"), won=Count("pk", filter=Q(status=Status.WON)))
        .order_by()
    )
    for team_id, breached, met, n, won in rows:
        group = "breached" if breached else "met" if met else None
        if group:
            counts[team_id][group] += n
            counts[team_id][f"{group}_won"] += won
    values: dict[int, list[Decimal]] = defaultdict(list)
    won = leads.filter(Q(breached=True) | Q(met=True), status=Status.WON, value__isnull=False)
    for team_id, value in won.values_list("team_id", "value").order_by():
        values[team_id].append(value)
    return {team.pk: _cost(team, (since, now), counts[team.pk], values[team.pk]) for team in teams}


def _cost(team: Team, window: tuple[datetime, datetime], counts: dict[str, int], values: list[Decimal]) -> BreachCost:
    middle = median(values) if values else None
    met, breached = counts["met"], counts["breached"]
    cost, reason = None, None
    if min(met, breached) < BREACH_COST_MIN_LEADS:
        reason = NOT_ENOUGH_DATA
    elif middle is None:
        reason = NO_WON_VALUE
    else:
        # Exact fractions: 9/30 − 3/30 is 0.2, not 0.19999…, before the value multiplies it.
        lost = max(Fraction(0), Fraction(counts["met_won"], met) - Fraction(counts["breached_won"], breached))
        exact = lost * Fraction(middle)
        cost = money_round(Decimal(exact.numerator) / Decimal(exact.denominator), team.currency)
    return BreachCost(
        team=team,
        since=window[0],
        until=window[1],
        currency=team.currency,
        met_leads=met,
        met_won=counts["met_won"],
        breached_leads=breached,
        breached_won=counts["breached_won"],
        median_won_value=None if middle is None else money_round(middle, team.currency),
        cost_per_breach=cost,
        reason=reason,
    )


def money_round(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded (half up) to the currency's unit: whole rupiah, cents of a dollar."""
    unit = Decimal(1) if currency.upper() in WHOLE_UNITS else Decimal("0.01")
    return amount.quantize(unit, rounding=ROUND_HALF_UP)


# -- last week, at that cost -------------------------------------------------------------------
@dataclass(frozen=True)
class WeekCost:
    """A sales team's breaches of its last complete ISO week, at its breach cost."""

    week_start: date
    week_end: date  # inclusive
    breaches: int
    basis: BreachCost

    @property
    def cost(self) -> Decimal | None:
        return self.basis.times(self.breaches)


def last_complete_week(*, team: Team, now: datetime) -> date:
    """The Monday of the last ISO week that has ended at `now` in the team's time zone."""
    today = now.astimezone(ZoneInfo(team.timezone)).date()
    return today - timedelta(days=today.weekday() + 7)


def last_week_costs(*, teams: list[Team], now: datetime) -> dict[int, WeekCost]:
    """For each of `teams` (sales teams), its response and cadence breaches (not waived) that
    fell due in its last complete ISO week, and what they cost at its breach cost. Three
    queries whatever the number of teams."""
    if not teams:
        return {}
    weeks = {team.pk: last_complete_week(team=team, now=now) for team in teams}
    in_week = Q()
    for team in teams:
        zone = ZoneInfo(team.timezone)
        start = datetime.combine(weeks[team.pk], time(0), zone)
        in_week |= Q(team_id=team.pk, due_at__gte=start, due_at__lt=start + timedelta(days=7))
    counted = dict(
        Breach.objects.filter(in_week, kind__in=JUDGED_KINDS, waived=False)
        .values_list("team_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    costs = breach_costs(teams=teams, now=now)
    return {
        team.pk: WeekCost(
            week_start=weeks[team.pk],
            week_end=weeks[team.pk] + timedelta(days=6),
            breaches=counted.get(team.pk, 0),
            basis=costs[team.pk],
        )
        for team in teams
    }
