"""Campaigns, leads, their assignments, follow-ups (touches), rejections and their disputes, and
status changes."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from salesmarketing.limits import DAY_VALIDATORS, MONEY


class Source(models.TextChoices):
    WEB = "web", _("Website")
    EVENT = "event", _("Event")
    REFERRAL = "referral", _("Referral")
    ADS = "ads", _("Ads")
    CONTENT = "content", _("Content")
    OUTBOUND = "outbound", _("Outbound")
    WHATSAPP = "whatsapp", _("WhatsApp")
    OTHER = "other", _("Other")


class ArrivedVia(models.TextChoices):
    """How a lead entered Selaras (SPEC §2): set when it is created, never changed."""

    MANUAL = "manual", _("Entered by hand")
    IMPORT = "import", _("CSV import")
    API = "api", _("API")
    FORM = "form", _("Lead form")
    HOOK = "hook", _("Inbound hook")
    WHATSAPP = "whatsapp", _("WhatsApp")


# The keys of a lead's `attribution` (SPEC §2): where it came from, as its form, hook or
# WhatsApp message told; empty strings when unknown.
ATTRIBUTION_KEYS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "gclid",
    "fbclid",
    "ctwa_clid",
    "page_url",
    "referrer",
)


def attribution_empty() -> dict[str, str]:
    return dict.fromkeys(ATTRIBUTION_KEYS, "")


class Status(models.TextChoices):
    NEW = "new", _("New")
    WORKING = "working", _("Working")
    QUALIFIED = "qualified", _("Qualified")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")
    REJECTED = "rejected", _("Rejected")


# The pipeline's order: a move to a higher stage is forward; closed states share the last stage.
STAGE = {Status.NEW: 0, Status.WORKING: 1, Status.QUALIFIED: 2, Status.WON: 3, Status.LOST: 3, Status.REJECTED: 3}
CLOSED = frozenset({Status.WON, Status.LOST, Status.REJECTED})
OPEN = frozenset({Status.NEW, Status.WORKING, Status.QUALIFIED})
# A lead that got this far counts as qualified in conversion figures, whatever came after.
REACHED_QUALIFIED = (Status.QUALIFIED, Status.WON)


class Campaign(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SOCIAL = "social", _("Social media")
        SEARCH = "search", _("Search ads")
        DISPLAY = "display", _("Display ads")
        EVENTS = "events", _("Events")
        CONTENT = "content", _("Content")
        PARTNERS = "partners", _("Partners")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.OTHER)
    start_date = models.DateField(_("starts"), validators=DAY_VALIDATORS)
    end_date = models.DateField(_("ends"), null=True, blank=True, validators=DAY_VALIDATORS)
    spend = models.DecimalField(_("spend"), **MONEY, default=0, validators=[MinValueValidator(0)])
    currency = models.CharField(_("currency"), max_length=3, default="IDR")
    utm_campaign = models.CharField(
        _("utm_campaign"),
        max_length=200,
        blank=True,
        help_text=_("The name its ads and links carry as utm_campaign: form leads that carry it join the campaign."),
    )
    team = models.ForeignKey(
        "teams.Team",
        on_delete=models.PROTECT,
        related_name="campaigns",
        limit_choices_to={"kind": "marketing"},
        verbose_name=_("marketing team"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-start_date", "name"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="campaign_name_unique_per_team"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")), name="campaign_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(spend__gte=0), name="campaign_spend_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class Lead(models.Model):
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    # A number stored before phones were kept in E.164 that could not be read as one: kept as
    # it was, and shown as to be corrected (the migration of 8 December 2026).
    phone_unreadable = models.BooleanField(_("phone to correct"), default=False, editable=False)
    company = models.CharField(_("company"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.OTHER)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="leads", verbose_name=_("campaign")
    )
    team = models.ForeignKey(
        "teams.Team",
        on_delete=models.PROTECT,
        related_name="leads",
        limit_choices_to={"kind": "sales"},
        verbose_name=_("sales team"),
        db_index=False,  # lead_team_created_idx and the other team indexes start with it
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_leads",
        verbose_name=_("owner"),
        db_index=False,  # lead_owner_status_idx starts with it
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NEW)
    arrived_via = models.CharField(
        _("arrived via"), max_length=10, choices=ArrivedVia.choices, default=ArrivedVia.MANUAL, editable=False
    )
    attribution = models.JSONField(_("attribution"), default=attribution_empty, blank=True, editable=False)
    value = models.DecimalField(_("deal value"), **MONEY, null=True, blank=True, validators=[MinValueValidator(0)])
    notes = models.TextField(_("notes"), blank=True, max_length=5000)
    # The consent a lead form asked for (SPEC §13): the words the person agreed to, and when.
    consent_text = models.TextField(_("consent given to"), blank=True, editable=False)
    consent_at = models.DateTimeField(_("consent given"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Facts of the lead's history kept for the scorecards, which read them for hundreds of
    # thousands of leads at once (kpis.grouped): derived from the assignments, follow-ups and
    # status changes, by the services that write those (leads.services.lead_facts_refresh).
    first_assigned_at = models.DateTimeField(_("first assigned"), null=True, blank=True, editable=False)
    first_response_at = models.DateTimeField(
        _("first follow-up after the first assignment"), null=True, blank=True, editable=False
    )
    reached_qualified = models.BooleanField(_("reached qualified"), default=False, editable=False)
    # Facts and the consent are written once by the services, never edited: no history of them.
    history = HistoricalRecords(
        excluded_fields=["first_assigned_at", "first_response_at", "reached_qualified", "consent_text", "consent_at"]
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            # Lead list and API of a team, newest first: the page's ids come from this index
            # alone (the id breaks ties, as the list orders); volume SLA: leads of a team
            # created in a period. On PostgreSQL it also carries status and source (INCLUDE,
            # migration 0012), so the volume counts read the index alone.
            models.Index(fields=["team", "-created_at", "-id"], name="lead_team_created_idx"),
            # The rep's queue and "my leads": a rep's leads by status.
            models.Index(fields=["owner", "status"], name="lead_owner_status_idx"),
            # Likely duplicates: same (lower-cased) e-mail within a team.
            models.Index(fields=["team", "email"], name="lead_team_email_idx"),
            # E-mail capture: the leads of the addresses in a batch of messages, in every team.
            models.Index(fields=["email"], name="lead_email_idx"),
            # Insights and filters: leads by status within a team.
            models.Index(fields=["team", "status"], name="lead_team_status_idx"),
            # A known person getting in touch again (intake): the team's lead with that phone.
            models.Index(fields=["team", "phone"], name="lead_team_phone_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(value__isnull=True) | Q(value__gte=0), name="lead_value_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.company})" if self.company else self.name

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED


class Assignment(models.Model):
    """One owner of a lead, from `assigned_at` until `ended_at` (a reassignment or unassignment)."""

    # Indexed by assignment_lead_idx and assignment_owner_idx, which start with them.
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("lead"), db_index=False
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name=_("owner"),
        db_index=False,
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned by"),
    )
    assigned_at = models.DateTimeField(_("assigned"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        ordering = ["assigned_at", "id"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        indexes = [
            # Timeline of a lead; the current assignment of a lead.
            models.Index(fields=["lead", "assigned_at"], name="assignment_lead_idx"),
            # Round-robin: the latest assignment in a team (joined through lead).
            models.Index(fields=["owner", "-assigned_at"], name="assignment_owner_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["lead"], condition=Q(ended_at__isnull=True), name="assignment_one_current_per_lead"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead} → {self.owner}"


class Touch(models.Model):
    """A follow-up: a call, e-mail, meeting, message or social touch with a lead."""

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        EMAIL = "email", _("E-mail")
        MEETING = "meeting", _("Meeting")
        MESSAGE = "message", _("Message")
        SOCIAL = "social", _("Social")

    class Outcome(models.TextChoices):
        CONNECTED = "connected", _("Connected")
        NO_ANSWER = "no_answer", _("No answer")
        VOICEMAIL = "voicemail", _("Voicemail")
        REPLIED = "replied", _("Replied")
        MEETING_BOOKED = "meeting_booked", _("Meeting booked")
        OTHER = "other", _("Other")

    class Origin(models.TextChoices):
        """How the touch reached the record: typed in, or captured where the work was done."""

        MANUAL = "manual", _("Entered by hand")
        CLICK = "click", _("Logged by a tap")
        EMAIL = "email", _("Captured from e-mail")
        WHATSAPP = "whatsapp", _("From WhatsApp")
        API = "api", _("Through the API")
        IMPORT = "import", _("Imported")

    # Indexed by touch_lead_occurred_idx and touch_user_occurred_idx, which start with them.
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="touches", verbose_name=_("lead"), db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="touches", verbose_name=_("by"), db_index=False
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("when"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=5000)
    origin = models.CharField(_("captured by"), max_length=10, choices=Origin.choices, default=Origin.MANUAL)
    external_id = models.CharField(
        _("message id"),
        max_length=255,
        blank=True,
        help_text=_("The id of the message it came from: the same message captured twice is one follow-up."),
    )
    created_at = models.DateTimeField(_("logged"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        constraints = [
            # A message captured twice (BCC and forward, a repeated run, an API retry) is one touch.
            models.UniqueConstraint(
                fields=["lead", "external_id"], condition=~models.Q(external_id=""), name="touch_lead_external_id_uniq"
            ),
        ]
        indexes = [
            # Timeline of a lead; SLA clocks: touches of a lead in [assigned_at, due_at].
            models.Index(fields=["lead", "occurred_at"], name="touch_lead_occurred_idx"),
            # A rep's activity in a period (scorecards, leaderboard).
            models.Index(fields=["user", "occurred_at"], name="touch_user_occurred_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.lead}"


class TouchTally(models.Model):
    """How many follow-ups fell in an hour (UTC) on the leads of one sales team, campaign
    team and creator, and how many of them were not typed by hand: the scorecards' follow-up
    counts for a quarter read these instead of millions of follow-ups (kpis.grouped). Kept by
    the services that write follow-ups and move leads between campaigns or campaigns between
    teams (leads.services.tallies); the creator's team is read from the creator at the time of
    reading, so a person changing teams moves nothing. No team, no creator: 0."""

    hour = models.DateTimeField(_("hour"))
    team = models.ForeignKey(
        "teams.Team", on_delete=models.CASCADE, related_name="+", verbose_name=_("team"), db_index=False
    )
    campaign_team_id = models.IntegerField(_("campaign's team"), default=0)
    creator_id = models.IntegerField(_("created by"), default=0)
    touches = models.IntegerField(_("follow-ups"), default=0)
    captured = models.IntegerField(_("captured follow-ups"), default=0)

    class Meta:
        verbose_name = _("follow-up tally")
        verbose_name_plural = _("follow-up tallies")
        constraints = [
            # One row a key: what the counting statements add to (ON CONFLICT); it starts with
            # the hour, so it also serves the scorecards' range of hours.
            models.UniqueConstraint(
                fields=["hour", "team", "campaign_team_id", "creator_id"], name="touch_tally_key_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00} · {self.touches}"


class Rejection(models.Model):
    """Sales sends a lead back to Marketing with a reason: the feedback loop."""

    class Reason(models.TextChoices):
        DUPLICATE = "duplicate", _("Duplicate")
        SPAM = "spam", _("Spam")
        NOT_ICP = "not_icp", _("Not our ideal customer")
        BAD_CONTACT = "bad_contact", _("Bad contact details")
        OTHER = "other", _("Other")

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="rejections", verbose_name=_("lead"), db_index=False
    )  # rejection_lead_idx
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("when"))
    # A dispute overturned it (SPEC §15): it stays on record, but leaves Marketing's rejection
    # figures and the volume SLA's exclusions.
    overturned_at = models.DateTimeField(_("overturned"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("rejection")
        verbose_name_plural = _("rejections")
        indexes = [
            # Timeline of a lead; latest rejection reason per lead (insights).
            models.Index(fields=["lead", "at"], name="rejection_lead_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} · {self.lead}"


# How long after a rejection Marketing may dispute it (SPEC §15): up to and including this much later.
DISPUTE_WINDOW = timedelta(days=14)


class Dispute(models.Model):
    """Marketing disputes a rejection within 14 days of it; the sales team's manager (or an
    admin) rules on it (SPEC §15). Overturned, the rejection no longer counts against
    Marketing and the lead goes back to Sales."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        UPHELD = "upheld", _("Rejection upheld")
        OVERTURNED = "overturned", _("Rejection overturned")

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="disputes", verbose_name=_("lead"), db_index=False
    )  # dispute_lead_idx
    # Its disputes, and whether one is open (dispute_one_open_per_rejection for the open one).
    rejection = models.ForeignKey(
        Rejection, on_delete=models.CASCADE, related_name="disputes", verbose_name=_("rejection")
    )
    # The API's `raised_by` filter; a marketing team's scorecard counts its people's disputes.
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("raised by")
    )
    raised_at = models.DateTimeField(_("raised"))
    note = models.TextField(_("why the rejection is wrong"), max_length=2000)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    ruled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ruled by"),
        db_index=False,  # never looked up by; a user with rulings is kept (PROTECT), not deleted
    )
    ruled_at = models.DateTimeField(_("ruled"), null=True, blank=True)
    ruling_note = models.TextField(_("reason for the ruling"), blank=True, max_length=2000)

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        constraints = [
            # One open dispute per rejection, even for two raised at once; a ruled one may be
            # followed by another while the rejection is still within its window.
            models.UniqueConstraint(
                fields=["rejection"], condition=Q(state="open"), name="dispute_one_open_per_rejection"
            ),
            models.CheckConstraint(
                condition=Q(state="open", ruled_at__isnull=True) | (~Q(state="open") & Q(ruled_at__isnull=False)),
                name="dispute_ruled_unless_open",
            ),
        ]
        indexes = [
            # The lead's timeline and its page's dispute card; the API's `lead` filter.
            models.Index(fields=["lead", "raised_at"], name="dispute_lead_idx"),
            # The disputes page and API, newest first; scorecards: disputes raised in a period.
            models.Index(fields=["-raised_at", "-id"], name="dispute_raised_idx"),
            # The disputes page's "open" filter, newest first.
            models.Index(fields=["-raised_at"], condition=Q(state="open"), name="dispute_open_idx"),
            # Scorecards: disputes overturned in a period.
            models.Index(fields=["ruled_at"], condition=Q(state="overturned"), name="dispute_overturned_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_state_display()} · {self.lead}"


class ImportBatch(models.Model):
    """An uploaded CSV between its preview and its import, and the record of who imported what."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="+", verbose_name=_("team"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    filename = models.CharField(_("file"), max_length=255)
    content = models.BinaryField(_("content"), blank=True)  # emptied once imported
    rows = models.PositiveIntegerField(_("rows"), default=0)
    imported_at = models.DateTimeField(_("imported"), null=True, blank=True)
    created = models.PositiveIntegerField(_("leads created"), default=0)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return self.filename


class StatusChange(models.Model):
    """Every move of a lead through the pipeline, for the timeline and conversion figures."""

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="status_changes", verbose_name=_("lead"), db_index=False
    )  # statuschange_lead_idx
    from_status = models.CharField(_("previous status"), max_length=12, choices=Status.choices)
    to_status = models.CharField(_("new status"), max_length=12, choices=Status.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("when"))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        indexes = [
            # Timeline of a lead; "reached qualified in a period" (KPIs).
            models.Index(fields=["lead", "at"], name="statuschange_lead_idx"),
            models.Index(fields=["to_status", "at"], name="statuschange_to_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.lead}: {self.from_status} → {self.to_status}"


class Inquiry(models.Model):
    """A known person got in touch again about an open lead (a form, a hook, WhatsApp, an
    e-mail): on the lead's timeline with their message, instead of a second lead."""

    class Channel(models.TextChoices):
        FORM = "form", _("Lead form")
        HOOK = "hook", _("Inbound hook")
        WHATSAPP = "whatsapp", _("WhatsApp")
        EMAIL = "email", _("E-mail")

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="inquiries", verbose_name=_("lead"), db_index=False
    )  # inquiry_lead_idx
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    message = models.TextField(_("message"), blank=True, max_length=5000)
    at = models.DateTimeField(_("when"))
    # The id of the message it came from, where it has one (an e-mail's Message-ID).
    external_id = models.CharField(_("message id"), max_length=255, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("inquiry")
        verbose_name_plural = _("inquiries")
        constraints = [
            # A message read twice (a copy and a rep's forward of it) is one inquiry.
            models.UniqueConstraint(
                fields=["lead", "external_id"],
                condition=~models.Q(external_id=""),
                name="inquiry_lead_external_id_uniq",
            ),
        ]
        indexes = [
            # Timeline of a lead.
            models.Index(fields=["lead", "at"], name="inquiry_lead_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.lead}"
