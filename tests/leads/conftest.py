"""Fixtures for the leads tests."""

from __future__ import annotations

import pytest

from leads.models import Lead
from tests.factories import LeadFactory


@pytest.fixture
def leads(users, sales_team, other_sales_team) -> dict[str, Lead]:
    """One lead of each kind, seen from rep1 (`sales_rep`) of Sales Jakarta."""
    return {
        "own": LeadFactory(name="Own Lead", team=sales_team, owner=users["sales_rep"]),
        "teammate": LeadFactory(name="Teammate Lead", team=sales_team, owner=users["other_rep"]),
        "unassigned": LeadFactory(name="Unassigned Lead", team=sales_team),
        "other_team": LeadFactory(name="Papua Lead", team=other_sales_team, owner=users["other_team_rep"]),
    }
