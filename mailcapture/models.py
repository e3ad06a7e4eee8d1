"""E-mail capture (SPEC §14): the mailbox reps BCC or forward to, read incrementally, and
every message read from it, kept with what became of it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Mailbox(models.Model):
    """Where the capture run stands in one mailbox: what it has read (UIDVALIDITY and the last
    UID), whether a run holds it, and how its last run went."""

    address = models.CharField(_("mailbox"), max_length=500, unique=True, help_text=_("Its URL, without password."))
    uidvalidity = models.BigIntegerField(_("UIDVALIDITY"), null=True, blank=True)
    last_uid = models.BigIntegerField(_("last UID read"), default=0)
    # A run holds the mailbox until then (a conditional UPDATE takes it); a run that died
    # lets go when the time has passed.
    leased_until = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    read_at = models.DateTimeField(_("last read without error"), null=True, blank=True)
    error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("capture mailbox")
        verbose_name_plural = _("capture mailboxes")

    def __str__(self) -> str:
        return self.address


class CapturedMail(models.Model):
    """One message read from the mailbox: stored as read (its summary), then processed."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        CAPTURED = "captured", _("Follow-ups logged")
        INQUIRY = "inquiry", _("A lead wrote again")
        REPEAT = "repeat", _("Already captured")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed (retried)")

    class Reason(models.TextChoices):
        UNKNOWN_SENDER = "unknown_sender", _("The sender is neither a user nor a lead.")
        TWO_SENDERS = "two_senders", _("The message names more than one sender.")
        NO_LEAD = "no_lead", _("No lead’s address among the recipients.")
        NOT_THEIRS = "not_theirs", _("The leads it was sent to are not the sender’s to log on.")
        NO_USER = "no_user", _("From a lead, but to nobody who uses Selaras.")
        TOO_LARGE = "too_large", _("Larger than the capture limit.")
        MALFORMED = "malformed", _("The message could not be read.")

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="mails", db_index=False)
    uidvalidity = models.BigIntegerField()
    uid = models.BigIntegerField()
    message_id = models.CharField(_("message id"), max_length=255, blank=True)
    sender = models.CharField(_("from"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    arrived_at = models.DateTimeField(_("arrived"))
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    # What was read (senders, recipients, forwarded messages, invitation, text): the
    # processing works from it, so a retry needs no second download.
    summary = models.JSONField(default=dict, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices, blank=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    touches = models.PositiveIntegerField(_("follow-ups logged"), default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    read_at = models.DateTimeField(_("read"), default=timezone.now)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        ordering = ["-read_at", "-id"]
        verbose_name = _("captured e-mail")
        verbose_name_plural = _("captured e-mails")
        constraints = [
            # A message read twice (a repeated or concurrent run) is one row.
            models.UniqueConstraint(fields=["mailbox", "uidvalidity", "uid"], name="captured_mail_uid_uniq"),
        ]
        indexes = [
            # The admins' list, newest first, by state (skipped, failed).
            models.Index(fields=["state", "-read_at"], name="captured_mail_state_idx"),
            # An inquiry captured twice (BCC and forward): the same message id seen before.
            models.Index(fields=["message_id"], name="captured_mail_message_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sender}: {self.subject}"
