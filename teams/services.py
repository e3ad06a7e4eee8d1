"""Writes for teams and users. Views, the API, admin actions and commands call these."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from salesmarketing.limits import INSTANT_VALIDATORS
from teams import permissions
from teams.models import ClosedDate, Membership, Role, Team, TimeOff, User

TEAM_FIELDS = {
    "name",
    "kind",
    "timezone",
    "work_days",
    "work_start",
    "work_end",
    "break_start",
    "break_end",
    "holiday_country",
    "currency",
    "auto_route",
}
USER_FIELDS = {"username", "email", "first_name", "last_name", "role", "team", "language", "is_active"}
TEAM_ROLES = {
    Role.SALES_MANAGER: Team.Kind.SALES,
    Role.SALES_REP: Team.Kind.SALES,
    Role.MARKETING_MANAGER: Team.Kind.MARKETING,
    Role.MARKETER: Team.Kind.MARKETING,
}


def team_create(**fields: Any) -> Team:
    """Create a team after full validation (calendar fields as in SPEC §1)."""
    _reject_unknown(fields, TEAM_FIELDS)
    team = Team(**fields)
    _validate_team(team)
    team.save()
    return team


def team_update(*, team: Team, **fields: Any) -> Team:
    """Change a team's name, kind or calendar; validates before writing anything."""
    _reject_unknown(fields, TEAM_FIELDS)
    if "kind" in fields and fields["kind"] != team.kind and team.members.exists():
        raise ValidationError({"kind": _("A team with members cannot change kind.")})
    for name, value in fields.items():
        setattr(team, name, value)
    _validate_team(team)
    team.save(update_fields=[*fields])
    return team


def _validate_team(team: Team) -> None:
    team.full_clean()
    if team.auto_route and team.kind != Team.Kind.SALES:
        raise ValidationError({"auto_route": [_("Only a sales team's leads are routed.")]})


def closed_date_add(*, team: Team, day: date, name: str = "") -> ClosedDate:
    """Close `team` on `day`; a date already closed is a validation error, not a duplicate."""
    if team.closed_dates.filter(date=day).exists():
        raise ValidationError({"date": _("This date is already closed.")})
    return ClosedDate.objects.create(team=team, date=day, name=name.strip())


def closed_date_remove(*, closed_date: ClosedDate) -> None:
    closed_date.delete()


def user_create(
    *,
    username: str,
    password: str,
    email: str = "",
    role: str = Role.SALES_REP,
    team: Team | None = None,
    first_name: str = "",
    last_name: str = "",
    language: str = "",
    on: date | None = None,
    validate_password_strength: bool = True,
) -> User:
    """Create a user with a role and team and open their membership.

    The password is checked by AUTH_PASSWORD_VALIDATORS unless
    `validate_password_strength` is False (only the demo data does that).
    """
    user = User(
        username=username,
        email=email,
        role=role,
        team=team,
        first_name=first_name,
        last_name=last_name,
        language=language,
    )
    _validate_role_and_team(role=role, team=team)
    _validate_username_free(user)
    user.full_clean(exclude=["password"])
    if validate_password_strength:
        _validate_password(password, user)
    user.set_password(password)
    with transaction.atomic():
        user.save()
        membership_sync(user=user, on=on)
    return user


def user_update(*, user: User, password: str | None = None, on: date | None = None, **fields: Any) -> User:
    """Change a user's details.

    A change of team, role or active flag closes the open membership (the day
    before `on`, default today) and opens the new one, so that period rules can
    count who was a member when.
    """
    _reject_unknown(fields, USER_FIELDS)
    for name, value in fields.items():
        setattr(user, name, value)
    _validate_role_and_team(role=user.role, team=user.team)
    if "username" in fields:
        _validate_username_free(user)
    user.full_clean(exclude=["password"])
    if password:
        _validate_password(password, user)
        user.set_password(password)
    with transaction.atomic():
        user.save(update_fields=[*fields, *(["password"] if password else [])])
        membership_sync(user=user, on=on)
    return user


def _validate_username_free(user: User) -> None:
    """A username is taken whatever its case ("Dewi" is "dewi"): a field error, not a clash."""
    if User.objects.filter(username__iexact=user.username).exclude(pk=user.pk).exists():
        raise ValidationError({"username": [_("A user with that username already exists.")]})


def user_set_language(*, user: User, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


def tour_finish(*, user: User, now: datetime) -> None:
    """The person finished or skipped the dashboard's tour: not shown again unless asked for.
    The first finish counts (a second click, or another tab, changes nothing)."""
    User.objects.filter(pk=user.pk, tour_done_at__isnull=True).update(tour_done_at=now)
    user.refresh_from_db(fields=["tour_done_at"])


def tour_restart(*, user: User) -> None:
    """Show the tour again from its first step."""
    User.objects.filter(pk=user.pk).update(tour_done_at=None)
    user.tour_done_at = None


def _validate_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc


def _validate_role_and_team(*, role: str, team: Team | None) -> None:
    """Team roles need a team of the matching kind; admins may have none."""
    needed_kind = TEAM_ROLES.get(role)
    if needed_kind and team is None:
        raise ValidationError({"team": _("This role needs a team.")})
    if needed_kind and team is not None and team.kind != needed_kind:
        raise ValidationError({"team": _("This role needs a team of kind “%(kind)s”.") % {"kind": needed_kind.label}})


def _today(user: User, on: date | None) -> date:
    """`on`, or today in the user's team's time zone."""
    if on is not None:
        return on
    return timezone.localdate(timezone=ZoneInfo(user.team.timezone) if user.team_id else None)


def membership_sync(*, user: User, on: date | None = None) -> Membership | None:
    """Make the user's open membership match their current team, role and active flag.

    A change closes the open membership the day before `on` (default: today in
    the team's zone; one that started that same day is replaced) and opens the
    new one from `on`. Idempotent: with nothing changed it writes nothing.
    Returns the open membership, or None for a user with no team or deactivated.
    """
    day = _today(user, on)
    wanted = (user.team_id, user.role) if user.team_id and user.is_active else None
    with transaction.atomic():
        current = Membership.objects.select_for_update().filter(user=user, ended_on__isnull=True).first()
        if current and (current.team_id, current.role) == wanted:
            return current
        if current and current.started_on >= day:
            current.delete()
        elif current:
            current.ended_on = day - timedelta(days=1)
            current.save(update_fields=["ended_on"])
        if wanted is None:
            return None
        return Membership.objects.create(user=user, team_id=user.team_id, role=user.role, started_on=day)


def _reject_unknown(fields: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unexpected fields: {', '.join(sorted(unknown))}")


def team_auto_route_set(*, team: Team, by: User, on: bool) -> Team:
    """Switch a sales team's automatic routing of new leads on or off (SPEC §11)."""
    if not permissions.can_manage_routing(by, team):
        raise PermissionDenied
    team.auto_route = on
    _validate_team(team)
    team._history_user = by
    team.save(update_fields=["auto_route"])
    return team


# -- availability (SPEC §11) -----------------------------------------------------------------
def user_away_set(*, user: User, by: User, away: bool) -> User:
    """Switch `user` away (routing passes them over) or back; by themselves, their sales
    manager or an admin."""
    if not permissions.can_manage_availability(by, user):
        raise PermissionDenied
    if user.away != away:
        user.away = away
        user._history_user = by
        user.save(update_fields=["away"])
    return user


def time_off_add(*, by: User, user: User, start: datetime, end: datetime, reason: str = "") -> TimeOff:
    """Enter time off for `user` from `start` until `end` (instants; see
    `teams.selectors.time_off_day_span` for whole days). Refused when it ends before it
    starts or overlaps the person's other time off."""
    if not permissions.can_manage_availability(by, user):
        raise PermissionDenied
    time_off = TimeOff(user=user, start=start, end=end, reason=reason.strip(), created_by=by)
    with transaction.atomic():
        _validate_time_off(time_off)
        time_off._history_user = by
        time_off.save()
    return time_off


def time_off_change(*, time_off: TimeOff, by: User, **fields: Any) -> TimeOff:
    """Move or re-word a stretch of time off (`start`, `end`, `reason`), judged as when added."""
    _reject_unknown(fields, {"start", "end", "reason"})
    if not permissions.can_manage_availability(by, time_off.user):
        raise PermissionDenied
    for name, value in fields.items():
        setattr(time_off, name, value.strip() if name == "reason" else value)
    with transaction.atomic():
        _validate_time_off(time_off)
        if fields:
            time_off._history_user = by
            time_off.save(update_fields=[*fields])
    return time_off


def time_off_remove(*, time_off: TimeOff, by: User) -> None:
    if not permissions.can_manage_availability(by, time_off.user):
        raise PermissionDenied
    time_off._history_user = by
    time_off.delete()


def _validate_time_off(time_off: TimeOff) -> None:
    errors: dict[str, list[str]] = {}
    for name in ("start", "end"):
        try:
            for validator in INSTANT_VALIDATORS:
                validator(getattr(time_off, name))
        except ValidationError as exc:
            errors[name] = exc.messages
    if not errors and time_off.end <= time_off.start:
        errors["end"] = [_("Time off ends after it starts.")]
    try:
        time_off.full_clean(exclude=["user", "created_by", "start", "end"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    # In the caller's transaction: the person's row is locked, so two entries at once cannot overlap.
    User.objects.select_for_update().filter(pk=time_off.user_id).first()
    other = (
        TimeOff.objects.filter(user_id=time_off.user_id, start__lt=time_off.end, end__gt=time_off.start)
        .exclude(pk=time_off.pk)
        .first()
    )
    if other is not None:
        span = {
            "start": date_format(timezone.localtime(other.start), "SHORT_DATETIME_FORMAT"),
            "end": date_format(timezone.localtime(other.end), "SHORT_DATETIME_FORMAT"),
        }
        raise ValidationError({"start": [_("This overlaps time off from %(start)s until %(end)s.") % span]})
