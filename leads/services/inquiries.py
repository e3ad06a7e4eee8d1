"""A known person getting in touch again (SPEC §13): an inquiry on their open lead, not a
second lead, with the lead's owner told."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from leads.models import Inquiry, Lead
from notifications import services as notifications


def inquiry_record(*, lead: Lead, channel: str, message: str, now: datetime, external_id: str = "") -> Inquiry | None:
    """Put the message on the lead's timeline and tell its owner (its team's sales managers
    while nobody owns it). Transactional; the caller found `lead` with
    `leads.selectors.lead_known`. A message whose `external_id` the lead already has an
    inquiry of (the same e-mail read twice) records nothing and answers None."""
    inquiry = Inquiry(
        lead=lead,
        channel=channel,
        message=message[: Inquiry._meta.get_field("message").max_length],
        at=now,
        external_id=external_id[:255],
    )
    with transaction.atomic():
        if external_id and Inquiry.objects.filter(lead=lead, external_id=inquiry.external_id).exists():
            return None
        inquiry.save()
        notifications.inquiry_notify(inquiry=inquiry, now=now)
    return inquiry
