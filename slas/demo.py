"""The four SLAs of the specification for the demo company (`manage.py seed_demo`)."""

from __future__ import annotations

from datetime import datetime

from slas import services
from slas.models import Sla
from teams.models import Role, Team, User


def seed(*, start: datetime) -> int:
    """Create the demo SLAs, in force from `start`, once (returns SLAs created)."""
    if Sla.objects.exists():
        return 0
    jakarta = Team.objects.get(name="Sales Jakarta")
    marketing = Team.objects.get(name="Marketing")
    manager = User.objects.get(username="sales.manager")
    marketing_manager = User.objects.filter(team=marketing, role=Role.MARKETING_MANAGER).first()
    services.sla_create(
        by=manager,
        team=jakarta,
        kind=Sla.Kind.RESPONSE,
        name="First follow-up within 1 business day",
        target_value=1,
        target_unit=Sla.Unit.BUSINESS_DAYS,
        now=start,
    )
    services.sla_create(
        by=manager, team=jakarta, kind=Sla.Kind.CADENCE, name="5 follow-ups in the first 30 days", now=start
    )
    services.sla_create(
        by=marketing_manager,
        team=jakarta,
        kind=Sla.Kind.VOLUME,
        name="50 leads per rep per month",
        from_team=marketing,
        now=start,
    )
    services.sla_create(
        by=manager,
        team=jakarta,
        kind=Sla.Kind.ASSIGNMENT,
        name="Assigned within 2 business hours",
        target_value=2,
        target_unit=Sla.Unit.BUSINESS_HOURS,
        now=start,
    )
    return 4
