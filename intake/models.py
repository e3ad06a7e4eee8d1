"""Leads that arrive on their own (SPEC §13): hosted lead forms, inbound hooks, WhatsApp
numbers, and the inbound events every accepted post is stored as before it is processed."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class FormField(models.TextChoices):
    """What a lead form may ask besides the name (SPEC §13), in the order the form shows them."""

    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone or WhatsApp")
    COMPANY = "company", _("Company")
    NOTES = "notes", _("Message")


FORM_FIELDS = tuple(FormField.values)
# What a `json` hook's field map may fill: the lead's fields, where it came from, and the
# sender's id of the lead (its repeats create nothing new).
HOOK_TARGETS = ("name", "email", "phone", "company", "notes", "value", "external_id")


def new_key() -> str:
    """A public key of a form or hook: 192 random bits, URL-safe (SPEC §13 asks for 128)."""
    return secrets.token_urlsafe(24)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class Language(models.TextChoices):
    INDONESIAN = "id", _("Bahasa Indonesia")
    ENGLISH = "en", _("English")


class Endpoint(models.Model):
    """What a lead form and an inbound hook share: the sales team their leads are for, the
    campaign and source they carry, a switch, and the random key of their public address."""

    name = models.CharField(_("name"), max_length=100)
    team = models.ForeignKey(
        "teams.Team",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": "sales"},
        verbose_name=_("sales team"),
    )
    campaign = models.ForeignKey(
        "leads.Campaign", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("campaign")
    )
    source = models.CharField(_("source"), max_length=20, default="other")
    active = models.BooleanField(_("active"), default=True)
    key = models.CharField(_("key"), max_length=64, unique=True, default=new_key, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class LeadForm(Endpoint):
    """A hosted form whose posts become leads of a sales team, at `/f/<key>/`."""

    source = models.CharField(_("source"), max_length=20, default="web")
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.INDONESIAN)
    fields = models.JSONField(_("fields"), default=list, blank=True)
    required = models.JSONField(_("required"), default=list, blank=True)
    consent_text = models.TextField(_("consent text"), blank=True, max_length=2000)
    redirect_url = models.URLField(_("redirect to"), max_length=500, blank=True)
    allowed_origins = models.JSONField(_("allowed origins"), default=list, blank=True)

    class Meta(Endpoint.Meta):
        verbose_name = _("lead form")
        verbose_name_plural = _("lead forms")


class InboundHook(Endpoint):
    """An address marketing tools, Zapier/Make/n8n or Google Ads post leads to: `/hooks/<key>/`."""

    class Kind(models.TextChoices):
        JSON = "json", _("JSON, signed (Zapier, Make, n8n, your own code)")
        GOOGLE_ADS = "google_ads", _("Google Ads lead form")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.JSON)
    field_map = models.JSONField(_("field map"), default=dict, blank=True)
    # Signs a `json` hook's bodies; for Google Ads, the "key" pasted into the ad's lead form.
    # Shown once, when made or rotated.
    secret = models.CharField(_("secret"), max_length=100, default=new_secret, editable=False)

    class Meta(Endpoint.Meta):
        verbose_name = _("inbound hook")
        verbose_name_plural = _("inbound hooks")


class WhatsAppNumber(models.Model):
    """A WhatsApp Business number (its Cloud API `phone_number_id`) and the team its chats go to."""

    phone_number_id = models.CharField(_("phone number ID"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    team = models.ForeignKey(
        "teams.Team",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": "sales"},
        verbose_name=_("sales team"),
    )
    campaign = models.ForeignKey(
        "leads.Campaign", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("campaign")
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name", "phone_number_id"]
        verbose_name = _("WhatsApp number")
        verbose_name_plural = _("WhatsApp numbers")

    def __str__(self) -> str:
        return self.name or self.phone_number_id


class Channel(models.TextChoices):
    FORM = "form", _("Lead form")
    HOOK = "hook", _("Inbound hook")
    WHATSAPP = "whatsapp", _("WhatsApp")


class InboundEvent(models.Model):
    """One accepted post (a form's, a hook's) or WhatsApp message, stored before anything is
    made of it: the sender's id is unique per endpoint, so a repeat stores nothing new."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DONE = "done", _("New lead")
        FAILED = "failed", _("Failed, will retry")
        SPAM = "spam", _("Spam")
        TEST = "test", _("Test")
        DUPLICATE = "duplicate", _("Sent twice")
        INQUIRY = "inquiry", _("Known person")

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    # The id of the lead form, inbound hook or WhatsApp number it arrived at.
    endpoint = models.BigIntegerField(_("endpoint"))
    external_id = models.CharField(_("sender's id"), max_length=200)
    payload = models.JSONField(_("payload"), default=dict)
    # The lead's fields as the post gave them, hashed: a form sent twice in a row (a double
    # click, a reload of the thank-you page) is recognised as the first.
    fingerprint = models.CharField(max_length=64, blank=True)
    remote_addr = models.GenericIPAddressField(_("from"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("lead")
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("inbound event")
        verbose_name_plural = _("inbound events")
        constraints = [
            models.UniqueConstraint(fields=["channel", "endpoint", "external_id"], name="inbound_once_per_sender_id"),
        ]
        indexes = [
            # A form's or hook's recent events and counts; a form post sent twice (fingerprint).
            models.Index(fields=["channel", "endpoint", "-received_at"], name="inbound_endpoint_idx"),
            # process_inbound and the admins' list: the few events not yet processed.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state__in=["pending", "failed"]),
                name="inbound_unprocessed_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.external_id}"
