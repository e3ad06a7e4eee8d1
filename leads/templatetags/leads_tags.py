"""Display helpers for leads."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.template.defaulttags import CsrfTokenNode
from django.utils.safestring import SafeString

from leads.cards import KIND_ICON, QueueCard, QueueCards, QuickTouch
from leads.models import Lead, Rejection, Status

register = template.Library()

STATUS_STYLE = {
    Status.NEW: "text-bg-info",
    Status.WORKING: "text-bg-primary",
    Status.QUALIFIED: "text-bg-warning",
    Status.WON: "text-bg-success",
    Status.LOST: "text-bg-secondary",
    Status.REJECTED: "text-bg-danger",
}


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


@register.simple_tag(takes_context=True)
def quick_touch(context, *, fragment: str, target: str, next: str = "") -> QuickTouch:
    """The quick follow-up forms' maker for this page: `{% quick_touch fragment=... target=... as
    forms %}` once, then `{% quick_touch_forms forms url name %}` for each lead."""
    request = context["request"]
    return QuickTouch(
        kinds=context["touch_kinds"],
        csrf_input=CsrfTokenNode().render(context),
        fragment=fragment,
        target=target,
        next_url=next or request.get_full_path(),
    )


@register.simple_tag
def quick_touch_forms(maker: QuickTouch, url: str, name: str) -> SafeString:
    return maker.forms(url, name)


@register.simple_tag
def queue_cards_of(lead: Lead, now: datetime) -> list[QueueCard]:
    """The queue card of one lead (annotated by `leads.selectors.lead_queue`), as a list, for
    the card an htmx follow-up swaps in."""
    return [QueueCards(now=now).card_of(lead)]
