"""Inbound events (SPEC §13): stored first, in a transaction of their own, then processed:
a new lead routed and on its clocks, an inquiry on a known person's open lead, or nothing
(spam, a test, the same post twice). A processing failure leaves the event `failed` for
`process_inbound`; nothing accepted is lost."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q

from intake import reading
from intake.models import Channel, InboundEvent, InboundHook, LeadForm, WhatsAppNumber
from intake.reading import Arrival
from leads import selectors as leads_selectors
from leads import services as leads_services
from leads.models import Campaign, Inquiry, Lead
from leads.phones import phone_e164

logger = logging.getLogger(__name__)
State = InboundEvent.State
# A form's post sent again this soon with the same details (a double click, a reload of the
# thank-you page) is the first one again, not an inquiry.
SENT_TWICE_WITHIN = timedelta(minutes=10)
# A failed event is tried again after 1, 2, 4 … minutes, at most an hour apart, for ever:
# once the cause is fixed, the next run makes its lead.
RETRY_AT_MOST = timedelta(hours=1)
ENDPOINTS = {Channel.FORM: LeadForm, Channel.HOOK: InboundHook, Channel.WHATSAPP: WhatsAppNumber}


def event_store(
    *,
    channel: str,
    endpoint: int,
    external_id: str,
    payload: dict[str, Any],
    now: datetime,
    fingerprint: str = "",
    remote_addr: str | None = None,
    state: str = State.PENDING,
) -> tuple[InboundEvent, bool]:
    """Store an accepted post in a transaction of its own; (the event, True), or (the first
    event with this sender's id, False) for a repeat, which stores nothing."""
    event = InboundEvent(
        channel=channel,
        endpoint=endpoint,
        external_id=external_id,
        payload=payload,
        fingerprint=fingerprint,
        remote_addr=remote_addr or None,
        received_at=now,
        state=state,
        next_attempt_at=now if state == State.PENDING else None,
        processed_at=None if state == State.PENDING else now,
    )
    try:
        with transaction.atomic():
            event.save(force_insert=True)
    except IntegrityError:
        first = InboundEvent.objects.get(channel=channel, endpoint=endpoint, external_id=external_id)
        return first, False
    return event, True


def event_process(*, event_id: int, now: datetime) -> InboundEvent:
    """Make what the event says, once: a lead, an inquiry, or nothing. Safe to call twice or
    at once: the event is claimed by a conditional UPDATE (a second caller waits for the
    first's transaction, then finds it processed), and two events of the same person are
    processed one after the other (`_person_lock`). Any error rolls the work back and leaves
    the event `failed`, retried later."""
    with transaction.atomic():
        waiting = InboundEvent.objects.filter(pk=event_id, state__in=[State.PENDING, State.FAILED])
        if not waiting.update(attempts=F("attempts") + 1):
            return InboundEvent.objects.get(pk=event_id)
        event = InboundEvent.objects.get(pk=event_id)
        try:
            with transaction.atomic():
                _handle(event, now=now)
            event.error, event.next_attempt_at = "", None
        except Exception as exc:  # a bug or a broken endpoint must not lose the post
            logger.exception("inbound event %s failed", event.pk)
            event.state, event.lead = State.FAILED, None
            event.error = f"{type(exc).__name__}: {exc}"[:2000]
            event.next_attempt_at = now + min(timedelta(minutes=2 ** (event.attempts - 1)), RETRY_AT_MOST)
        event.processed_at = now
        event.save(update_fields=["state", "lead", "error", "next_attempt_at", "processed_at"])
    return event


@dataclass(frozen=True)
class ProcessResult:
    done: int
    failed: int


def events_process_due(*, now: datetime, limit: int = 500) -> ProcessResult:
    """Process the events a request left waiting (it died before it could) and the failed ones
    whose retry is due, oldest first: `process_inbound` and the periodic job."""
    stale = now - timedelta(seconds=settings.INBOUND_STALE_SECONDS)
    due = InboundEvent.objects.filter(
        Q(state=State.PENDING, received_at__lte=stale) | Q(state=State.FAILED), next_attempt_at__lte=now
    ).order_by("next_attempt_at", "pk")
    done = failed = 0
    for event_id in list(due.values_list("pk", flat=True)[:limit]):
        event = event_process(event_id=event_id, now=now)
        failed += event.state == State.FAILED
        done += event.state != State.FAILED
    return ProcessResult(done=done, failed=failed)


def event_retry(*, event: InboundEvent, now: datetime) -> InboundEvent:
    """Process a failed event now (the admins' retry)."""
    return event_process(event_id=event.pk, now=now)


def _handle(event: InboundEvent, *, now: datetime) -> None:
    endpoint = ENDPOINTS[event.channel].objects.select_related("team", "campaign").get(pk=event.endpoint)
    arrival = arrival_of(event, endpoint=endpoint)
    if arrival.test:
        event.state, event.lead = State.TEST, None
        return
    phone = _e164(arrival, endpoint)
    _person_lock(team_id=endpoint.team_id, keys=[event.fingerprint, arrival.email.lower(), phone])
    first = _sent_before(event)
    if first is not None:
        event.state, event.lead = State.DUPLICATE, first
        return
    known = leads_selectors.lead_known(team_id=endpoint.team_id, email=arrival.email, phone=phone)
    if known is not None:
        leads_services.inquiry_record(
            lead=known, channel=Inquiry.Channel(event.channel), message=arrival.message, now=now
        )
        event.state, event.lead = State.INQUIRY, known
        return
    event.state, event.lead = State.DONE, _lead_create(arrival, endpoint=endpoint, channel=event.channel, now=now)


# The first key of the advisory locks of intake (the second: a hash of what is locked).
PERSON_LOCKS = 0x1A7A


def _person_lock(*, team_id: int, keys: list[str]) -> None:
    """Until the transaction ends, hold a lock on each way the team knows this person (their
    e-mail, their phone, the post's details): two posts of one person processed at once (a
    double click, a form and a WhatsApp message) make one lead and one inquiry, not two
    leads. On PostgreSQL, transaction advisory locks, taken in order; SQLite runs one
    writing transaction at a time, and the event's claim (an UPDATE) made this one a writer."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted({key for key in keys if key}):
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [PERSON_LOCKS, f"{team_id}:{key}"])


def arrival_of(event: InboundEvent, *, endpoint: LeadForm | InboundHook | WhatsAppNumber) -> Arrival:
    if event.channel == Channel.FORM:
        return reading.form_arrival(event.payload, source=endpoint.source)
    if event.channel == Channel.WHATSAPP:
        return reading.whatsapp_arrival(event.payload)
    if endpoint.kind == InboundHook.Kind.GOOGLE_ADS:
        return reading.google_ads_arrival(event.payload, hook=endpoint)
    return reading.hook_arrival(event.payload, hook=endpoint)


def _sent_before(event: InboundEvent) -> Lead | None:
    """The lead of the same post made by the same form moments ago, if any."""
    if not event.fingerprint:
        return None
    first = (
        InboundEvent.objects.filter(
            channel=event.channel,
            endpoint=event.endpoint,
            fingerprint=event.fingerprint,
            received_at__gte=event.received_at - SENT_TWICE_WITHIN,
            received_at__lte=event.received_at,
            state__in=[State.DONE, State.INQUIRY],
            lead__isnull=False,
        )
        .exclude(pk=event.pk)
        .select_related("lead")
        .order_by("-received_at", "-pk")
        .first()
    )
    return first.lead if first else None


def _e164(arrival: Arrival, endpoint: Any) -> str:
    """The post's phone in E.164 (as the lead would store it), or "" when it is not one: an
    unreadable phone matches nobody, and creating the lead says why."""
    try:
        return phone_e164(arrival.phone, region=endpoint.team.holiday_country)
    except ValidationError:
        return ""


def _lead_create(arrival: Arrival, *, endpoint: Any, channel: str, now: datetime) -> Lead:
    campaign = endpoint.campaign or campaign_for(arrival.attribution.get("utm_campaign", ""))
    return leads_services.lead_create(
        by=None,
        team=endpoint.team,
        name=arrival.name,
        email=arrival.email,
        phone=arrival.phone,
        company=arrival.company,
        source=arrival.source,
        campaign=campaign,
        value=arrival.value,
        notes=arrival.notes,
        arrived_via=channel,
        attribution=arrival.attribution,
        consent_text=arrival.consent_text,
        now=now,
    )


def campaign_for(utm_campaign: str) -> Campaign | None:
    """The campaign whose `utm_campaign` is this one, case-insensitive (the newest, should two
    share it); None for none."""
    if not utm_campaign:
        return None
    return Campaign.objects.filter(utm_campaign__iexact=utm_campaign).order_by("-start_date", "-pk").first()
