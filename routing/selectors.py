"""Reads of routing: a team's rules, what the engine needs to decide, a lead's decisions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery

from leads.models import OPEN, Assignment, Campaign, Lead
from routing.models import Member, Rule, Skip
from teams import permissions
from teams.models import Team, User
from teams.selectors import team_reps_at, unavailable_now


def rule_list(*, user: Any) -> QuerySet[Rule]:
    """Routing rules `user` may see: admins every team's, a sales manager their team's."""
    return (
        Rule.objects.filter(permissions.routing_scope(user))
        .select_related("team")
        .order_by("team__name", "position", "pk")
    )


def team_rules(*, team: Team | int, active_only: bool = False, with_people: bool = True) -> QuerySet[Rule]:
    """A team's rules in order, with their members (in order; `with_people`: with the users,
    for a page) and campaigns: three statements."""
    rules = Rule.objects.filter(team=team)
    if active_only:
        rules = rules.filter(active=True)
    members = Member.objects.order_by("pk")
    return rules.order_by("position", "pk").prefetch_related(
        Prefetch("members", queryset=members.select_related("user") if with_people else members),
        Prefetch("campaigns", queryset=Campaign.objects.only("pk", "name")),
    )


def choice_named(*, owner_id: int | None, skipped: Iterable[tuple[int, str]]) -> tuple[User | None, list]:
    """A routing choice as a page names it: the chosen rep, and each rep passed over with the
    reason in words. One statement."""
    skipped = list(skipped)
    people = User.objects.in_bulk({owner_id, *(user_id for user_id, _why in skipped)} - {None})
    return people.get(owner_id), [(people[user_id], Skip(why).label) for user_id, why in skipped if user_id in people]


def reps_unavailable(*, team: Team, at: datetime) -> list[tuple[User, str]]:
    """The team's reps who cannot take a lead at `at`, by name, each with why in words. One
    statement."""
    reps = team_reps_at(team=team, at=at).filter(Q(away=True) | Q(off=True)).order_by("first_name", "username")
    return [(rep, Skip(unavailable_now(rep)).label) for rep in reps]


def local_day(*, team: Team, at: datetime) -> tuple[datetime, datetime]:
    """The team's local day around `at`, midnight to midnight (a daily cap's day)."""
    zone = ZoneInfo(team.timezone)
    day = at.astimezone(zone).date()
    return datetime.combine(day, time(), zone), datetime.combine(day + timedelta(days=1), time(), zone)


def assigned_today(*, team: Team, user_ids: Iterable[int], at: datetime) -> dict[int, int]:
    """Leads each of `user_ids` (reps of `team`) was given on the team's local day of `at`:
    read from assignment_owner_idx, a range of each rep's day."""
    start, end = local_day(team=team, at=at)
    rows = Assignment.objects.filter(owner_id__in=list(user_ids), assigned_at__gte=start, assigned_at__lt=end)
    return dict(rows.values_list("owner_id").annotate(n=Count("pk")).order_by())


def open_lead_counts(*, user_ids: Iterable[int]) -> dict[int, int]:
    """Open leads each of `user_ids` owns."""
    rows = Lead.objects.filter(owner_id__in=list(user_ids), status__in=OPEN).values_list("owner_id")
    return dict(rows.annotate(n=Count("pk")).order_by())


def last_assigned(*, user_ids: Iterable[int]) -> dict[int, tuple[datetime, int]]:
    """When each of `user_ids` (reps of one team) was last given a lead, and that
    assignment's id, which orders assignments made at one instant (the team's turn order).
    Each rep's latest is one step down assignment_owner_idx, however long the history."""
    latest = Assignment.objects.filter(owner=OuterRef("pk")).order_by("-assigned_at", "-pk")
    rows = User.objects.filter(pk__in=list(user_ids)).annotate(
        at=Subquery(latest.values("assigned_at")[:1]), last_id=Subquery(latest.values("pk")[:1])
    )
    return {pk: (at, last_id) for pk, at, last_id in rows.values_list("pk", "at", "last_id") if at is not None}


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
