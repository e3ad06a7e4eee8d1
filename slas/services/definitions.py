"""SLA definitions: created, edited and (de)activated by managers in the browser or the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leads.models import Source
from slas.models import TERM_FIELDS, Sla
from teams import permissions
from teams.models import Team, User

FIELDS = {"name", "kind", "team", *TERM_FIELDS}
ESCALATION = {"escalate_to_managers", "reassign_after", "reassign_after_unit"}
KIND_FIELDS = {
    Sla.Kind.RESPONSE: {"target_value", "target_unit", "warn_at_percent", "sources", *ESCALATION},
    Sla.Kind.CADENCE: {"min_touches", "window_days", "warn_at_percent", "sources", "escalate_to_managers"},
    Sla.Kind.VOLUME: {"from_team", "leads_per_rep", "period", "sources", "count_rejected"},
    Sla.Kind.ASSIGNMENT: {"target_value", "target_unit", "warn_at_percent", "sources"},
}
EMPTY = {
    "target_value": None,
    "target_unit": "",
    "min_touches": None,
    "window_days": None,
    "from_team": None,
    "leads_per_rep": None,
    "period": "",
    "count_rejected": False,
    "escalate_to_managers": True,
    "reassign_after": None,
    "reassign_after_unit": "",
}
DEFAULTS = {
    Sla.Kind.CADENCE: {"min_touches": 5, "window_days": 30},
    Sla.Kind.VOLUME: {"leads_per_rep": 50, "period": Sla.Period.MONTH},
}


def sla_create(*, by: User, team: Team, kind: str, name: str, now: datetime | None = None, **terms: Any) -> Sla:
    """Define an SLA for the sales team `team`, active from `now` (default: now)."""
    _only(terms)
    sla = Sla(
        team=team,
        kind=kind,
        name=name.strip(),
        created_by=by,
        active_from=now or timezone.now(),
        **{**DEFAULTS.get(kind, {}), **terms},
    )
    if not permissions.can_create_slas(by) or not permissions.can_edit_sla(by, sla):
        raise PermissionDenied
    sla_validate(sla)
    sla._history_user = by
    sla.save()
    return sla


def sla_update(*, sla: Sla, by: User, **fields: Any) -> Sla:
    """Change an SLA. A change of its terms makes a new version: clocks already running
    keep the terms they started with (they are frozen on the clock)."""
    _only(fields)
    if not permissions.can_edit_sla(by, sla):
        raise PermissionDenied
    if "kind" in fields and fields["kind"] != sla.kind:
        raise ValidationError({"kind": _("The kind of an SLA cannot change; create a new one.")})
    changed_terms = [name for name in TERM_FIELDS if name in fields and getattr(sla, name) != fields[name]]
    for name, value in fields.items():
        setattr(sla, name, value.strip() if name == "name" else value)
    if not permissions.can_edit_sla(by, sla):  # e.g. moved to a team the user may not manage
        raise PermissionDenied
    sla_validate(sla)
    if changed_terms:
        sla.version += 1
    sla._history_user = by
    sla.save(update_fields=[*fields, "version"])
    return sla


def sla_set_active(*, sla: Sla, by: User, active: bool, now: datetime | None = None) -> Sla:
    """Deactivate (no new clocks; running ones finish under their terms) or reactivate
    (applies to assignments made from now on; volume periods starting from now)."""
    if not permissions.can_edit_sla(by, sla):
        raise PermissionDenied
    if sla.is_active == active:
        return sla
    with transaction.atomic():
        sla.is_active = active
        if active:
            sla.active_from = now or timezone.now()
        sla._history_user = by
        sla.save(update_fields=["is_active", "active_from"])
    return sla


def sla_validate(sla: Sla) -> None:
    """Check a definition as the SLA form and API do (every field error at once), clearing the
    fields of other kinds. Raises ValidationError."""
    errors: dict[str, list[str]] = {}
    if sla.kind not in Sla.Kind.values:
        raise ValidationError({"kind": [_("Choose response, cadence, volume or assignment.")]})
    if sla.team_id and sla.team.kind != Team.Kind.SALES:
        errors["team"] = [_("An SLA governs the leads of a sales team.")]
    required = {
        Sla.Kind.RESPONSE: ["target_value", "target_unit"],
        Sla.Kind.CADENCE: ["min_touches", "window_days"],
        Sla.Kind.VOLUME: ["from_team", "leads_per_rep", "period"],
        Sla.Kind.ASSIGNMENT: ["target_value", "target_unit"],
    }[sla.kind]
    for name in required:
        if getattr(sla, name) in (None, ""):
            errors.setdefault(name, []).append(_("This field is required for this kind of SLA."))
    if sla.kind == Sla.Kind.VOLUME and sla.from_team_id and sla.from_team.kind != Team.Kind.MARKETING:
        errors["from_team"] = [_("A volume SLA is owed by a marketing team.")]
    sources = sla.sources if isinstance(sla.sources, list) else None
    if sources is None or any(source not in Source.values for source in sources):
        errors["sources"] = [_("Choose sources among: %(choices)s.") % {"choices": ", ".join(Source.values)}]
    # Fields of other kinds are cleared so the definition says only what applies.
    for name, empty in EMPTY.items():
        if name not in KIND_FIELDS[sla.kind]:
            setattr(sla, name, empty)
    if (sla.reassign_after is None) != (sla.reassign_after_unit in (None, "")):
        errors["reassign_after"] = [_("Give both a number and a unit to route the lead again, or neither.")]
    try:
        sla.full_clean(exclude=["created_by"])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _only(fields: dict[str, Any]) -> None:
    unknown = set(fields) - FIELDS
    if unknown:
        raise TypeError(f"unexpected fields: {', '.join(sorted(unknown))}")
