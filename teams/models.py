"""Teams, their working calendars, users with one role each, and membership history."""

from __future__ import annotations

from datetime import time
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from salesmarketing.limits import DAY_VALIDATORS


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    MARKETING_MANAGER = "marketing_manager", _("Marketing manager")
    SALES_REP = "sales_rep", _("Sales rep")
    MARKETER = "marketer", _("Marketer")


class Weekday(models.IntegerChoices):
    MONDAY = 1, _("Monday")
    TUESDAY = 2, _("Tuesday")
    WEDNESDAY = 3, _("Wednesday")
    THURSDAY = 4, _("Thursday")
    FRIDAY = 5, _("Friday")
    SATURDAY = 6, _("Saturday")
    SUNDAY = 7, _("Sunday")


def default_email_notifications() -> list[str]:
    """What a person hears of by e-mail too until they choose (SPEC §12): a lead given to them,
    a breach of their team, a new lead nobody could take."""
    return ["lead_assigned", "breach_team", "no_rep_available"]


def default_work_days() -> list[int]:
    return [1, 2, 3, 4, 5]


def validate_timezone(value: str) -> None:
    if value not in _timezones():
        raise ValidationError(_("%(value)s is not a known IANA time zone."), params={"value": value})


def validate_work_days(value: object) -> None:
    if (
        not isinstance(value, list)
        or not value
        or any(not isinstance(day, int) or isinstance(day, bool) or not 1 <= day <= 7 for day in value)
        or len(set(value)) != len(value)
    ):
        raise ValidationError(_("Working days are ISO weekdays from 1 (Monday) to 7 (Sunday), at least one."))


def validate_holiday_country(value: str) -> None:
    import holidays

    if value and value.upper() not in holidays.list_supported_countries():
        raise ValidationError(_("%(value)s is not a country with known public holidays."), params={"value": value})


_TIMEZONES: frozenset[str] = frozenset()


def _timezones() -> frozenset[str]:
    global _TIMEZONES
    if not _TIMEZONES:
        _TIMEZONES = frozenset(available_timezones())
    return _TIMEZONES


class Team(models.Model):
    class Kind(models.TextChoices):
        SALES = "sales", _("Sales")
        MARKETING = "marketing", _("Marketing")

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Jakarta", validators=[validate_timezone])
    work_days = models.JSONField(_("working days"), default=default_work_days, validators=[validate_work_days])
    work_start = models.TimeField(_("work starts"), default=time(9, 0))
    work_end = models.TimeField(_("work ends"), default=time(17, 0))
    break_start = models.TimeField(_("break starts"), null=True, blank=True)
    break_end = models.TimeField(_("break ends"), null=True, blank=True)
    holiday_country = models.CharField(
        _("public holidays of"),
        max_length=8,
        default="ID",
        blank=True,
        validators=[validate_holiday_country],
        help_text=_("ISO country code, e.g. ID; leave empty for no public holidays."),
    )
    currency = models.CharField(_("currency"), max_length=3, default="IDR")
    # A sales team's new leads without an owner go to a rep at once, by its routing rules (SPEC §11).
    auto_route = models.BooleanField(_("route new leads automatically"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = [
            models.CheckConstraint(condition=Q(work_start__lt=F("work_end")), name="team_work_hours_ordered"),
            models.CheckConstraint(
                condition=Q(break_start__isnull=True, break_end__isnull=True)
                | Q(
                    break_start__gt=F("work_start"),
                    break_end__gt=F("break_start"),
                    break_end__lt=F("work_end"),
                ),
                name="team_break_inside_work_hours",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.work_start and self.work_end and self.work_start >= self.work_end:
            errors["work_end"] = _("Work must end after it starts.")
        if (self.break_start is None) != (self.break_end is None):
            errors["break_end"] = _("Give both the start and the end of the break, or neither.")
        elif (
            self.break_start
            and self.work_start
            and self.work_end
            and not self.work_start < self.break_start < self.break_end < self.work_end
        ):
            errors["break_start"] = _("The break must start and end inside working hours, start before it ends.")
        if self.holiday_country:
            self.holiday_country = self.holiday_country.upper()
        if errors:
            raise ValidationError(errors)


class ClosedDate(models.Model):
    """A day the team does not work beyond public holidays (company day off, cuti bersama)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="closed_dates", verbose_name=_("team"))
    date = models.DateField(_("date"), validators=DAY_VALIDATORS)
    name = models.CharField(_("name"), max_length=120, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["date"]
        verbose_name = _("closed date")
        verbose_name_plural = _("closed dates")
        constraints = [models.UniqueConstraint(fields=["team", "date"], name="closed_date_once_per_team")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}".strip()


class User(AbstractUser):
    """A person using Selaras: one role, at most one team (the current one)."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.SALES_REP)
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("team"),
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True)
    digest_enabled = models.BooleanField(_("weekly breach digest"), default=True)
    digest_when_empty = models.BooleanField(_("send the digest even when there is nothing to report"), default=False)
    # The kinds of notification (notifications.models.Kind) the person also gets by e-mail.
    email_notifications = models.JSONField(
        _("notifications by e-mail"), default=default_email_notifications, blank=True
    )
    # Set by the person (or their manager) for a while away from leads: routing passes them over.
    away = models.BooleanField(_("away"), default=False)
    # When the person finished or skipped the dashboard's tour (teams/tour.py); shown until then.
    tour_done_at = models.DateTimeField(_("tour finished"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["password", "last_login", "tour_done_at"])

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # "Dewi" and "dewi" are one person to a reader: usernames are unique regardless of case.
            models.UniqueConstraint(
                Lower("username"),
                name="user_username_unique_any_case",
                violation_error_message=_("A user with that username already exists."),
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def effective_role(self) -> str:
        """The role that permissions use: a superuser always acts as `admin`."""
        return Role.ADMIN if self.is_superuser else self.role


class Membership(models.Model):
    """Who was in which team with which role, and when (dates inclusive, in the team's zone).

    `User.team`/`User.role` say where a user is now; memberships keep the history
    that period-based rules need ("active reps at the end of the month").
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("team"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["-started_on"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(ended_on__isnull=True), name="membership_one_open_per_user"
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="membership_ends_after_start",
            ),
        ]
        indexes = [
            # teams.selectors.team_active_members: members of a team with a role on a date.
            models.Index(fields=["team", "role", "started_on"], name="membership_team_role_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.team} · {self.get_role_display()}"


class TimeOff(models.Model):
    """A stretch when someone is off (leave, sickness, training; SPEC §11): from `start` until
    `end`, exact instants; a day off runs from local midnight to midnight in the team's zone.
    Routing, round-robin and assignments by others pass a rep over while it lasts."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_off", verbose_name=_("person")
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("entered"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["start", "pk"]
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="time_off_ends_after_start"),
        ]
        indexes = [
            # teams.selectors: who is off at an instant, and a person's time off that has not ended.
            models.Index(fields=["user", "end"], name="time_off_user_end_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.start:%Y-%m-%d %H:%M} – {self.end:%Y-%m-%d %H:%M}"
