"""The permission policy of SPEC §1, in one place.

Every page, API endpoint and template asks this module. Two kinds of answer:

- *scopes* (`*_scope`) are `Q` filters for querysets: what a user may **see**.
  Views load objects through a scoped queryset, so another rep's or another
  team's object is simply not found (404).
- *predicates* (`can_*`) say whether a user may **do** something to an object
  they can see; a refusal answers 403.

Objects of other apps are used by attribute only (`lead.team_id`,
`sla.from_team_id` …), so this module imports nothing beyond `teams`.

| may …                               | admin | sales_manager | marketing_manager | sales_rep | marketer |
|-------------------------------------|-------|---------------|-------------------|-----------|----------|
| see leads and their touches         | all   | own team's    | all (read)        | own (*)   | all (read) |
| create / import leads               | yes   | own team      | yes               | own team  | yes      |
| assign / reassign leads             | yes   | own team      | no                | claim (*) | no       |
| log touch, reject, change status    | yes   | own team      | no                | own leads | no       |
| create / edit SLAs                  | yes   | own team's    | volume SLAs own team owes | no | no     |
| see breaches and scorecards         | all   | own team      | all               | own       | all      |
| breach cost, capacity ahead (§15)   | all   | own team      | all               | own team  | all      |
| KPIs, targets, measurements         | yes   | own team      | own team          | no        | no       |
| time off and the away switch        | all   | own team's    | own               | own       | own      |
| routing rules                       | yes   | own team      | no                | no        | no       |
| lead forms and inbound hooks        | yes   | own team's    | yes               | no        | yes      |
| raise a dispute of a rejection      | yes   | no            | yes               | no        | yes      |
| rule on a dispute                   | yes   | own team      | no                | no        | no       |
| outbound webhooks, WhatsApp numbers | yes   | no            | no                | no        | no       |
| manage users and teams              | yes   | no            | no                | no        | no       |

(*) a rep sees their own leads and their team's unassigned ones, and may claim
an unassigned lead of their own team.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from teams.models import Role

NOTHING = Q(pk__in=[])
EVERYTHING = Q()
MANAGERS = {Role.SALES_MANAGER, Role.MARKETING_MANAGER}
MARKETING_ROLES = {Role.MARKETING_MANAGER, Role.MARKETER}


def role_of(user: Any) -> str | None:
    """The effective role: `admin` for superusers, None for anonymous or inactive users."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return Role.ADMIN if user.is_superuser else user.role


def is_admin(user: Any) -> bool:
    return role_of(user) == Role.ADMIN


def is_manager(user: Any) -> bool:
    return role_of(user) in MANAGERS


def _in_team(user: Any, team_id: int | None) -> bool:
    return team_id is not None and user.team_id == team_id


# --- teams and users ---------------------------------------------------------------
def team_scope(user: Any) -> Q:
    """Teams a user may look at: every team, for anyone signed in.

    Marketing delivers to every sales team and sales managers pick the marketing
    team that owes them leads, so team names and calendars are common knowledge;
    who is in a team is not (see `user_scope`).
    """
    return EVERYTHING if role_of(user) else NOTHING


def user_scope(user: Any) -> Q:
    """Users a user may look at: admins all, everyone else the members of their own team."""
    role = role_of(user)
    if role == Role.ADMIN:
        return EVERYTHING
    if role and user.team_id:
        return Q(team_id=user.team_id)
    return Q(pk=user.pk) if role else NOTHING


def can_manage_users_and_teams(user: Any) -> bool:
    return is_admin(user)


def can_manage_closed_dates(user: Any, team: Any) -> bool:
    """Admins, and the managers of the team, add and remove its closed dates."""
    return is_admin(user) or (is_manager(user) and _in_team(user, team.pk))


# --- availability: time off and the away switch (SPEC §11) ----------------------------
def availability_scope(user: Any, prefix: str = "") -> Q:
    """Whose availability a user may see and set: admins everyone's, a sales manager their
    team's, anyone else their own. `prefix` scopes related rows, e.g. `user__` for time off."""
    role = role_of(user)
    if role == Role.ADMIN:
        return EVERYTHING
    if role == Role.SALES_MANAGER and user.team_id:
        return Q(**{f"{prefix}team_id": user.team_id}) | Q(**{f"{prefix}pk": user.pk})
    return Q(**{f"{prefix}pk": user.pk}) if role else NOTHING


def can_manage_availability(user: Any, person: Any) -> bool:
    """Whether `user` may enter time off for `person` or switch them away."""
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    if role is None:
        return False
    return person.pk == user.pk or (role == Role.SALES_MANAGER and _in_team(user, person.team_id))


# --- routing rules (SPEC §11) ----------------------------------------------------------
def routing_scope(user: Any) -> Q:
    """Routing rules a user may see: admins every team's, a sales manager their team's."""
    role = role_of(user)
    if role == Role.ADMIN:
        return EVERYTHING
    return Q(team_id=user.team_id) if role == Role.SALES_MANAGER and user.team_id else NOTHING


def can_manage_routing(user: Any, team: Any | None = None) -> bool:
    """Create, order, test and switch off a team's rules, route a lead of it now, and turn the
    team's automatic routing on: admins, and its sales manager (their own team when given)."""
    return can_assign_in_bulk(user, team)


# --- notifications (SPEC §12) -------------------------------------------------------------
def notification_scope(user: Any) -> Q:
    """Notifications a user may see and mark: their own, whatever their role."""
    return Q(user_id=user.pk) if getattr(user, "is_authenticated", False) else NOTHING


# --- outbound webhooks (SPEC §12) ---------------------------------------------------------
def can_manage_webhooks(user: Any) -> bool:
    """See, add, change and redeliver outbound webhooks: admins only (§1)."""
    return is_admin(user)


# --- lead forms, inbound hooks, WhatsApp numbers (SPEC §13) ---------------------------------
def intake_scope(user: Any) -> Q:
    """Lead forms and inbound hooks a user may see and manage: admins and marketing every
    team's, a sales manager their own team's."""
    role = role_of(user)
    if role in {Role.ADMIN, Role.MARKETING_MANAGER, Role.MARKETER}:
        return EVERYTHING
    return Q(team_id=user.team_id) if role == Role.SALES_MANAGER and user.team_id else NOTHING


def can_manage_intake(user: Any, team: Any | None = None) -> bool:
    """Create and change lead forms and inbound hooks (for the sales team `team` when given)."""
    role = role_of(user)
    if role in {Role.ADMIN, Role.MARKETING_MANAGER, Role.MARKETER}:
        return True
    return role == Role.SALES_MANAGER and bool(user.team_id) and (team is None or _in_team(user, team.pk))


def can_manage_whatsapp_numbers(user: Any) -> bool:
    """Map WhatsApp Business numbers to teams: admins only (§1)."""
    return is_admin(user)


def logs_touches(user: Any) -> bool:
    """Someone whose work is logged as follow-ups (their e-mails captured, SPEC §14): sales
    reps, sales managers and admins."""
    return role_of(user) in (Role.SALES_REP, Role.SALES_MANAGER, Role.ADMIN)


def can_see_captured_mail(user: Any) -> bool:
    """The e-mail capture mailbox and every message read from it, with the skipped ones'
    reasons: admins only (the messages are anyone's)."""
    return is_admin(user)


# --- leads, touches, rejections ------------------------------------------------------
def sees_every_team(user: Any) -> bool:
    """Whether the user sees the leads of every sales team (else of their own, or their own leads)."""
    return role_of(user) in {Role.ADMIN, Role.MARKETING_MANAGER, Role.MARKETER}


def lead_scope(user: Any, prefix: str = "") -> Q:
    """Leads a user may see. `prefix` scopes related rows, e.g. `lead__` for touches."""
    role = role_of(user)
    if sees_every_team(user):
        return EVERYTHING
    if role == Role.SALES_MANAGER and user.team_id:
        return Q(**{f"{prefix}team_id": user.team_id})
    if role == Role.SALES_REP:
        own = Q(**{f"{prefix}owner_id": user.pk})
        if user.team_id:
            own |= Q(**{f"{prefix}team_id": user.team_id, f"{prefix}owner__isnull": True})
        return own
    return NOTHING


def lead_team_scope(user: Any) -> Q:
    """Teams a user may create or import leads for (a filter on Team; see `can_create_leads`)."""
    role = role_of(user)
    if role in {Role.ADMIN, Role.MARKETING_MANAGER, Role.MARKETER}:
        return Q(kind="sales")
    if role in {Role.SALES_MANAGER, Role.SALES_REP} and user.team_id:
        return Q(kind="sales", pk=user.team_id)
    return NOTHING


def can_create_leads(user: Any, team: Any) -> bool:
    """Create or import leads for the sales team `team`."""
    role = role_of(user)
    if role in {Role.ADMIN, Role.MARKETING_MANAGER, Role.MARKETER}:
        return True
    return role in {Role.SALES_MANAGER, Role.SALES_REP} and _in_team(user, team.pk)


def can_assign_lead(user: Any, lead: Any, owner: Any = None) -> bool:
    """Assign or reassign `lead` (to `owner`); a rep may only claim an unassigned lead of their team."""
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    if role == Role.SALES_MANAGER:
        return _in_team(user, lead.team_id)
    if role == Role.SALES_REP:
        claiming = owner is None or owner.pk == user.pk
        return claiming and lead.owner_id is None and _in_team(user, lead.team_id)
    return False


def can_assign_in_bulk(user: Any, team: Any | None = None) -> bool:
    """Assign many leads at once or share them out in turn: admins, and sales managers (for
    their own team when `team` is given)."""
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    return role == Role.SALES_MANAGER and (team is None or _in_team(user, team.pk))


def can_work_lead(user: Any, lead: Any) -> bool:
    """Log a touch, reject, or move the status of `lead`."""
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    if role == Role.SALES_MANAGER:
        return _in_team(user, lead.team_id)
    if role == Role.SALES_REP:
        return lead.owner_id is not None and lead.owner_id == user.pk
    return False


def can_log_touch_for_others(user: Any, lead: Any) -> bool:
    """Log a touch on `lead` in someone else's name (who must be of the lead's team): admins,
    and the lead's sales manager. Anyone else who may work the lead logs in their own name."""
    role = role_of(user)
    return role == Role.ADMIN or (role == Role.SALES_MANAGER and _in_team(user, lead.team_id))


def can_change_touch(user: Any, touch: Any) -> bool:
    """Correct or delete a touch: whoever logged it, or an admin or manager, on a lead they
    may work."""
    if not can_work_lead(user, touch.lead):
        return False
    return touch.user_id == user.pk or is_admin(user) or is_manager(user)


def can_change_lead(user: Any, lead: Any) -> bool:
    """Change `lead` in one request at all (the API's PATCH): work it, or assign it. Which of its
    fields the user may change (details and status: `can_work_lead`; owner: `can_assign_lead`)
    is decided once the request names them; this answers first, before the input is read."""
    return can_work_lead(user, lead) or can_assign_lead(user, lead)


def can_reopen_lead(user: Any, lead: Any) -> bool:
    """Only a manager reopens a closed lead: admins and the sales team's manager."""
    role = role_of(user)
    return role == Role.ADMIN or (role == Role.SALES_MANAGER and _in_team(user, lead.team_id))


# --- disputes of rejections (SPEC §15) ---------------------------------------------------
def dispute_scope(user: Any) -> Q:
    """Disputes a user may see: those of the leads they may see (`lead_scope`)."""
    return lead_scope(user, prefix="lead__")


def can_raise_dispute(user: Any, lead: Any | None = None) -> bool:
    """Dispute a rejection (of `lead`, when given): admins and Marketing, managers and
    marketers, on any lead they see. Whether the lead may still be disputed (rejected, within
    14 days, no dispute open) is the service's to say."""
    return role_of(user) in {Role.ADMIN, Role.MARKETING_MANAGER, Role.MARKETER}


def can_rule_dispute(user: Any, dispute: Any | None = None) -> bool:
    """Rule on a dispute: admins, and the sales manager of the disputed lead's team (of some
    team, when no dispute is given). Reads `dispute.lead.team_id`."""
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    if role != Role.SALES_MANAGER or not user.team_id:
        return False
    return dispute is None or _in_team(user, dispute.lead.team_id)


# --- campaigns ---------------------------------------------------------------------------
def can_manage_campaign(user: Any, campaign: Any | None = None) -> bool:
    """Admins and marketing managers manage campaigns; a manager only their own team's."""
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    if role != Role.MARKETING_MANAGER:
        return False
    return campaign is None or _in_team(user, campaign.team_id)


# --- SLAs and breaches ---------------------------------------------------------------------
def sla_scope(user: Any) -> Q:
    """SLAs a user may see: everyone in marketing and admins all; sales their own team's."""
    role = role_of(user)
    if role in {Role.ADMIN, Role.MARKETING_MANAGER, Role.MARKETER}:
        return EVERYTHING
    if role in {Role.SALES_MANAGER, Role.SALES_REP} and user.team_id:
        return Q(team_id=user.team_id)
    return NOTHING


def can_create_slas(user: Any) -> bool:
    return role_of(user) in {Role.ADMIN, Role.SALES_MANAGER, Role.MARKETING_MANAGER}


def can_edit_sla(user: Any, sla: Any) -> bool:
    """Admins all; a sales manager their team's SLAs; a marketing manager the volume SLAs their team owes."""
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    if role == Role.SALES_MANAGER:
        return _in_team(user, sla.team_id)
    if role == Role.MARKETING_MANAGER:
        return sla.kind == "volume" and _in_team(user, getattr(sla, "from_team_id", None))
    return False


def breach_scope(user: Any) -> Q:
    """Breaches a user may see: all for admins and marketing, the team's for a sales manager, a rep's own."""
    role = role_of(user)
    if role in {Role.ADMIN, Role.MARKETING_MANAGER, Role.MARKETER}:
        return EVERYTHING
    if role == Role.SALES_MANAGER and user.team_id:
        return Q(team_id=user.team_id)
    if role == Role.SALES_REP:
        return Q(responsible_user_id=user.pk)
    return NOTHING


def can_manage_breach(user: Any, breach: Any) -> bool:
    """Acknowledge or waive a breach: admins, the governed sales team's manager, and for a
    volume breach also the manager of the marketing team that owes it."""
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    if role == Role.SALES_MANAGER:
        return _in_team(user, breach.team_id)
    if role == Role.MARKETING_MANAGER:
        return _in_team(user, getattr(breach, "responsible_team_id", None))
    return False


def sla_team_scopes(user: Any, kind: str) -> tuple[Q, Q] | None:
    """(sales teams, marketing teams) a user may name in an SLA of `kind`; None: may not define one.

    A sales manager defines SLAs for their own team (naming any marketing team as the
    debtor of a volume SLA); a marketing manager only volume SLAs their own team owes."""
    role = role_of(user)
    sales, marketing = Q(kind="sales"), Q(kind="marketing")
    if role == Role.ADMIN:
        return sales, marketing
    if role == Role.SALES_MANAGER and user.team_id:
        return sales & Q(pk=user.team_id), marketing
    if role == Role.MARKETING_MANAGER and user.team_id and kind == "volume":
        return sales, marketing & Q(pk=user.team_id)
    return None


def can_waive_breach(user: Any, breach: Any) -> bool:
    """Waive a breach (it leaves compliance figures): admins and the governed sales team's
    manager, who owns the agreement; never the side that owed it alone."""
    role = role_of(user)
    return role == Role.ADMIN or (role == Role.SALES_MANAGER and _in_team(user, breach.team_id))


# --- scorecards, KPIs ------------------------------------------------------------------
def scorecard_scope(user: Any) -> Q:
    """Team scorecards a user may see (a rep sees their own team's card and their own row)."""
    role = role_of(user)
    if role in {Role.ADMIN, Role.MARKETING_MANAGER, Role.MARKETER}:
        return EVERYTHING
    if role in {Role.SALES_MANAGER, Role.SALES_REP} and user.team_id:
        return Q(team_id=user.team_id)
    return NOTHING


def can_see_team_insights(user: Any, team: Any) -> bool:
    """A sales team's breach cost and capacity ahead (SPEC §15): admins and marketing every
    sales team's (Marketing sees all breaches and scorecards), its own managers and reps."""
    role = role_of(user)
    if role in {Role.ADMIN, Role.MARKETING_MANAGER, Role.MARKETER}:
        return True
    return role in {Role.SALES_MANAGER, Role.SALES_REP} and _in_team(user, team.pk)


def kpi_scope(user: Any) -> Q:
    """KPIs a user may see: admins and marketing all; others the company's and their team's."""
    role = role_of(user)
    if role in {Role.ADMIN, Role.MARKETING_MANAGER, Role.MARKETER}:
        return EVERYTHING
    return Q(team__isnull=True) | Q(team_id=user.team_id) if role else NOTHING


def target_scope(user: Any) -> Q:
    """Targets a user may see: admins and marketing all; a sales manager the company's, the
    team's and its people's; a rep the company's, the team's and their own."""
    role = role_of(user)
    if role in {Role.ADMIN, Role.MARKETING_MANAGER, Role.MARKETER}:
        return EVERYTHING
    company = Q(team__isnull=True, user__isnull=True)
    if role == Role.SALES_MANAGER:
        return company | Q(team_id=user.team_id) | Q(user__team_id=user.team_id)
    if role == Role.SALES_REP:
        return company | Q(team_id=user.team_id) | Q(user_id=user.pk)
    return NOTHING


def kpi_team_scope(user: Any) -> Q:
    """Teams whose KPIs, targets and values a user manages (see `can_manage_kpis`)."""
    role = role_of(user)
    if role == Role.ADMIN:
        return EVERYTHING
    if role in MANAGERS and user.team_id:
        return Q(pk=user.team_id)
    return NOTHING


def can_manage_kpis(user: Any, team: Any | None) -> bool:
    """Define KPIs, set targets, enter measurements: admins any scope; managers their own team.

    `team` None means the company (or a user's own scope checked by the caller): admins only.
    """
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    return role in MANAGERS and team is not None and _in_team(user, team.pk)


def can_manage_any_kpis(user: Any) -> bool:
    """Define KPIs, set targets or enter values for some scope: admins, and managers of a team.

    Asked before a form or request names its scope, so that a role that may not manage KPIs
    is refused whatever it sends; `can_manage_kpis` then judges the scope it names."""
    role = role_of(user)
    return role == Role.ADMIN or (role in MANAGERS and user.team_id is not None)


def can_manage_kpi_item(user: Any, item: Any) -> bool:
    """Change a KPI, a target or a value: as `can_manage_kpis` for its scope, which is its team,
    else its person's team, else (neither) the company."""
    team = item.team if item.team_id else None
    if team is None and getattr(item, "user_id", None) and item.user.team_id:
        team = item.user.team
    return can_manage_kpis(user, team)


# --- navigation -------------------------------------------------------------------------
def navigation_for(user: Any) -> dict[str, bool]:
    """Which sections of the app a user's role may open (used by the menu)."""
    role = role_of(user)
    signed_in = role is not None
    return {
        "dashboard": signed_in,
        "leads": signed_in,
        "queue": role in {Role.SALES_REP, Role.SALES_MANAGER},
        "slas": signed_in,
        "breaches": signed_in,
        "kpis": signed_in,
        "insights": signed_in,
        "scorecards": signed_in,
        "team": signed_in and (role == Role.ADMIN or user.team_id is not None),
        "routing": signed_in and can_manage_routing(user),
        "webhooks": can_manage_webhooks(user),
        "intake": can_manage_intake(user),
        # Disputes (SPEC §15): for the side that raises them and the side that rules on them.
        "disputes": can_raise_dispute(user) or can_rule_dispute(user),
        "admin": role == Role.ADMIN and user.is_staff,
    }
