"""Writes of routing rules (SPEC §11): create, change, order, switch off, remove.

Routing a lead is the leads app's (`leads.services.routing`), which reads these rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from leads.models import Campaign, Source
from routing.models import Member, Rule
from teams import permissions
from teams.models import Team, User
from teams.selectors import own_sales_team, team_reps

# What a rule's author sets, in the order the form and the API show it.
RULE_FIELDS = (
    "name",
    "active",
    "sources",
    "campaigns",
    "min_value",
    "email_domains",
    "method",
    "members",
    "cap_per_day",
    "cap_open",
)
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")


def rule_create(*, by: User, team: Team | None = None, **fields: Any) -> Rule:
    """A new rule for `team` (a sales manager's own when none is named), last in its order.
    `members` is a list of {"user": User, "weight": int}; every other field as the model's."""
    _reject_unknown(fields)
    team = team or own_sales_team(user=by)
    if team is None:
        raise ValidationError({"team": [_("Name the sales team the rule is for.")]})
    if not permissions.can_manage_routing(by, team):
        raise PermissionDenied
    members = fields.pop("members", None)
    campaigns = fields.pop("campaigns", [])
    rule = Rule(team=team, **fields)
    with transaction.atomic():
        Team.objects.select_for_update().filter(pk=team.pk).first()  # one new position at a time
        last = Rule.objects.filter(team=team).aggregate(last=Max("position"))["last"]
        rule.position = 0 if last is None else last + 1
        _validate(rule, members=members if members is not None else [], campaigns=campaigns)
        rule._history_user = by
        rule.save()
        rule.campaigns.set(campaigns)
        _members_set(rule, members or [])
    return rule


def rule_update(*, rule: Rule, by: User, **fields: Any) -> Rule:
    """Change a rule's conditions, method, members or caps; judged as when it was created."""
    _reject_unknown(fields)
    if not permissions.can_manage_routing(by, rule.team):
        raise PermissionDenied
    members = fields.pop("members", None)
    campaigns = fields.pop("campaigns", None)
    for name, value in fields.items():
        setattr(rule, name, value)
    current = [{"user": member.user, "weight": member.weight} for member in rule.members.select_related("user")]
    _validate(
        rule,
        members=current if members is None else members,
        campaigns=list(rule.campaigns.all()) if campaigns is None else campaigns,
    )
    with transaction.atomic():
        rule._history_user = by
        if fields:
            rule.save(update_fields=[*fields])
        if campaigns is not None:
            rule.campaigns.set(campaigns)
        if members is not None:
            _members_set(rule, members)
    return rule


def rule_move(*, rule: Rule, by: User, up: bool) -> Rule:
    """Swap the rule with the one before (`up`) or after it in its team's order."""
    if not permissions.can_manage_routing(by, rule.team):
        raise PermissionDenied
    with transaction.atomic():
        ordered = list(Rule.objects.select_for_update().filter(team_id=rule.team_id).order_by("position", "pk"))
        index = next(i for i, other in enumerate(ordered) if other.pk == rule.pk)
        neighbour = index - 1 if up else index + 1
        if 0 <= neighbour < len(ordered):
            ordered[index], ordered[neighbour] = ordered[neighbour], ordered[index]
        for position, other in enumerate(ordered):
            other.position = position
        Rule.objects.bulk_update(ordered, ["position"])
    rule.position = next(other.position for other in ordered if other.pk == rule.pk)
    return rule


def rule_delete(*, rule: Rule, by: User) -> None:
    """Remove a rule; the decisions it made keep its name."""
    if not permissions.can_manage_routing(by, rule.team):
        raise PermissionDenied
    rule._history_user = by
    rule.delete()


def _members_set(rule: Rule, members: Sequence[dict]) -> None:
    """The rule's members as given, keeping the turns of those who stay."""
    wanted = {member["user"].pk: member.get("weight") or 1 for member in members}
    kept = {member.user_id: member for member in rule.members.all()}
    Member.objects.filter(rule=rule).exclude(user_id__in=wanted).delete()
    changed = []
    for user_id, weight in wanted.items():
        if user_id in kept and kept[user_id].weight != weight:
            kept[user_id].weight = weight
            changed.append(kept[user_id])
    Member.objects.bulk_update(changed, ["weight"])
    Member.objects.bulk_create(
        [Member(rule=rule, user_id=user_id, weight=weight) for user_id, weight in wanted.items() if user_id not in kept]
    )


def _validate(rule: Rule, *, members: Sequence[dict], campaigns: Iterable[Campaign]) -> None:
    errors: dict[str, list[str]] = {}
    rule.name = (rule.name or "").strip()
    try:
        rule.full_clean(exclude=["team", "sources", "email_domains"], validate_unique=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if rule.team.kind != Team.Kind.SALES:
        errors["team"] = [_("Rules route the leads of a sales team.")]
    if rule.name and Rule.objects.filter(team_id=rule.team_id, name__iexact=rule.name).exclude(pk=rule.pk).exists():
        errors["name"] = [_("This team already has a rule with this name.")]
    _validate_list(rule, "sources", errors)
    _validate_list(rule, "email_domains", errors)
    member_errors = _member_errors(rule, members)
    if member_errors:
        errors["members"] = member_errors
    if any(campaign.team.kind != Team.Kind.MARKETING for campaign in campaigns):
        errors["campaigns"] = [_("Choose marketing campaigns.")]
    if errors:
        raise ValidationError(errors)


def _validate_list(rule: Rule, name: str, errors: dict) -> None:
    values = getattr(rule, name)
    if not isinstance(values, list) or any(not isinstance(value, str) for value in values):
        errors[name] = [_("A list of texts.")]
        return
    if name == "sources":
        unknown = [value for value in values if value not in Source.values]
        if unknown:
            errors[name] = [_("Unknown source: %(sources)s.") % {"sources": ", ".join(unknown)}]
        rule.sources = sorted(set(values), key=Source.values.index)
    else:
        domains = [value.strip().lower().lstrip("@") for value in values if value.strip()]
        bad = [domain for domain in domains if not DOMAIN.match(domain)]
        if bad:
            errors[name] = [_("Not an e-mail domain: %(domains)s.") % {"domains": ", ".join(bad)}]
        rule.email_domains = list(dict.fromkeys(domains))


def _member_errors(rule: Rule, members: Sequence[dict]) -> list[str]:
    if not members:
        return [_("Name at least one rep who may get this rule's leads.")]
    reps = set(team_reps(team=rule.team_id).filter(pk__in=[m["user"].pk for m in members]).values_list("pk", flat=True))
    errors = []
    seen: set[int] = set()
    for member in members:
        user, weight = member["user"], member.get("weight", 1)
        if user.pk in seen:
            errors.append(_("%(person)s is named twice.") % {"person": user})
        seen.add(user.pk)
        if user.pk not in reps:
            errors.append(_("%(person)s is not an active rep of this team.") % {"person": user})
        if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= 1000:
            errors.append(_("A weight is a whole number from 1 to 1000 (%(person)s).") % {"person": user})
    return errors


def _reject_unknown(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields: {', '.join(sorted(unknown))}")
