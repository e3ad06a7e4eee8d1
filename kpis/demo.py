"""The SMART goals of the demo company (`manage.py seed_demo`)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from kpis import services
from kpis.models import Kpi
from teams.calendar import period_bounds
from teams.models import Role, Team, User

REP_QUOTA = Decimal("1000000000")  # IDR per rep per quarter
TEAM_QUOTA = 5 * REP_QUOTA  # the team's quarterly quota
COMPANY_GOAL = Decimal("8000000000")  # the revenue goal both teams share, per quarter


def seed(*, now: datetime, start: datetime) -> int:
    """KPIs and targets for the current and previous quarter, once (returns KPIs created)."""
    if Kpi.objects.exists():
        return 0
    admin = User.objects.get(username="admin")
    jakarta, marketing = Team.objects.get(name="Sales Jakarta"), Team.objects.get(name="Marketing")
    manager, marketing_manager = (
        User.objects.get(username="sales.manager"),
        User.objects.get(username="marketing.manager"),
    )
    growth = services.kpi_create(
        by=marketing_manager, name="New leads, growth per quarter", metric="leads_growth", team=marketing
    )
    quota = services.kpi_create(by=manager, name="Revenue won (quota)", metric="revenue_won", team=jakarta)
    company = services.kpi_create(by=admin, name="Company revenue goal", metric="revenue_won")
    response = services.kpi_create(
        by=manager, name="Response SLA compliance", metric="response_sla_compliance", team=jakarta
    )
    visitors = services.kpi_create(by=marketing_manager, name="Website visitors", metric="manual", team=marketing)
    this_quarter = period_bounds(now.date(), "quarter")[0]
    for quarter in (period_bounds(this_quarter - timedelta(days=1), "quarter")[0], this_quarter):
        services.target_create(
            by=marketing_manager,
            kpi=growth,
            team=marketing,
            period="quarter",
            period_start=quarter,
            target=Decimal("0.10"),
        )
        services.target_create(
            by=manager, kpi=quota, team=jakarta, period="quarter", period_start=quarter, target=TEAM_QUOTA
        )
        for rep in User.objects.filter(team=jakarta, role=Role.SALES_REP):
            services.target_create(
                by=manager, kpi=quota, user=rep, period="quarter", period_start=quarter, target=REP_QUOTA
            )
        services.target_create(by=admin, kpi=company, period="quarter", period_start=quarter, target=COMPANY_GOAL)
        services.target_create(
            by=manager, kpi=response, team=jakarta, period="quarter", period_start=quarter, target=Decimal("0.90")
        )
    rng = random.Random(11)  # noqa: S311 (demo data)
    day = start.date()
    while day <= now.date():
        services.measurement_create(
            by=marketing_manager, kpi=visitors, team=marketing, day=_monday(day), value=Decimal(rng.randint(2400, 4100))
        )
        day += timedelta(days=7)
    return 5


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())
