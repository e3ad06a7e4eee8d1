"""Celery task of e-mail capture: a thin wrapper around the service."""

from __future__ import annotations

import logging

from salesmarketing.celery import periodic_job

logger = logging.getLogger(__name__)


@periodic_job("mailcapture.fetch_mail", soft_time_limit=240, time_limit=300, retry_backoff_max=60, max_retries=3)
def fetch_mail() -> dict:
    """Every minute when MAIL_CAPTURE_IMAP_URL is set: capture what is new in the mailbox.
    Safe to run twice or at once (the mailbox is held by one run at a time). A mailbox that
    cannot be read is left for the next beat, not retried in a loop."""
    from django.utils import timezone

    from mailcapture.imap import MailboxError
    from mailcapture.services import mail_capture_configured, mail_fetch

    if not mail_capture_configured():
        return {"configured": False}
    try:
        result = mail_fetch(now=timezone.now())
    except MailboxError as exc:
        logger.warning("e-mail capture: the mailbox could not be read: %s", exc)
        return {"error": str(exc)}
    return {"read": result.read, "touches": result.touches, "inquiries": result.inquiries, "busy": result.busy}
