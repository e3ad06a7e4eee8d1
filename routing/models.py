"""Routing rules and the decisions they made (SPEC §11).

A sales team's rules are tried in `position` order; the first active one whose conditions
match a new lead and that has an available member under its caps picks the owner by its
method. The engine (`leads.services.routing`) writes a `Decision` for every lead it routes.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from salesmarketing.limits import MONEY


class Method(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("In turn")
    WEIGHTED = "weighted", _("By weight")
    LEAST_OPEN = "least_open", _("Fewest open leads")


class Rule(models.Model):
    """Conditions on a new lead (all must hold; an empty one holds for any lead), the reps who
    may get it and how one of them is chosen, and caps on what each may get."""

    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="routing_rules")
    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)
    sources = models.JSONField(_("sources"), default=list, blank=True)
    campaigns = models.ManyToManyField("leads.Campaign", blank=True, related_name="+", verbose_name=_("campaigns"))
    min_value = models.DecimalField(
        _("minimum deal value"), **MONEY, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    email_domains = models.JSONField(_("e-mail domains"), default=list, blank=True)
    method = models.CharField(_("method"), max_length=12, choices=Method.choices, default=Method.ROUND_ROBIN)
    cap_per_day = models.PositiveIntegerField(
        _("new leads per rep a day"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    cap_open = models.PositiveIntegerField(
        _("open leads per rep"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    # The rule's turn counter: a member's `last_turn` is its value when they last got a lead.
    turns = models.PositiveBigIntegerField(default=0, editable=False)
    # By weight: the pass of the member chosen last (stride scheduling's virtual time).
    clock = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["turns", "clock"])

    class Meta:
        ordering = ["team", "position", "pk"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="routing_rule_name_once_per_team")]
        indexes = [
            # The engine: a team's active rules in order.
            models.Index(fields=["team", "active", "position"], name="routing_rule_team_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    """A rep who may get a rule's leads, with their weight (used by `weighted` only) and the
    rule's bookkeeping of their turns."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    weight = models.PositiveIntegerField(
        _("weight"), default=1, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    # By weight (stride scheduling): the member with the lowest pass is chosen and moves on by
    # STRIDE / weight, so shares follow the weights evenly; a pass left behind while away
    # counts as the rule's clock, so a rep back from leave gets one lead, not a pile.
    current = models.PositiveBigIntegerField(default=0)
    last_turn = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["rule", "pk"]
        constraints = [models.UniqueConstraint(fields=["rule", "user"], name="routing_member_once_per_rule")]

    def __str__(self) -> str:
        return f"{self.rule} · {self.user}"


class Trigger(models.TextChoices):
    CREATED = "created", _("New lead")
    MANUAL = "manual", _("By a manager")
    ESCALATION = "escalation", _("Escalation")
    DISPUTE = "dispute", _("Dispute overturned")


class Step(models.TextChoices):
    STICKY = "sticky", _("Same person as before")
    RULE = "rule", _("Rule")
    DEFAULT = "default", _("Team in turn")
    NONE = "none", _("Nobody available")


class Skip(models.TextChoices):
    """Why a candidate was passed over."""

    AWAY = "away", _("away")
    TIME_OFF = "time_off", _("time off")
    INACTIVE = "inactive", _("inactive")
    CAP_PER_DAY = "cap_per_day", _("daily cap reached")
    CAP_OPEN = "cap_open", _("open-lead cap reached")
    EXCLUDED = "excluded", _("excluded")


class Decision(models.Model):
    """Why a lead went to whom: what set routing off, which step decided, the rule and method,
    the owner (none: nobody could take it), and every candidate passed over with the reason."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="routing_decisions")
    created_at = models.DateTimeField(_("when"))
    trigger = models.CharField(_("trigger"), max_length=12, choices=Trigger.choices)
    step = models.CharField(_("step"), max_length=8, choices=Step.choices)
    rule = models.ForeignKey(Rule, on_delete=models.SET_NULL, null=True, blank=True, related_name="decisions")
    rule_name = models.CharField(_("rule"), max_length=120, blank=True)  # kept when the rule is deleted
    method = models.CharField(_("method"), max_length=12, choices=Method.choices, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    skipped = models.JSONField(_("passed over"), default=list, blank=True)  # [{"user": id, "reason": Skip}]
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("routing decision")
        verbose_name_plural = _("routing decisions")
        indexes = [
            # A lead's decisions, newest first (its timeline, leads/{id}/routing/).
            models.Index(fields=["lead", "-created_at"], name="routing_decision_lead_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} · {self.get_step_display()} · {self.owner_id or '-'}"
