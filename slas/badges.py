"""The deadline badge of a running SLA clock: overdue, at risk or due, with the time in words.

Worked out in Python, once for the rep's queue (fifty cards, `leads.cards`) and through the
`due_badge` tag for slas/_due_badge.html (the dashboard), so both say the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from django.utils.translation import gettext as _

from teams.templatetags.selaras import duration


@dataclass(frozen=True, slots=True)
class DueBadge:
    style: str  # Bootstrap badge classes
    icon: str  # Bootstrap icon name
    text: str

    def __getitem__(self, name: str) -> Any:
        # A template tries `badge.text` as `badge["text"]` first; on other objects that raises.
        return getattr(self, name)


class DueWords(NamedTuple):
    overdue: str
    at_risk: str
    due_in: str


def due_words() -> DueWords:
    """The badge's words in the active language (look them up once for many badges)."""
    return DueWords(_("Overdue by %(late)s"), _("At risk: due in %(left)s"), _("Due in %(left)s"))


def due_badge(
    due: datetime | None, warn: datetime | None, now: datetime, words: DueWords | None = None
) -> DueBadge | None:
    """The badge of a clock due at `due` that warns from `warn`; None without a deadline."""
    if due is None:
        return None
    words = words or due_words()
    if due <= now:
        return DueBadge("text-bg-danger", "alarm", words.overdue % {"late": duration(now - due)})
    left = duration(due - now)
    if warn and warn <= now:
        return DueBadge("text-bg-warning", "exclamation-triangle", words.at_risk % {"left": left})
    return DueBadge("text-bg-light border", "clock", words.due_in % {"left": left})
