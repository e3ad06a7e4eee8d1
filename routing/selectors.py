"""Reads of routing: a team's rules, what the engine needs to decide, a lead's decisions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Max, Prefetch, Q, QuerySet

from leads.models import OPEN, Assignment, Campaign, Lead
from routing.models import Member, Rule
from teams import permissions
from teams.models import Team


def rule_list(*, user: Any) -> QuerySet[Rule]:
    """Routing rules `user` may see: admins every team's, a sales manager their team's."""
    return (
        Rule.objects.filter(permissions.routing_scope(user))
        .select_related("team")
        .order_by("team__name", "position", "pk")
    )


def team_rules(*, team: Team | int, active_only: bool = False) -> QuerySet[Rule]:
    """A team's rules in order, with their members (in order) and campaign ids: three statements."""
    rules = Rule.objects.filter(team=team)
    if active_only:
        rules = rules.filter(active=True)
    return rules.order_by("position", "pk").prefetch_related(
        Prefetch("members", queryset=Member.objects.select_related("user").order_by("pk")),
        Prefetch("campaigns", queryset=Campaign.objects.only("pk", "name")),
    )


def local_day(*, team: Team, at: datetime) -> tuple[datetime, datetime]:
    """The team's local day around `at`, midnight to midnight (a daily cap's day)."""
    zone = ZoneInfo(team.timezone)
    day = at.astimezone(zone).date()
    return datetime.combine(day, time(), zone), datetime.combine(day + timedelta(days=1), time(), zone)


def assigned_today(*, team: Team, user_ids: Iterable[int], at: datetime) -> dict[int, int]:
    """Leads of `team` each of `user_ids` was given on the team's local day of `at`."""
    start, end = local_day(team=team, at=at)
    rows = (
        Assignment.objects.filter(lead__team=team, owner_id__in=list(user_ids), assigned_at__gte=start)
        .filter(assigned_at__lt=end)
        .values_list("owner_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return dict(rows)


def open_lead_counts(*, user_ids: Iterable[int]) -> dict[int, int]:
    """Open leads each of `user_ids` owns."""
    rows = Lead.objects.filter(owner_id__in=list(user_ids), status__in=OPEN).values_list("owner_id")
    return dict(rows.annotate(n=Count("pk")).order_by())


def last_assigned(*, team: Team, user_ids: Iterable[int]) -> dict[int, tuple[datetime, int]]:
    """When each of `user_ids` was last given a lead of `team`, and the id of their latest
    assignment, which orders assignments made at one instant (the team's turn order)."""
    rows = Assignment.objects.filter(lead__team=team, owner_id__in=list(user_ids)).values("owner_id")
    rows = rows.annotate(at=Max("assigned_at"), last_id=Max("pk")).order_by()
    return {row["owner_id"]: (row["at"], row["last_id"]) for row in rows}


def sticky_owners(
    *, team: Team, emails: set[str], phones: set[str], exclude: set[int]
) -> tuple[dict[str, int], dict[str, int]]:
    """The owners of the team's open leads with one of these e-mails (lower-cased) or phones,
    newest lead first, leaving out the leads `exclude` names: {e-mail: owner}, {phone: owner}."""
    if not emails and not phones:
        return {}, {}
    found = Lead.objects.filter(team=team, status__in=OPEN, owner__isnull=False).exclude(pk__in=exclude)
    found = found.filter(Q(email__in=emails) | Q(phone__in=phones)).order_by("-created_at", "-pk")
    by_email: dict[str, int] = {}
    by_phone: dict[str, int] = {}
    for email, phone, owner_id in found.values_list("email", "phone", "owner_id"):
        if email in emails:
            by_email.setdefault(email, owner_id)
        if phone in phones:
            by_phone.setdefault(phone, owner_id)
    return by_email, by_phone
