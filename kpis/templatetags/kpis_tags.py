"""Display helpers for KPI values."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from teams.templatetags.selaras import percent

register = template.Library()


@register.filter
def kpi_value(value, kpi) -> str:
    """A KPI value as people read it: rates as percentages, money grouped without decimals,
    hours with one decimal, counts as whole numbers; "—" when there is nothing to show."""
    if value is None:
        return "—"
    metric = getattr(kpi, "metric", kpi)
    if "rate" in metric or "compliance" in metric or metric in ("leads_growth", "campaign_roi"):
        return percent(float(value))
    if "hours" in metric:
        return _("%(n)s h") % {"n": number_format(float(value), decimal_pos=1)}
    if metric == "revenue_won":
        return number_format(Decimal(value).quantize(Decimal(1)), decimal_pos=0, use_l10n=True, force_grouping=True)
    return number_format(Decimal(value).normalize() if isinstance(value, Decimal) else value, force_grouping=True)
