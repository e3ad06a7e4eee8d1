"""Display helpers for leads."""

from __future__ import annotations

from django import template

from leads.models import Rejection

register = template.Library()

STATUS_STYLE = {
    "new": "text-bg-info",
    "working": "text-bg-primary",
    "qualified": "text-bg-warning",
    "won": "text-bg-success",
    "lost": "text-bg-secondary",
    "rejected": "text-bg-danger",
}
KIND_ICON = {"call": "telephone", "email": "envelope", "meeting": "people", "message": "chat-dots", "social": "share"}


@register.filter
def status_class(status: str) -> str:
    """Bootstrap badge classes for a lead status (the status is always written out too)."""
    return STATUS_STYLE.get(status, "text-bg-light")


@register.filter
def kind_icon(kind: str) -> str:
    return KIND_ICON.get(kind, "dot")


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (for sorting and paging links)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


@register.filter
def rejection_reason(code: str) -> str:
    """The words for a rejection reason code (as stored in a scorecard)."""
    return dict(Rejection.Reason.choices).get(code, code)
