"""What a weekly breach digest and an at-risk reminder say (reads only).

A manager's digest shows both sides of the agreement for the previous ISO week: Sales'
response and cadence record, how fast leads reached a rep, and Marketing's volume record, the team's breaches by rep
and by SLA, the breaches still open, and compliance against the week before. A rep's
digest shows their own breaches.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.urls import reverse

from kpis.economics import BreachCost, breach_costs
from slas.models import Breach, Sla
from slas.selectors import clock_compliance, volume_progress
from teams.models import Role, Team, User


def previous_week(*, team: Team, now: datetime) -> date | None:
    """The Monday of the ISO week before the current one, once the team's local time has
    passed Monday 08:00 of the current week (always true after Monday morning)."""
    zone = ZoneInfo(team.timezone)
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    if local < datetime.combine(monday, time(8), zone):
        return None
    return monday - timedelta(days=7)


def week_bounds(*, team: Team, week_start: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(team.timezone)
    start = datetime.combine(week_start, time(0), zone)
    return start, start + timedelta(days=7)


def link(path: str) -> str:
    """An absolute link into the app for e-mails (SITE_URL + path)."""
    return f"{settings.SITE_URL}{path}"


@dataclass
class Side:
    """One team's record for the week: response/cadence compliance (sales) or volume (marketing)."""

    team: Team
    breaches: int = 0  # breached that week: response and cadence (sales), volume (marketing)
    response: float | None = None
    cadence: float | None = None
    response_before: float | None = None
    cadence_before: float | None = None
    # Routing's record (SPEC §3.4), the managers' and not the reps': leads that waited too long.
    assignment_breaches: int = 0
    assignment: float | None = None
    assignment_before: float | None = None
    volume_breaches: list[Breach] = field(default_factory=list)
    volume_progress: list = field(default_factory=list)
    # What a breach costs the sales team (SPEC §15), to put the week's breaches in money.
    breach_cost: BreachCost | None = None

    @property
    def breaches_cost(self) -> Decimal | None:
        """The week's response and cadence breaches at the team's breach cost (None while unknown)."""
        return None if self.breach_cost is None else self.breach_cost.times(self.breaches)


@dataclass
class DigestContent:
    recipient: User
    team: Team
    week_start: date
    week_end: date
    breaches: list[Breach] = field(default_factory=list)
    by_rep: list[tuple[str, int]] = field(default_factory=list)
    by_sla: list[tuple[str, int]] = field(default_factory=list)
    open_breaches: list[Breach] = field(default_factory=list)
    open_count: int = 0
    sales: list[Side] = field(default_factory=list)
    marketing: list[Side] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        """Nothing to report: no breach of the recipient's own, none open, and (for a manager)
        neither side of the agreement breached anything that week. A marketing manager hears
        of a week of Sales' breaches, and a sales manager of Marketing's, as the other side."""
        sides = self.sales + self.marketing
        return (
            not self.breaches
            and not self.open_count
            and not any(side.breaches or side.assignment_breaches for side in sides)
        )


def digest_recipients(*, team: Team) -> list[User]:
    """Who gets the team's digest: its sales or marketing managers, and a sales team's reps."""
    roles = [Role.SALES_MANAGER, Role.MARKETING_MANAGER, Role.SALES_REP]
    return list(team.members.filter(is_active=True, role__in=roles, digest_enabled=True).exclude(email=""))


def digest_for(*, user: User, team: Team, week_start: date, now: datetime) -> DigestContent:
    """The digest `user` of `team` gets for the ISO week starting `week_start`."""
    start, end = week_bounds(team=team, week_start=week_start)
    content = DigestContent(recipient=user, team=team, week_start=week_start, week_end=week_start + timedelta(days=6))
    week = Breach.objects.filter(due_at__gte=start, due_at__lt=end, waived=False).select_related(
        "sla", "lead", "responsible_user", "responsible_team", "team"
    )
    open_breaches = Breach.objects.filter(waived=False, acknowledged_at__isnull=True).select_related(
        "sla", "lead", "responsible_user", "responsible_team"
    )
    if user.role == Role.SALES_REP:
        mine = Q(responsible_user=user)
        content.breaches = list(week.filter(mine).order_by("due_at"))
        content.open_count = open_breaches.filter(mine).count()
        content.open_breaches = list(open_breaches.filter(mine).order_by("due_at")[:10])
    else:
        owed = Q(team=team) | Q(responsible_team=team)
        content.breaches = list(week.filter(owed).order_by("due_at"))
        content.open_count = open_breaches.filter(owed).count()
        content.open_breaches = list(open_breaches.filter(owed).order_by("due_at")[:10])
        content.sales, content.marketing = _both_sides(team=team, start=start, end=end, now=now)
    people = Counter(
        str(b.responsible_user) if b.responsible_user else str(b.responsible_team) for b in content.breaches
    )
    content.by_rep = people.most_common()
    content.by_sla = Counter(b.sla.name for b in content.breaches).most_common()
    content.links = {
        "breaches": link(reverse("slas:breaches") + "?status=open"),
        "scorecards": link(reverse("kpis:scorecards")),
        "preferences": link(reverse("notification_preferences")),
        "dashboard": link(reverse("kpis:dashboard")),
    }
    return content


def _both_sides(*, team: Team, start: datetime, end: datetime, now: datetime) -> tuple[list[Side], list[Side]]:
    """The sales teams and the marketing teams of the agreements `team` is part of."""
    volume = Sla.objects.filter(kind=Sla.Kind.VOLUME, is_active=True).select_related("team", "from_team")
    if team.kind == Team.Kind.SALES:
        sales_teams, volume = [team], volume.filter(team=team)
    else:
        volume = volume.filter(from_team=team)
        sales_teams = sorted({sla.team for sla in volume}, key=lambda t: t.name)
    week_before = (start - timedelta(days=7), start)
    sales = []
    week = Breach.objects.filter(due_at__gte=start, due_at__lt=end, waived=False)
    breached = Counter(
        week.filter(team__in=sales_teams, kind__in=[Sla.Kind.RESPONSE, Sla.Kind.CADENCE, Sla.Kind.ASSIGNMENT])
        .values_list("team_id", "kind")
        .order_by()
    )
    kinds = ((Sla.Kind.RESPONSE, "response"), (Sla.Kind.CADENCE, "cadence"), (Sla.Kind.ASSIGNMENT, "assignment"))
    costs = breach_costs(teams=sales_teams, now=now) if sales_teams else {}
    for sales_team in sales_teams:
        side = Side(
            team=sales_team,
            breaches=breached[sales_team.pk, Sla.Kind.RESPONSE] + breached[sales_team.pk, Sla.Kind.CADENCE],
            assignment_breaches=breached[sales_team.pk, Sla.Kind.ASSIGNMENT],
            breach_cost=costs[sales_team.pk],
        )
        for kind, attr in kinds:
            setattr(side, attr, clock_compliance(kind=kind, start=start, end=end, team=sales_team))
            setattr(
                side,
                f"{attr}_before",
                clock_compliance(kind=kind, start=week_before[0], end=week_before[1], team=sales_team),
            )
        sales.append(side)
    marketing: dict[int, Side] = {}
    for sla in volume:
        side = marketing.setdefault(sla.from_team_id, Side(team=sla.from_team))
        side.volume_progress.append((sla, volume_progress(sla=sla, now=now)))
        side.volume_breaches += list(week.filter(sla=sla).order_by("period_start"))
        side.breaches = len(side.volume_breaches)
    return sales, list(marketing.values())
