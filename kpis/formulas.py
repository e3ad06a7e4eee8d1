"""The KPIs' formulas, once: `kpis.metrics` (one scope at a time), the grouped scorecard
statement of `kpis.grouped` (its declared fast path, every card at once) and `kpis.insights`
count with different queries and compute with these.

Whether a lead reached qualified is the fact the services keep on the lead
(`Lead.reached_qualified`, see leads.services.facts), read the same way by all three.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q

REACHED_QUALIFIED = Q(reached_qualified=True)


def rate(part: int, whole: int) -> float | None:
    """part ÷ whole as a fraction (0.75 is 75 %); None when there is nothing to divide."""
    return part / whole if whole else None


def roi(revenue: Decimal, spend: Decimal) -> float | None:
    """Campaign ROI: (revenue won − spend) ÷ spend; None without spend."""
    return float((revenue - spend) / spend) if spend else None
