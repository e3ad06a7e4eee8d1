"""Fixtures for the SLA engine tests: SLAs of the spec on Sales Jakarta, and a clock-time helper."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from slas import services
from slas.models import Sla

JAKARTA = ZoneInfo("Asia/Jakarta")


def jkt(*args) -> datetime:
    return datetime(*args, tzinfo=JAKARTA)


ACTIVE_FROM = jkt(2026, 7, 1)


@pytest.fixture
def response_sla(users, sales_team) -> Sla:
    """First touch within 1 business day (SPEC seed)."""
    return services.sla_create(
        by=users["sales_manager"],
        team=sales_team,
        kind="response",
        name="First touch within 1 business day",
        target_value=1,
        target_unit="business_days",
        now=ACTIVE_FROM,
    )


@pytest.fixture
def cadence_sla(users, sales_team) -> Sla:
    """5 touches in the first 30 days (SPEC seed)."""
    return services.sla_create(
        by=users["sales_manager"], team=sales_team, kind="cadence", name="5 touches in 30 days", now=ACTIVE_FROM
    )


@pytest.fixture
def volume_sla(users, sales_team, marketing_team) -> Sla:
    """Marketing delivers 50 leads per rep per month (SPEC seed)."""
    return services.sla_create(
        by=users["marketing_manager"],
        team=sales_team,
        kind="volume",
        name="50 leads per rep per month",
        from_team=marketing_team,
        now=ACTIVE_FROM,
    )


@pytest.fixture
def assignment_sla(users, sales_team) -> Sla:
    """Assigned within 2 business hours (the demo's)."""
    return services.sla_create(
        by=users["sales_manager"],
        team=sales_team,
        kind="assignment",
        name="Assigned within 2 business hours",
        target_value=2,
        target_unit="business_hours",
        now=ACTIVE_FROM,
    )
