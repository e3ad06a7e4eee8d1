"""A known person getting in touch again (SPEC §13): an inquiry on their open lead, not a
second lead, with the lead's owner told."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from leads.models import Inquiry, Lead
from notifications import services as notifications


def inquiry_record(*, lead: Lead, channel: str, message: str, now: datetime) -> Inquiry:
    """Put the message on the lead's timeline and tell its owner (its team's sales managers
    while nobody owns it). Transactional; the caller found `lead` with
    `leads.selectors.lead_known`."""
    inquiry = Inquiry(
        lead=lead, channel=channel, message=message[: Inquiry._meta.get_field("message").max_length], at=now
    )
    with transaction.atomic():
        inquiry.save()
        notifications.inquiry_notify(inquiry=inquiry, now=now)
    return inquiry
