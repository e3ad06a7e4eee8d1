"""KPIs, their targets and manual measurements, and the stored team scorecards."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from salesmarketing.limits import DAY_VALIDATORS, SignificantDigitsValidator


class Metric(models.TextChoices):
    LEADS_CREATED = "leads_created", _("Leads created")
    LEADS_GROWTH = "leads_growth", _("Lead growth vs the previous period")
    LEAD_TO_QUALIFIED_RATE = "lead_to_qualified_rate", _("Lead-to-qualified rate")
    LEAD_TO_WON_RATE = "lead_to_won_rate", _("Lead-to-won rate")
    REVENUE_WON = "revenue_won", _("Revenue won")
    CAMPAIGN_ROI = "campaign_roi", _("Campaign ROI")
    REPEAT_CUSTOMER_RATE = "repeat_customer_rate", _("Repeat customer rate")
    MEDIAN_FIRST_RESPONSE_HOURS = "median_first_response_hours", _("Median first response (hours)")
    RESPONSE_SLA_COMPLIANCE = "response_sla_compliance", _("Response SLA compliance")
    CADENCE_SLA_COMPLIANCE = "cadence_sla_compliance", _("Cadence SLA compliance")
    REJECTION_RATE = "rejection_rate", _("Rejection rate")
    MEDIAN_TIME_TO_ASSIGN_HOURS = "median_time_to_assign_hours", _("Median time to assign (hours)")
    ASSIGNMENT_SLA_COMPLIANCE = "assignment_sla_compliance", _("Assignment SLA compliance")
    MANUAL = "manual", _("Manual (entered or imported)")


class Kpi(models.Model):
    class Aggregation(models.TextChoices):
        SUM = "sum", _("Sum of the period's values")
        AVERAGE = "average", _("Average of the period's values")
        LATEST = "latest", _("Latest value in the period")

    name = models.CharField(_("name"), max_length=120)
    metric = models.CharField(_("metric"), max_length=40, choices=Metric.choices)
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    aggregation = models.CharField(
        _("for manual values"), max_length=10, choices=Aggregation.choices, default=Aggregation.SUM
    )
    team = models.ForeignKey(
        "teams.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="kpis",
        verbose_name=_("defined by team"),
        help_text=_("Empty: a company KPI."),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("KPI")
        verbose_name_plural = _("KPIs")

    def __str__(self) -> str:
        return self.name


class Target(models.Model):
    """A SMART goal: a KPI's target for a team, a user or the company over a period."""

    class Period(models.TextChoices):
        MONTH = "month", _("Month")
        QUARTER = "quarter", _("Quarter")
        YEAR = "year", _("Year")

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="targets", verbose_name=_("KPI"))
    team = models.ForeignKey(
        "teams.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="targets", verbose_name=_("team")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="targets",
        verbose_name=_("person"),
    )
    period = models.CharField(_("period"), max_length=10, choices=Period.choices, default=Period.QUARTER)
    period_start = models.DateField(_("from"), validators=DAY_VALIDATORS)
    period_end = models.DateField(_("until (inclusive)"), validators=DAY_VALIDATORS)
    target = models.DecimalField(
        _("target"),
        max_digits=18,
        decimal_places=4,
        validators=[MinValueValidator(0, _("A target cannot be negative.")), SignificantDigitsValidator()],
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-period_start", "kpi__name"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="target_period_ordered"),
            models.CheckConstraint(
                condition=Q(team__isnull=True) | Q(user__isnull=True), name="target_team_or_user_or_company"
            ),
        ]
        indexes = [
            # Dashboard: targets in force for a team or a user on a date.
            models.Index(fields=["team", "period_start", "period_end"], name="target_team_period_idx"),
            models.Index(fields=["user", "period_start", "period_end"], name="target_user_period_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kpi} · {self.period_start:%Y-%m-%d}"


class Measurement(models.Model):
    """A value of a manual KPI on a date (website visitors, a survey's satisfaction score)."""

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="measurements", verbose_name=_("KPI"))
    team = models.ForeignKey(
        "teams.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("team")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("person"),
    )
    date = models.DateField(_("date"), validators=DAY_VALIDATORS)
    value = models.DecimalField(_("value"), max_digits=18, decimal_places=4, validators=[SignificantDigitsValidator()])
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-date"]
        verbose_name = _("measurement")
        verbose_name_plural = _("measurements")
        indexes = [
            # Manual KPI actuals: a KPI's values in a date range.
            models.Index(fields=["kpi", "date"], name="measurement_kpi_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kpi} {self.date:%Y-%m-%d}: {self.value}"


class Scorecard(models.Model):
    """A team's figures for a month or quarter, computed by a job and stored (cheap history)."""

    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="scorecards", verbose_name=_("team"))
    period = models.CharField(_("period"), max_length=10, choices=Target.Period.choices)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until (inclusive)"))
    computed_at = models.DateTimeField(_("computed"))
    metrics = models.JSONField(_("metrics"), default=dict)
    # Set when something changed the card's figures after it was computed (a rejection
    # overturned, SPEC §15); `kpis.scorecards.scorecards_refresh` recomputes it and clears it.
    stale_at = models.DateTimeField(_("to recompute since"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-period_start", "team__name"]
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        constraints = [
            models.UniqueConstraint(fields=["team", "period", "period_start"], name="scorecard_once_per_period"),
        ]
        indexes = [
            # The refresh job: the few cards waiting to be recomputed (none, most runs).
            models.Index(fields=["stale_at"], condition=Q(stale_at__isnull=False), name="scorecard_stale_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.team} · {self.period_start:%Y-%m-%d}"
