"""Routing in the demo (`manage.py seed_demo`): Sales Jakarta routes new leads at once, with
one rule for big ads leads; Eko's leave (teams.demo) shows routing going around him."""

from __future__ import annotations

from decimal import Decimal

from routing import services
from routing.models import Method, Rule
from teams import services as team_services
from teams.models import Team, User


def seed() -> int:
    """Switch Sales Jakarta's automatic routing on and add its rule when missing; returns the
    rules created. Runs after the demo's history, which was assigned by hand."""
    jakarta = Team.objects.get(name="Sales Jakarta")
    manager = User.objects.get(username="sales.manager")
    if not jakarta.auto_route:
        team_services.team_auto_route_set(team=jakarta, by=manager, on=True)
    if Rule.objects.filter(team=jakarta).exists():
        return 0
    dewi, eko = User.objects.get(username="rep1"), User.objects.get(username="rep2")
    services.rule_create(
        by=manager,
        team=jakarta,
        name="Big ads leads",
        sources=["ads"],
        min_value=Decimal("50000000"),
        method=Method.WEIGHTED,
        members=[{"user": dewi, "weight": 2}, {"user": eko, "weight": 1}],
        cap_per_day=10,
    )
    return 1
