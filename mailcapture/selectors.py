"""Reads of e-mail capture: the mailbox's state and the messages read from it."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from mailcapture.models import CapturedMail, Mailbox

# What an admin looks at first: what did not become a follow-up, and why.
NOT_LOGGED = (CapturedMail.State.SKIPPED, CapturedMail.State.FAILED)


def captured_mail_list(*, state: str = "") -> QuerySet[CapturedMail]:
    """Messages read, newest first: of one `state`, or (by default) the skipped and failed
    ones. Reads captured_mail_state_idx."""
    mails = CapturedMail.objects.order_by("-read_at", "-id").defer("summary")
    return mails.filter(state=state) if state else mails.filter(state__in=NOT_LOGGED)


def captured_mail_counts() -> dict[str, int]:
    """Messages read by state, every state present (0 for none)."""
    found = dict(CapturedMail.objects.order_by().values_list("state").annotate(n=Count("pk")))
    return {state: found.get(state, 0) for state in CapturedMail.State.values}


def mailboxes() -> QuerySet[Mailbox]:
    return Mailbox.objects.order_by("address")
