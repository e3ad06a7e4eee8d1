"""Display helpers for leads."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import NamedTuple

from django import template
from django.utils import translation
from django.utils.translation import gettext as _

from leads.models import ATTRIBUTION_KEYS, Rejection, Source, Status, Touch
from leads.phones import phone_display

register = template.Library()

KIND_ICON = {"call": "telephone", "email": "envelope", "meeting": "people", "message": "chat-dots", "social": "share"}
ORIGIN_ICON = {
    "manual": "pencil",
    "click": "hand-index",
    "email": "envelope-at",
    "whatsapp": "whatsapp",
    "api": "plug",
    "import": "upload",
}

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


@register.filter
def origin_icon(origin: str) -> str:
    """The icon of how a touch was captured (its words go beside it)."""
    return ORIGIN_ICON.get(origin, "dot")


class QuickButton(NamedTuple):
    kind: str
    icon: str
    label: str  # "Log Call"


def quick_buttons(kinds: Iterable[Touch.Kind]) -> list[QuickButton]:
    """The one-tap follow-up buttons of `kinds` in the active language (a page of queue cards
    shows them fifty times: their words are looked up once per language)."""
    return _quick_buttons(tuple(kinds), translation.get_language())


@functools.cache
def _quick_buttons(kinds: tuple[Touch.Kind, ...], language: str | None) -> list[QuickButton]:
    return [QuickButton(kind.value, kind_icon(kind.value), _("Log %(kind)s") % {"kind": kind.label}) for kind in kinds]


@register.filter
def rejection_reason(code: str) -> str:
    """The words for a rejection reason code (as stored in a scorecard)."""
    return dict(Rejection.Reason.choices).get(code, code)


@register.filter
def source_label(code: str) -> str:
    """The words for a lead source code (as a routing rule stores it)."""
    return dict(Source.choices).get(code, code)


@register.filter
def phone(value: str) -> str:
    """A phone stored in E.164, as people write it ("+62 812-3456-7890")."""
    return phone_display(value) if value else ""


@register.filter
def attribution_items(attribution: dict | None) -> list[tuple[str, str]]:
    """The known parts of a lead's attribution, in the order of SPEC §2."""
    attribution = attribution or {}
    return [(key, attribution[key]) for key in ATTRIBUTION_KEYS if attribution.get(key)]
