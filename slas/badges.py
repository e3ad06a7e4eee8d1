"""The deadline badge of a running SLA clock: overdue, at risk or due, with the time in words.

One badge for every page that shows one (the rep's queue, the lead list, the dashboard),
through `due_badge` (a global of the Jinja2 templates, a tag for slas/_due_badge.html), so
all say the same; the state itself is slas.selectors.deadline_state's, as on the lead page
and in the API.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from slas.selectors import AT_RISK, BREACHED, deadline_state
from teams.templatetags.selaras import duration


@dataclass(frozen=True, slots=True)
class DueBadge:
    style: str  # Bootstrap badge classes
    icon: str  # Bootstrap icon name
    text: str


class DueWords(NamedTuple):
    overdue: str
    at_risk: str
    due_in: str


def due_words() -> dict[str | None, DueWords]:
    """The badge's words in the active language by clock kind: a first follow-up, follow-ups
    at a pace, a lead waiting for a rep, or a deadline of no known kind."""
    return _due_words(get_language())


@functools.cache
def _due_words(language: str | None) -> dict[str | None, DueWords]:
    # Looked up once per language (the catalogues do not change while the process runs),
    # not nine times for each of a page's fifty badges.
    return {
        "response": DueWords(
            _("First follow-up overdue by %(late)s"),
            _("First follow-up at risk: due in %(left)s"),
            _("First follow-up due in %(left)s"),
        ),
        "cadence": DueWords(
            _("Follow-ups overdue by %(late)s"),
            _("Behind on follow-ups: %(left)s left"),
            _("Follow-ups on pace: %(left)s left"),
        ),
        "assignment": DueWords(
            _("Waiting for a rep: overdue by %(late)s"),
            _("Waiting for a rep: assign within %(left)s"),
            _("Assign within %(left)s"),
        ),
        None: DueWords(_("Overdue by %(late)s"), _("At risk: due in %(left)s"), _("Due in %(left)s")),
    }


def due_badge(
    due: datetime | None,
    warn: datetime | None,
    now: datetime,
    kind: str | None = None,
) -> DueBadge | None:
    """The badge of the most urgent clock (of `kind`), due at `due`, at risk from `warn`, in the
    state slas.selectors.deadline_state gives it; None without a deadline."""
    state = deadline_state(state="running", due_at=due, warn_at=warn, now=now)
    if state is None:
        return None
    words = due_words()
    said = words.get(kind) or words[None]
    if state == BREACHED:
        return DueBadge("text-bg-danger", "alarm", said.overdue % {"late": duration(now - due)})
    left = duration(due - now)
    if state == AT_RISK:
        return DueBadge("text-bg-warning", "exclamation-triangle", said.at_risk % {"left": left})
    return DueBadge("text-bg-light border", "clock", said.due_in % {"left": left})


def clock_badge(clock, now: datetime) -> DueBadge | None:
    """`due_badge` of a clock (slas.selectors.urgent_clocks'); None without one."""
    return None if clock is None else due_badge(clock.due_at, clock.warn_at, now, kind=clock.kind)
