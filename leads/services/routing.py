"""Routing (SPEC §11): who gets a lead, decided, assigned and recorded in one place.

For each lead, in this order:

1. *sticky owner*: the owner of an open lead of the same team with the same e-mail or phone,
   when they can answer now;
2. the first active rule whose conditions match and that has an available member under its
   caps, choosing by the rule's method;
3. the team's default: every available rep of the team, in turn (whoever was given a lead of
   the team longest ago);
4. nobody: the lead stays unassigned.

A batch (one lead, or an import's thousands) is routed in one transaction that holds the
team's row locked, so that two routers of one team take turns: two leads created at once
never both take the last place under a cap, and no turn is skipped or doubled. The state is
read once a batch (a constant number of statements whatever the number of reps and rules),
each lead is decided in memory, and the writes are one assignment per owner, one update of
the rules' turns and one insert of the decisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leads.models import CLOSED, Campaign, Lead
from leads.phones import phone_e164
from leads.services.ownership import assign_each
from notifications import services as notifications
from routing import selectors
from routing.models import Decision, Member, Method, Rule, Skip, Step, Trigger
from teams import permissions
from teams.models import Team, User
from teams.selectors import team_reps, unavailable_reasons


@dataclass
class _State:
    """What the engine knows of a team while it routes a batch, kept current lead by lead."""

    team: Team
    rules: list[Rule]
    reps: list[int]  # the team's active reps, in id order
    rep_ids: frozenset[int]  # the same, to look up
    unavailable: dict[int, str]
    today: dict[int, int]
    open: dict[int, int]
    # When each rep was last given a lead of the team, and a number that orders assignments
    # made at one instant (their latest assignment's id; past those, the batch's count): the
    # team's turn order.
    last: dict[int, tuple[datetime, int]] | None  # read when first needed
    by_email: dict[str, int]
    by_phone: dict[str, int]
    now: datetime
    given: int = 0
    pending_turns: list[int] = field(default_factory=list)
    changed_rules: dict[int, Rule] = field(default_factory=dict)
    changed_members: dict[int, Member] = field(default_factory=dict)


BATCH = 2**62  # the batch's assignments come after every stored one made at the same instant
STRIDE = 720_720_000  # by weight: a member moves on by STRIDE / weight (exact for weights up to 16)


@dataclass(frozen=True)
class Choice:
    """One lead's decision before it is written."""

    step: str
    owner_id: int | None
    rule: Rule | None
    skipped: tuple[tuple[int, str], ...]


def leads_route(
    *,
    leads: Sequence[Lead],
    trigger: str = Trigger.CREATED,
    by: User | None = None,
    now: datetime | None = None,
    exclude: set[int] | frozenset[int] = frozenset(),
    exclude_owners: bool = False,
) -> list[Decision]:
    """Route `leads` (of one team) in the order given, assign them and record why; `exclude`
    names reps who may not get them this time, and with `exclude_owners` each lead's current
    owner may not get it back (an escalation). Returns the decisions, one a lead. Permissions
    are the caller's: creating a lead allows routing it."""
    if not leads:
        return []
    now = now or timezone.now()
    teams = {lead.team_id for lead in leads}
    if len(teams) != 1:
        raise ValueError("leads_route routes the leads of one team at a time")
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=teams.pop())
        state = _load(team=team, leads=leads, now=now)
        choices = [
            _decide(lead, state, exclude={*exclude, lead.owner_id} if exclude_owners and lead.owner_id else exclude)
            for lead in leads
        ]
        return _write(leads=leads, choices=choices, state=state, trigger=trigger, by=by, now=now)


@dataclass
class Plan:
    """Routing decided for leads not saved yet (an import's batch): each lead's `owner` is
    set, to be inserted with it; `record` then writes why, once they have ids. Both in the
    caller's transaction, which holds the team's lock from `leads_plan` on."""

    leads: Sequence[Lead]
    choices: list[Choice]
    state: _State

    def record(self, *, trigger: str, by: User | None) -> list[Decision]:
        """The decisions and the rules' turns, once the leads are saved (with their owners)."""
        return _record(leads=self.leads, choices=self.choices, state=self.state, trigger=trigger, by=by)


def leads_plan(*, leads: Sequence[Lead], team: Team, now: datetime) -> Plan:
    """Decide where new, unsaved leads of `team` go and set their owner (and `assigned_at`);
    the caller inserts them, creates their assignments and clocks, then calls `record`. In a
    transaction (the team's row stays locked until it commits)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("leads_plan must run in the transaction that creates the leads")
    Team.objects.select_for_update().filter(pk=team.pk).first()
    state = _load(team=team, leads=leads, now=now)
    choices = [_decide(lead, state, exclude=frozenset()) for lead in leads]
    owners = User.objects.in_bulk({choice.owner_id for choice in choices if choice.owner_id is not None})
    for lead, choice in zip(leads, choices, strict=True):
        if choice.owner_id is not None:
            lead.owner, lead.assigned_at, lead.first_assigned_at = owners[choice.owner_id], now, now
    return Plan(leads=leads, choices=choices, state=state)


def lead_route(*, lead: Lead, by: User, now: datetime | None = None) -> Decision:
    """A manager routes one open lead now (SPEC §11, `POST leads/{id}/route/`), owned or not."""
    if not permissions.can_manage_routing(by, lead.team):
        raise PermissionDenied
    if lead.status in CLOSED:
        raise ValidationError(_("This lead is closed. A manager can reopen it first."))
    return leads_route(leads=[lead], trigger=Trigger.MANUAL, by=by, now=now)[0]


def route_preview(
    *,
    team: Team,
    source: str,
    value: Decimal | None = None,
    email: str = "",
    phone: str = "",
    campaign: Campaign | None = None,
    now: datetime | None = None,
) -> Choice:
    """Where a new lead with these details would go now ("a lead from ads worth IDR 50 juta"),
    as routing would decide it; writes nothing."""
    try:
        phone = phone_e164(phone, region=team.holiday_country)
    except ValidationError:
        phone = ""  # not a number: no lead of the team can have it
    lead = Lead(team=team, source=source, value=value, email=email.strip().lower(), phone=phone, campaign=campaign)
    return _decide(lead, _load(team=team, leads=[lead], now=now or timezone.now()), exclude=frozenset())


def _load(*, team: Team, leads: Sequence[Lead], now: datetime) -> _State:
    rules = list(selectors.team_rules(team=team, active_only=True, with_people=False))
    reps = sorted(team_reps(team=team).values_list("pk", flat=True))
    emails = {lead.email.lower() for lead in leads if lead.email}
    phones = {lead.phone for lead in leads if lead.phone}
    by_email, by_phone = selectors.sticky_owners(
        team=team, emails=emails, phones=phones, exclude={lead.pk for lead in leads if lead.pk}
    )
    members = {member.user_id for rule in rules for member in rule.members.all()}
    people = members | set(reps) | set(by_email.values()) | set(by_phone.values())
    capped = any(rule.cap_per_day for rule in rules)
    counted = any(rule.cap_open or rule.method == Method.LEAST_OPEN for rule in rules)
    return _State(
        team=team,
        rules=rules,
        reps=reps,
        rep_ids=frozenset(reps),
        unavailable=unavailable_reasons(user_ids=people, at=now),
        today=selectors.assigned_today(team=team, user_ids=members, at=now) if capped else {},
        open=selectors.open_lead_counts(user_ids=members) if counted else {},
        last=None,
        by_email=by_email,
        by_phone=by_phone,
        now=now,
    )


def _decide(lead: Lead, state: _State, *, exclude: set[int] | frozenset[int]) -> Choice:
    skipped: dict[int, str] = {}

    def reason(user_id: int) -> str | None:
        if user_id in exclude or (user_id not in state.rep_ids and user_id not in state.unavailable):
            return Skip.EXCLUDED  # not to get it this time, or no longer a rep of the team
        return state.unavailable.get(user_id)

    sticky = state.by_email.get(lead.email.lower()) if lead.email else None
    sticky = sticky or (state.by_phone.get(lead.phone) if lead.phone else None)
    if sticky is not None:
        why = reason(sticky)
        if why is None:
            return _chosen(lead, state, Step.STICKY, sticky, None, skipped)
        skipped[sticky] = why
    for rule in state.rules:
        if not _matches(rule, lead):
            continue
        eligible = []
        for member in rule.members.all():
            why = reason(member.user_id) or _capped(rule, member.user_id, state)
            if why is None:
                eligible.append(member)
            else:
                skipped.setdefault(member.user_id, why)
        if eligible:
            return _chosen(lead, state, Step.RULE, _pick(rule, eligible, state), rule, skipped)
    eligible_reps = []
    for rep in state.reps:
        why = reason(rep)
        if why is None:
            eligible_reps.append(rep)
        else:
            skipped.setdefault(rep, why)
    if eligible_reps and state.last is None:
        state.last = selectors.last_assigned(user_ids=state.reps)
        for n, owner_id in enumerate(state.pending_turns, start=1):  # given earlier in this batch
            state.last[owner_id] = (state.now, BATCH + n)
    if eligible_reps:
        owner = min(eligible_reps, key=lambda rep: (rep in state.last, state.last.get(rep, (state.now, 0)), rep))
        return _chosen(lead, state, Step.DEFAULT, owner, None, skipped)
    return Choice(step=Step.NONE, owner_id=None, rule=None, skipped=tuple(skipped.items()))


def _matches(rule: Rule, lead: Lead) -> bool:
    if rule.sources and lead.source not in rule.sources:
        return False
    campaigns = {campaign.pk for campaign in rule.campaigns.all()}
    if campaigns and lead.campaign_id not in campaigns:
        return False
    if rule.min_value is not None and (lead.value is None or lead.value < rule.min_value):
        return False
    if rule.email_domains:
        domain = lead.email.rpartition("@")[2].lower() if "@" in lead.email else ""
        if not any(domain == wanted or domain.endswith(f".{wanted}") for wanted in rule.email_domains):
            return False
    return True


def _capped(rule: Rule, user_id: int, state: _State) -> str | None:
    if rule.cap_per_day is not None and state.today.get(user_id, 0) >= rule.cap_per_day:
        return Skip.CAP_PER_DAY
    if rule.cap_open is not None and state.open.get(user_id, 0) >= rule.cap_open:
        return Skip.CAP_OPEN
    return None


def _pick(rule: Rule, eligible: list[Member], state: _State) -> int:
    """The member `rule`'s method chooses among `eligible` (in member order), with the rule's
    bookkeeping moved on: in turn, the one whose last turn is oldest; by weight, stride
    scheduling (the lowest pass, moved on by STRIDE / weight: shares follow the weights and
    only the chosen member changes); fewest open leads, ties in turn."""
    if rule.method == Method.WEIGHTED:  # the lowest pass, a pass left behind counting as the clock
        chosen = min(eligible, key=lambda member: max(member.current, rule.clock))  # the first of equals
        rule.clock = max(chosen.current, rule.clock)
        chosen.current = rule.clock + STRIDE // chosen.weight
    elif rule.method == Method.LEAST_OPEN:
        chosen = min(eligible, key=lambda member: (state.open.get(member.user_id, 0), member.last_turn))
    else:
        chosen = min(eligible, key=lambda member: member.last_turn)
    rule.turns += 1
    chosen.last_turn = rule.turns
    state.changed_rules[rule.pk] = rule
    state.changed_members[chosen.pk] = chosen
    return chosen.user_id


def _chosen(lead: Lead, state: _State, step: str, owner_id: int, rule: Rule | None, skipped: dict) -> Choice:
    """The choice, with what it changes for the next lead of the batch counted in."""
    state.today[owner_id] = state.today.get(owner_id, 0) + 1
    state.open[owner_id] = state.open.get(owner_id, 0) + 1
    state.given += 1
    if state.last is not None:
        state.last[owner_id] = (state.now, BATCH + state.given)
    else:  # the team's turns, when first read, start from the stored assignments and these
        state.pending_turns.append(owner_id)
    if lead.email:
        state.by_email.setdefault(lead.email.lower(), owner_id)
    if lead.phone:
        state.by_phone.setdefault(lead.phone, owner_id)
    return Choice(step=step, owner_id=owner_id, rule=rule, skipped=tuple(skipped.items()))


def _write(
    *, leads: Sequence[Lead], choices: list[Choice], state: _State, trigger: str, by: User | None, now: datetime
) -> list[Decision]:
    moving = [
        (lead, choice.owner_id)
        for lead, choice in zip(leads, choices, strict=True)
        if choice.owner_id is not None and choice.owner_id != lead.owner_id
    ]
    if moving:
        owners = User.objects.in_bulk({owner_id for _lead, owner_id in moving})
        locked = Lead.objects.select_for_update().in_bulk([lead.pk for lead, _owner_id in moving])
        # In the order decided: the newest assignment (the highest id) is the last turn's.
        assign_each(pairs=[(locked[lead.pk], owners[owner_id]) for lead, owner_id in moving], by=by, now=now)
        for lead, owner_id in moving:
            lead.owner_id, lead.assigned_at = owner_id, now
    return _record(leads=leads, choices=choices, state=state, trigger=trigger, by=by)


def _record(
    *, leads: Sequence[Lead], choices: list[Choice], state: _State, trigger: str, by: User | None
) -> list[Decision]:
    now = state.now
    if state.changed_rules:
        Rule.objects.bulk_update(state.changed_rules.values(), ["turns", "clock"])
    if state.changed_members:
        Member.objects.bulk_update(state.changed_members.values(), ["current", "last_turn"])
    nobody = [lead for lead, choice in zip(leads, choices, strict=True) if choice.owner_id is None]
    # A manager asking sees it on the page; a lead back from a dispute waits like a new one.
    if nobody and trigger in (Trigger.CREATED, Trigger.ESCALATION, Trigger.DISPUTE):
        notifications.no_rep_notify(leads=nobody, now=now)
    return Decision.objects.bulk_create(
        [
            Decision(
                lead=lead,
                created_at=now,
                trigger=trigger,
                step=choice.step,
                rule=choice.rule,
                rule_name=choice.rule.name if choice.rule else "",
                method=choice.rule.method if choice.rule else "",
                owner_id=choice.owner_id,
                skipped=[{"user": user_id, "reason": why} for user_id, why in choice.skipped],
                by=by,
            )
            for lead, choice in zip(leads, choices, strict=True)
        ]
    )
