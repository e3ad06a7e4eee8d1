"""Display helpers for KPI values."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from kpis.models import Target
from teams.templatetags.selaras import money, percent

register = template.Library()


@register.filter
def kpi_value(value, of) -> str:
    """A KPI value as people read it: rates as percentages, money with its currency grouped
    without decimals, hours with one decimal, counts as whole numbers; "—" when there is
    nothing to show. `of` is a metric's name, a KPI, or a Target (whose scope's team gives
    the currency; the company's without one)."""
    if value is None:
        return "—"
    kpi = of.kpi if isinstance(of, Target) else of
    metric = getattr(kpi, "metric", kpi)
    if "rate" in metric or "compliance" in metric or metric in ("leads_growth", "campaign_roi"):
        return percent(float(value))
    if "hours" in metric:
        return _("%(n)s h") % {"n": number_format(float(value), decimal_pos=1)}
    if metric == "revenue_won":
        return money(value, _currency_of(of) if isinstance(of, Target) else None)
    return number_format(Decimal(value).normalize() if isinstance(value, Decimal) else value, force_grouping=True)


def _currency_of(target: Target) -> str | None:
    team = target.team if target.team_id else (target.user.team if target.user_id and target.user.team_id else None)
    return team.currency if team else None
