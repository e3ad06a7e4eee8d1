"""SLAs, their clocks, breaches, and what the sweep has evaluated.

The database holds the truth: a clock is a row with its deadline computed once
when it starts; a breach is a row with a unique key (the clock, or the volume
SLA and period), so a repeated or concurrent sweep can never record one twice.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

# Fields whose change makes a new version of an SLA: clocks already running keep the old terms.
TERM_FIELDS = (
    "target_value",
    "target_unit",
    "warn_at_percent",
    "sources",
    "min_touches",
    "window_days",
    "from_team",
    "leads_per_rep",
    "period",
    "count_rejected",
    "escalate_to_managers",
    "reassign_after",
    "reassign_after_unit",
)


class Sla(models.Model):
    class Kind(models.TextChoices):
        RESPONSE = "response", _("Response")
        CADENCE = "cadence", _("Cadence")
        VOLUME = "volume", _("Volume")
        ASSIGNMENT = "assignment", _("Assignment")

    class Unit(models.TextChoices):
        MINUTES = "minutes", _("minutes")
        HOURS = "hours", _("hours")
        BUSINESS_HOURS = "business_hours", _("business hours")
        DAYS = "days", _("days")
        BUSINESS_DAYS = "business_days", _("business days")

    class Period(models.TextChoices):
        MONTH = "month", _("Month")
        QUARTER = "quarter", _("Quarter")

    team = models.ForeignKey(
        "teams.Team",
        on_delete=models.PROTECT,
        related_name="slas",
        limit_choices_to={"kind": "sales"},
        verbose_name=_("sales team"),
    )
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # response and assignment
    target_value = models.PositiveIntegerField(
        _("target"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100_000)]
    )
    target_unit = models.CharField(_("unit"), max_length=16, choices=Unit.choices, blank=True)
    warn_at_percent = models.PositiveSmallIntegerField(
        _("warn at (percent of the time)"), default=75, validators=[MinValueValidator(1), MaxValueValidator(99)]
    )
    # cadence
    min_touches = models.PositiveSmallIntegerField(
        _("follow-ups"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    window_days = models.PositiveSmallIntegerField(
        _("within (days)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    # volume
    from_team = models.ForeignKey(
        "teams.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owed_slas",
        limit_choices_to={"kind": "marketing"},
        verbose_name=_("owed by (marketing team)"),
    )
    leads_per_rep = models.PositiveIntegerField(
        _("leads per rep"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100_000)]
    )
    period = models.CharField(_("period"), max_length=10, choices=Period.choices, blank=True)
    count_rejected = models.BooleanField(
        _("count leads rejected as duplicate or spam"),
        default=False,
    )
    sources = models.JSONField(_("sources"), default=list, blank=True, help_text=_("Empty: every source."))
    # Escalation (SPEC §12), of response and cadence SLAs: the managers hear of each breach;
    # a response clock still unanswered this long after its deadline has its lead routed again.
    escalate_to_managers = models.BooleanField(_("tell the team's managers of each breach"), default=True)
    reassign_after = models.PositiveIntegerField(
        _("route the lead again after"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100_000)],
        help_text=_("Past the deadline, still unanswered: another available rep gets the lead. Empty: never."),
    )
    reassign_after_unit = models.CharField(_("counted in"), max_length=16, choices=Unit.choices, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    active_from = models.DateTimeField(_("active since"), default=timezone.now)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["team__name", "kind", "name"]
        verbose_name = _("SLA")
        verbose_name_plural = _("SLAs")
        indexes = [
            # clocks_start: the active SLAs of a team.
            models.Index(fields=["team", "is_active"], name="sla_team_active_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind__in=["response", "assignment"]) | Q(target_value__gte=1, target_unit__gt=""),
                name="sla_response_has_target",
            ),
            models.CheckConstraint(
                condition=~Q(kind="cadence") | Q(min_touches__gte=1, window_days__gte=1),
                name="sla_cadence_has_terms",
            ),
            models.CheckConstraint(
                condition=~Q(kind="volume") | Q(from_team__isnull=False, leads_per_rep__gte=1, period__gt=""),
                name="sla_volume_has_terms",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Clock(models.Model):
    """One SLA's deadline for one assignment of one lead, with the terms frozen when it started.

    An `assignment` clock (SPEC §3.4) is the team's, not a rep's: it starts when a lead is
    created without an owner and has neither an assignment nor an owner; one per SLA and lead."""

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        MET = "met", _("Met")
        BREACHED = "breached", _("Breached")
        CANCELLED = "cancelled", _("Cancelled")

    class CancelReason(models.TextChoices):
        REASSIGNED = "reassigned", _("the lead was reassigned")
        CLOSED = "closed", _("the lead was closed")

    # No single-column indexes where a composite one below starts with the column: every
    # index is written again when the sweep changes a clock's state (bench/README.md).
    sla = models.ForeignKey(
        Sla, on_delete=models.CASCADE, related_name="clocks", verbose_name=_("SLA"), db_index=False
    )  # clock_once_per_sla_and_assignment, clock_sla_started_idx
    sla_version = models.PositiveIntegerField(_("SLA version"))
    kind = models.CharField(_("kind"), max_length=10, choices=Sla.Kind.choices)
    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.CASCADE, related_name="clocks", verbose_name=_("lead"), db_index=False
    )  # clock_lead_idx
    assignment = models.ForeignKey(
        "leads.Assignment",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="clocks",
        verbose_name=_("assignment"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clocks",
        verbose_name=_("owner"),
        db_index=False,
    )  # clock_owner_state_idx
    team = models.ForeignKey(
        "teams.Team", on_delete=models.CASCADE, related_name="clocks", verbose_name=_("team"), db_index=False
    )  # clock_team_due_idx
    started_at = models.DateTimeField(_("started"))
    due_at = models.DateTimeField(_("due"))
    warn_at = models.DateTimeField(_("at risk from"))
    required = models.PositiveSmallIntegerField(_("follow-ups required"), default=1)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.RUNNING)
    satisfied_at = models.DateTimeField(_("met at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("cancelled because"), max_length=10, choices=CancelReason.choices, blank=True)
    # A response clock whose SLA reassigns (SPEC §12): when its lead is routed again if it is
    # still unanswered then (frozen when it starts, as its deadline), and when that was done.
    reassign_at = models.DateTimeField(_("routed again at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("routed again"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        constraints = [
            models.UniqueConstraint(fields=["sla", "assignment"], name="clock_once_per_sla_and_assignment"),
            models.UniqueConstraint(
                fields=["sla", "lead"], condition=Q(kind="assignment"), name="clock_assignment_once_per_lead"
            ),
            models.CheckConstraint(
                condition=Q(kind="assignment") | Q(assignment__isnull=False, owner__isnull=False),
                name="clock_rep_has_assignment",
            ),
        ]
        indexes = [
            # The sweep: running clocks that fell due (partial: only running clocks are indexed).
            models.Index(fields=["due_at"], name="clock_running_due_idx", condition=Q(state="running")),
            # The lead page and the lead API's sla_status: clocks of a lead.
            models.Index(fields=["lead", "started_at"], name="clock_lead_idx"),
            # The queue: a rep's running clocks by deadline.
            models.Index(fields=["owner", "state", "due_at"], name="clock_owner_state_idx"),
            # SLA page and compliance: clocks of an SLA by start.
            models.Index(fields=["sla", "started_at"], name="clock_sla_started_idx"),
            # Scorecards' and the KPIs' compliance: a team's clocks that fell due in a period,
            # answered from the index alone (kind and state carried along).
            models.Index(fields=["team", "due_at"], include=["kind", "state"], name="clock_team_due_idx"),
            # The at-risk notices: running clocks by the instant they fall at risk.
            models.Index(fields=["warn_at"], name="clock_running_warn_idx", condition=Q(state="running")),
            # The sweep's escalation: breached clocks whose lead is to be routed again.
            models.Index(
                fields=["reassign_at"],
                name="clock_reassign_idx",
                condition=Q(reassign_at__isnull=False, escalated_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sla} · {self.lead}"


class Breach(models.Model):
    """A promise of an SLA that was not kept: who owed it, when it fell due, what was expected."""

    # As for clocks: no single-column index where a composite one starts with the column.
    sla = models.ForeignKey(
        Sla, on_delete=models.CASCADE, related_name="breaches", verbose_name=_("SLA"), db_index=False
    )  # breach_sla_due_idx
    sla_version = models.PositiveIntegerField(_("SLA version"))
    kind = models.CharField(_("kind"), max_length=10, choices=Sla.Kind.choices)
    clock = models.OneToOneField(
        Clock, on_delete=models.CASCADE, null=True, blank=True, related_name="breach", verbose_name=_("clock")
    )
    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.CASCADE, null=True, blank=True, related_name="breaches", verbose_name=_("lead")
    )
    team = models.ForeignKey(
        "teams.Team", on_delete=models.CASCADE, related_name="breaches", verbose_name=_("team"), db_index=False
    )  # breach_team_due_idx
    responsible_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="breaches",
        verbose_name=_("responsible"),
        db_index=False,
    )  # breach_user_due_idx
    responsible_team = models.ForeignKey(
        "teams.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="owed_breaches",
        verbose_name=_("responsible team"),
    )
    period_start = models.DateField(_("period starts"), null=True, blank=True)
    period_end = models.DateField(_("period ends"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"))
    detected_at = models.DateTimeField(_("detected"))
    expected = models.PositiveIntegerField(_("expected"))
    actual = models.PositiveIntegerField(_("actual"))
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    waived = models.BooleanField(_("waived"), default=False)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("waived by"),
    )
    waived_at = models.DateTimeField(_("waived at"), null=True, blank=True)
    waived_reason = models.TextField(_("reason for waiving"), blank=True, max_length=2000)
    # When the people it concerns were told (notifications.services.breaches_notify); empty
    # until then, so a job that died before telling them picks it up on its next run.
    notified_at = models.DateTimeField(_("notified"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["notified_at"])

    class Meta:
        ordering = ["-due_at", "-id"]
        verbose_name = _("breach")
        verbose_name_plural = _("breaches")
        constraints = [
            # One breach per volume SLA and period (clock breaches are unique by clock).
            models.UniqueConstraint(
                fields=["sla", "period_start"], condition=Q(clock__isnull=True), name="breach_once_per_volume_period"
            ),
        ]
        indexes = [
            # Breach list of a team, newest first; compliance by period.
            models.Index(fields=["team", "-due_at"], name="breach_team_due_idx"),
            # A rep's breaches; the weekly digest by rep.
            models.Index(fields=["responsible_user", "-due_at"], name="breach_user_due_idx"),
            # SLA page: breaches of an SLA.
            models.Index(fields=["sla", "-due_at"], name="breach_sla_due_idx"),
            # The notifier: breaches nobody was told of yet (a handful between two sweeps).
            models.Index(fields=["id"], condition=Q(notified_at__isnull=True), name="breach_not_notified_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sla} · {self.due_at:%Y-%m-%d}"


class VolumeEvaluation(models.Model):
    """A volume SLA's period that the sweep has judged (met or breached): never judged twice."""

    sla = models.ForeignKey(Sla, on_delete=models.CASCADE, related_name="evaluations")
    period_start = models.DateField()
    period_end = models.DateField()
    expected = models.PositiveIntegerField()
    delivered = models.PositiveIntegerField()
    evaluated_at = models.DateTimeField()

    class Meta:
        ordering = ["sla", "period_start"]
        constraints = [models.UniqueConstraint(fields=["sla", "period_start"], name="volume_evaluated_once")]

    def __str__(self) -> str:
        return f"{self.sla} · {self.period_start:%Y-%m-%d}"


class Delivery(models.Model):
    """One e-mail to one person, claimed before it is sent and marked after: sent at most once.

    A digest is unique per (recipient, ISO week). The notifications of a few minutes go out
    as one (`notices`): each notification names the delivery that carries it. Reminders and
    "nobody available" alerts were e-mails of their own before notifications. A password
    reset carries its message, made in the request that asked for it.
    """

    class Kind(models.TextChoices):
        DIGEST = "digest", _("Weekly digest")
        REMINDER = "reminder", _("At-risk reminder")
        NO_REP = "no_rep", _("Nobody available for a lead")
        NOTICES = "notices", _("Notifications")
        PASSWORD_RESET = "reset", _("Password reset")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed, will retry")
        SKIPPED = "skipped", _("Nothing to send")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("recipient")
    )
    week_start = models.DateField(_("week of"), null=True, blank=True)
    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders")
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    # A message made when it was asked for (a password reset link): kept until it is sent,
    # then emptied, so that no working link lies in the database.
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"), blank=True)
    html = models.TextField(_("HTML body"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("e-mail delivery")
        verbose_name_plural = _("e-mail deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "week_start"], condition=Q(kind="digest"), name="digest_once_per_week"
            ),
            models.UniqueConstraint(
                fields=["recipient", "clock"], condition=Q(kind="reminder"), name="reminder_once_per_clock"
            ),
            models.UniqueConstraint(
                fields=["recipient", "lead"], condition=Q(kind="no_rep"), name="no_rep_once_per_lead"
            ),
        ]
        indexes = [
            # The sender: deliveries waiting (or due for a retry).
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.recipient}"


class SweepLease(models.Model):
    """The sweep's bookkeeping row: on SQLite a lease that lets one sweep run at a time (an
    expired lease, a killed worker's, is taken over); everywhere the resume point of a full run."""

    name = models.CharField(max_length=40, primary_key=True)
    holder = models.CharField(max_length=64, blank=True)
    until = models.DateTimeField(null=True, blank=True)
    # The first clock id a full re-check has still to do: written with each chunk's
    # breaches (one transaction), so a killed full run resumes there; empty when none is unfinished.
    full_next = models.BigIntegerField(null=True, blank=True)
    # Up to when the reps of clocks that fell at risk have been told: the next sweep tells of
    # those that fell at risk since (notifications.services.clocks_at_risk_notify).
    at_risk_told_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
