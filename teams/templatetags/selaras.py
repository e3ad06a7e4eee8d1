"""Display helpers shared by every page."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from django import template
from django.conf import settings
from django.template.base import token_kwargs
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration(value: timedelta | None) -> str:
    """A duration in words, largest units first: "2 d 3 h", "3 h 20 min", "45 min"."""
    if value is None:
        return ""
    minutes = int(abs(value).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(_("%(n)d d") % {"n": days})
    if hours:
        parts.append(_("%(n)d h") % {"n": hours})
    if minutes and not days:
        parts.append(_("%(n)d min") % {"n": minutes})
    return " ".join(parts) or _("0 min")


@register.filter
def percent(value: float | None, digits: int = 0) -> str:
    """A fraction as a percentage in the active language's number format (0.875 → "88 %"); "—" for None."""
    if value is None:
        return "—"
    return f"{number_format(value * 100, decimal_pos=digits)} %"


@register.filter
def since(start, end) -> timedelta | None:
    """`end - start` as a duration (for "due in …" and "overdue by …")."""
    if start is None or end is None:
        return None
    return end - start


@register.filter
def time_span(start: datetime, end: datetime) -> str:
    """A stretch of time in the active zone: whole days as dates ("Wed 2 Dec 2026 – Fri 4 Dec
    2026", the last day included), anything else as two times."""
    start, end = timezone.localtime(start), timezone.localtime(end)
    if start.time() == end.time() == time() and end > start:
        first, last = start.date(), end.date() - timedelta(days=1)
        if first == last:
            return date_format(first, "D j M Y")
        return f"{date_format(first, 'D j M Y')} – {date_format(last, 'D j M Y')}"
    return f"{date_format(start, 'SHORT_DATETIME_FORMAT')} – {date_format(end, 'SHORT_DATETIME_FORMAT')}"


@register.filter
def bar_width(fraction: float | None) -> str:
    """A fraction as the width of a progress bar, 0–100 (a dot as the decimal mark, for CSS)."""
    if fraction is None:
        return "0"
    return f"{max(0.0, min(float(fraction), 1.0)) * 100:.1f}"


@register.filter
def money(value, currency: str | None = None) -> str:
    """An amount with its currency, grouped, whole units: "IDR 84,000,000" (the company's
    currency, CURRENCY, when none is given); "—" for None."""
    if value is None:
        return "—"
    amount = number_format(Decimal(value).quantize(Decimal(1)), decimal_pos=0, use_l10n=True, force_grouping=True)
    return f"{currency or settings.CURRENCY} {amount}"


class JinjaNode(template.Node):
    def __init__(self, template_name: template.base.FilterExpression, values: dict):
        self.template_name = template_name
        self.values = values

    def render(self, context) -> str:
        values = {name: value.resolve(context) for name, value in self.values.items()}
        return render_to_string(self.template_name.resolve(context), values, context.get("request"), using="jinja2")


@register.tag
def jinja(parser, token) -> JinjaNode:
    """`{% jinja "layout/pagination.html" page=page %}`: a template of the hot pages' Jinja2
    engine (salesmarketing/jinja.py) rendered in place with `values` and the request (its
    CSRF token and language). Jinja2 escapes what it prints; like `{% include %}`'s, the
    node's output goes into the page as it is."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(f"{bits[0]} needs a template name")
    values = token_kwargs(bits[2:], parser)
    if len(values) != len(bits) - 2:
        raise template.TemplateSyntaxError(f"{bits[0]} takes only name=value pairs after the name")
    return JinjaNode(parser.compile_filter(bits[1]), values)
