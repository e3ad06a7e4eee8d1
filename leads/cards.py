"""The rep's queue, worked out in Python for the page: cards, the "Take it" list and the
quick follow-up buttons.

A queue page shows fifty cards. Through template tags, each costs a `reverse()` for each of
its links, `timesince` and `blocktranslate` for its ages, an included deadline badge and
four quick follow-up forms rendered tag by tag; together more than the rest of the page.
Here what the cards share (words in the active language, URL patterns, the forms' fixed
parts) is looked up once a page, and each card is a handful of ready strings.
tests/leads/test_queue.py checks the cards against `leads.selectors.lead_queue`'s
annotations, in both languages.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.paginator import Page
from django.urls import get_script_prefix, reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString
from django.utils.timesince import TIME_STRINGS, timesince
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from leads.models import Lead, Source, Touch
from slas.badges import DueBadge, due_badge, due_words


class _Presenter:
    """Answers a template's key lookup (`card.name` is tried as `card["name"]` first): on any
    other object that first try raises, and a page of fifty cards looks up a thousand values."""

    __slots__ = ()

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)


@dataclass(frozen=True, slots=True)
class QueueCard(_Presenter):
    """What a card of the rep's queue shows, worked out in Python: a page shows fifty, and
    reversing URLs, `timesince`, `blocktranslate` and includes for each cost most of its time."""

    pk: int
    dom_id: str  # "queue-lead-<pk>", the card's id (a number in a template is localised: slower)
    name: str
    origin: str  # "PT Maju · Website": the company, if any, and the source's label
    phone: str
    email: str
    answered: bool
    follow_ups: str  # "3 follow-ups" (shown when answered)
    due: DueBadge | None
    ages: str  # "Assigned 2 days ago · last follow-up 3 hours ago"
    url: str
    touch_url: str


@dataclass(frozen=True, slots=True)
class ClaimableLead(_Presenter):
    """An unassigned lead of the rep's team, as the queue lists it under "Take it"."""

    pk: int
    name: str
    company: str
    waiting: str  # "waiting 3 hours"
    url: str
    claim_url: str


@dataclass(frozen=True)
class QueuePage:
    """A page of the rep's queue."""

    page: Page  # the pager; its object_list holds `lead_queue_order`'s tuples
    cards: list[QueueCard]
    unanswered: int  # over every page


_PK = 2_147_483_647  # a placeholder id, reversed once and replaced by each lead's own


def url_maker(name: str) -> Callable[[int], str]:
    """The URL named `name` of an object by its id, by formatting rather than a reverse()
    for each of fifty rows."""
    return _url_maker(name, get_script_prefix())


@functools.cache
def _url_maker(name: str, script_prefix: str) -> Callable[[int], str]:
    # Reversed once per script prefix (reverse() prepends the request's) with a placeholder id.
    head, tail = reverse(name, args=[_PK]).rsplit(str(_PK), 1)
    return lambda pk: f"{head}{pk}{tail}"


class _Once:
    """One of timesince()'s unit strings ("%(num)d hours"), translated once per number."""

    __slots__ = ("done", "text")

    def __init__(self, text: Any) -> None:
        self.text, self.done = text, {}

    def __mod__(self, params: dict[str, int]) -> str:
        num = params["num"]
        if num not in self.done:
            self.done[num] = self.text % params
        return self.done[num]


class QueueCards:
    """Makes the queue's cards. What cards share (words in the active language, URL patterns)
    is looked up once, when it is made: make one per request, with the request's `now`."""

    def __init__(self, *, now: datetime) -> None:
        self.now = now
        self.sources = {value: str(label) for value, label in Source.choices}
        self.assigned = _("Assigned %(age)s ago")
        self.last_touch = _("last follow-up %(age)s ago")
        self.due_words = due_words()
        self.waiting = _("waiting %(age)s")
        self.time_strings = {unit: _Once(text) for unit, text in TIME_STRINGS.items()}
        self.detail_url = url_maker("leads:detail")
        self.touch_url = url_maker("leads:touch")
        self.claim_url = url_maker("leads:claim")

    def card(self, lead: Mapping[str, Any]) -> QueueCard:
        """The card of a lead given as a dict of CARD_FIELDS and CARD_ANNOTATIONS."""
        pk, answered, count = lead["pk"], lead["answered"], lead["touch_count"]
        source = self.sources.get(lead["source"], lead["source"])
        ages = []
        if lead["assigned_at"]:
            ages.append(self.assigned % {"age": self._since(lead["assigned_at"])})
        if lead["last_touch_at"]:
            ages.append(self.last_touch % {"age": self._since(lead["last_touch_at"])})
        return QueueCard(
            pk=pk,
            dom_id=f"queue-lead-{pk}",
            name=lead["name"],
            origin=f"{lead['company']} · {source}" if lead["company"] else source,
            phone=lead["phone"],
            email=lead["email"],
            answered=answered,
            follow_ups=ngettext("%(counter)s follow-up", "%(counter)s follow-ups", count) % {"counter": count}
            if answered
            else "",
            due=due_badge(lead["sla_due_at"], lead["sla_warn_at"], self.now, self.due_words, lead.get("sla_kind")),
            ages=" · ".join(ages),
            url=self.detail_url(pk),
            touch_url=self.touch_url(pk),
        )

    def card_of(self, lead: Lead) -> QueueCard:
        """The card of a Lead annotated by `lead_queue`. A lead without the annotations (one
        that has just left the queue) shows as unanswered, with no deadline."""
        fields = {name: getattr(lead, name) for name in CARD_FIELDS}
        return self.card(fields | {name: getattr(lead, name, unset) for name, unset in CARD_ANNOTATIONS.items()})

    def claimable(self, lead: Mapping[str, Any]) -> ClaimableLead:
        """The line of an unassigned lead given as a row of pk, name, company, created_at."""
        return ClaimableLead(
            pk=lead["pk"],
            name=lead["name"],
            company=lead["company"],
            waiting=self.waiting % {"age": self._since(lead["created_at"])},
            url=self.detail_url(lead["pk"]),
            claim_url=self.claim_url(lead["pk"]),
        )

    def _since(self, start: datetime) -> str:
        """The `timesince` filter's words ("2 days, 3 hours")."""
        return timesince(start, self.now, time_strings=self.time_strings)


# What a queue card shows: fields of the lead, and `lead_queue`'s annotations (with what a
# lead without them counts as).
CARD_FIELDS = ("pk", "name", "company", "source", "phone", "email", "assigned_at")
CARD_ANNOTATIONS = {
    "answered": False,
    "touch_count": 0,
    "last_touch_at": None,
    "sla_due_at": None,
    "sla_warn_at": None,
    "sla_kind": None,
}


# -- quick follow-ups -------------------------------------------------------------------------------
KIND_ICON = {"call": "telephone", "email": "envelope", "meeting": "people", "message": "chat-dots", "social": "share"}

_FORM = (
    '<form method="post" action="{{url}}" hx-post="{{url}}" hx-target="{target}" hx-swap="outerHTML"'
    ' hx-disabled-elt="find button" class="d-flex flex-wrap gap-2 mt-2" role="group" aria-label="{{label}}">'
    '{csrf}<input type="hidden" name="fragment" value="{fragment}"><input type="hidden" name="next" value="{next}">'
    "{buttons}</form>"
)
_BUTTON = (
    '<button type="submit" name="kind" value="{kind}" class="btn btn-outline-primary btn-sm quick-touch">'
    '<i class="bi bi-{icon}" aria-hidden="true"></i> {label}</button>'
)


class QuickTouch:
    """The one-tap follow-up buttons of a lead: one form posting to the lead's touch URL with
    a submit button for each kind (the button pressed names it), answered for an htmx
    request with `fragment` put in place of `target`. Made once a page: what every lead's
    form shares is escaped into one format string, and `forms(url, name)` fills in a lead's
    URL and name."""

    def __init__(
        self, *, kinds: Iterable[Touch.Kind], csrf_input: str, fragment: str, target: str, next_url: str
    ) -> None:
        """`csrf_input`: what {% csrf_token %} prints on this page."""
        buttons = "".join(
            _BUTTON.format(
                kind=_literal(kind.value),
                icon=_literal(KIND_ICON.get(kind.value, "dot")),
                label=_literal(_("Log %(kind)s") % {"kind": kind.label}),
            )
            for kind in kinds
        )
        self.template = _FORM.format(
            csrf=_literal(csrf_input),
            fragment=_literal(fragment),
            target=_literal(target),
            next=_literal(next_url),
            buttons=buttons,
        )
        self.group_label = _("Log a follow-up for %(name)s")

    def forms(self, url: str, name: str) -> SafeString:
        return format_html(self.template, url=url, label=self.group_label % {"name": name})


def _literal(value: str) -> str:
    """`value` escaped for HTML (unless already safe), as a literal part of a format string."""
    return conditional_escape(value).replace("{", "{{").replace("}", "}}")
