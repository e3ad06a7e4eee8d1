"""The short tour on the dashboard: what each role finds where, a few steps, shown until the
person finishes or skips it (`User.tour_done_at`), and again whenever they ask for it.

The steps are data, not code: a title, a sentence, and where to see it (a URL name and,
for a part of the dashboard itself, the id of its section). Each step's page is one its
role may open (`tests/teams/test_tour.py` opens every one as that role).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from teams.models import Role, User
from teams.permissions import role_of


@dataclass(frozen=True)
class Step:
    title: str
    text: str
    url_name: str
    link: str
    fragment: str = ""

    @property
    def url(self) -> str:
        return reverse(self.url_name) + (f"#{self.fragment}" if self.fragment else "")


_QUEUE = Step(
    _("Your queue"),
    _(
        "The leads waiting for you, the most urgent first. Tap Call or WhatsApp on a card: the "
        "follow-up is logged for you and the phone's app opens."
    ),
    "leads:queue",
    _("Open my queue"),
)
_MAILBOX = Step(
    _("Follow-ups from your mailbox"),
    _(
        "Put your capture address in Bcc, or forward a sent e-mail to it: the follow-up is logged on "
        "the right lead, once, without typing."
    ),
    "profile",
    _("See my capture address"),
)
_LEAVE = Step(
    _("Away or on leave"),
    _(
        "Switch on Away in your menu, or enter your time off: new leads go to a colleague who can "
        "answer now, and leads waiting for you are routed again."
    ),
    "teams:time_off",
    _("Enter time off"),
)
_BELL = Step(
    _("Told as it happens"),
    _("The bell shows new leads, clocks about to run out and breaches when they happen, not a week later."),
    "notifications:list",
    _("Open notifications"),
)
_AGREEMENT = Step(
    _("The agreement"),
    _(
        "The SLAs between Sales and Marketing: how fast and how often leads are followed up, and how many "
        "Marketing delivers, on your team's business calendar. Before you change one, preview the last 13 "
        "weeks under the new terms."
    ),
    "slas:list",
    _("Open the SLAs"),
)
_ROUTING = Step(
    _("Routing"),
    _(
        "Rules send each new lead to a rep who can answer now: by source, campaign or value; in turn, by "
        "weight or to the least busy; with caps. Reps on leave or away are passed over, and every "
        "decision says why."
    ),
    "routing:rules",
    _("Open routing"),
)
_BREACHES = Step(
    _("Breaches and escalation"),
    _(
        "A promise not kept is a breach on whoever was responsible, routing included. Leads nobody "
        "answers in time are routed again."
    ),
    "slas:breaches",
    _("See the breaches"),
)
_RULING = Step(
    _("Disputes"),
    _("Marketing may contest a rejection within 14 days. You rule upheld or overturned, with a reason."),
    "leads:disputes",
    _("Open disputes"),
)
_COST = Step(
    _("What breaches cost, and the capacity ahead"),
    _(
        "Below on this page: last week's breaches priced in expected revenue, and your team's hours for "
        "the next three months (public holidays, closed days, leave) against the leads expected."
    ),
    "kpis:dashboard",
    pgettext_lazy("tour", "Show me"),
    fragment="settling",
)
_VOLUME = Step(
    _("The volume Marketing promised"),
    _("The volume SLA: how many leads Marketing delivers each period to each sales team, and whether it is on pace."),
    "slas:list",
    _("Open the SLAs"),
)
_INTAKE = Step(
    _("Leads that arrive on their own"),
    _(
        "Lead forms, hooks from your ad tools and WhatsApp make leads with their attribution (UTM, click "
        "ids), routed at once. Nobody types them in."
    ),
    "intake:overview",
    _("Open lead forms and hooks"),
)
_REJECTIONS = Step(
    _("Rejections and disputes"),
    _("Why Sales rejected leads, and a dispute for each rejection you think is wrong, within 14 days."),
    "leads:rejections",
    _("Open rejections"),
)
_INSIGHTS = Step(
    _("One set of figures"),
    _("Scorecards and insights for both teams, computed from the same leads and follow-ups."),
    "kpis:insights",
    _("Open insights"),
)
_PEOPLE = Step(
    _("Teams and people"),
    _("Teams with their business calendars and closed days, and who is in which team."),
    "teams:list",
    _("Open teams"),
)
_WEBHOOKS = Step(
    _("Other systems, told at once"),
    _(
        "Outbound webhooks send new leads, breaches and reroutes to your other tools, signed, and "
        "retried until they answer."
    ),
    "webhooks:list",
    _("Open webhooks"),
)
_FAILED = Step(
    _("Posts that could not be processed"),
    _("Every form, hook and WhatsApp post is stored before it is processed; any that failed waits here to be retried."),
    "intake:failed",
    _("Open failed posts"),
)
_CAPTURED = Step(
    _("Captured e-mails"),
    _("Every message read from the capture mailbox, and why any was skipped."),
    "mailcapture:list",
    _("Open captured e-mails"),
)
_API = Step(
    _("The API"),
    _("Everything here is also in the REST API, with a token of your own."),
    "api_token",
    _("Get a token"),
)

STEPS: dict[str, tuple[Step, ...]] = {
    Role.SALES_REP: (_QUEUE, _MAILBOX, _LEAVE, _BELL),
    Role.SALES_MANAGER: (_AGREEMENT, _ROUTING, _BREACHES, _RULING, _COST),
    Role.MARKETING_MANAGER: (_VOLUME, _INTAKE, _REJECTIONS, _INSIGHTS, _COST),
    Role.MARKETER: (_INTAKE, _REJECTIONS, _INSIGHTS, _BELL),
    Role.ADMIN: (_PEOPLE, _WEBHOOKS, _FAILED, _CAPTURED, _API),
}


@dataclass(frozen=True)
class Tour:
    steps: tuple[Step, ...]
    index: int  # from 0

    @property
    def step(self) -> Step:
        return self.steps[self.index]

    @property
    def number(self) -> int:
        return self.index + 1

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.index > 0 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < len(self.steps) else None


def tour_for(*, user: User, step: object = None) -> Tour | None:
    """The tour `user` is shown, at `step` (numbered from 1; anything else, the first): None
    once they finished or skipped it, or for a role with no tour."""
    steps = STEPS.get(role_of(user), ())
    if user.tour_done_at is not None or not steps:
        return None
    try:
        number = int(str(step))
    except ValueError:
        number = 1
    return Tour(steps=steps, index=min(max(number, 1), len(steps)) - 1)
