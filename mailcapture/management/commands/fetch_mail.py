"""`manage.py fetch_mail`: capture what is new in the capture mailbox (SPEC §8, §14)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from mailcapture.imap import MailboxError
from mailcapture.services import mail_capture_configured, mail_fetch


class Command(BaseCommand):
    help = "Read what is new in the e-mail capture mailbox (MAIL_CAPTURE_IMAP_URL) and log it; never changes it."

    def handle(self, *args, **options) -> None:
        if not mail_capture_configured():
            self.stdout.write("E-mail capture is not configured (MAIL_CAPTURE_IMAP_URL is empty): nothing to do.")
            return
        try:
            result = mail_fetch(now=timezone.now())
        except MailboxError as exc:
            raise CommandError(f"The capture mailbox could not be read: {exc}. The next run tries again.") from exc
        if result.busy:
            self.stdout.write("Another run is reading the mailbox: nothing to do.")
            return
        self.stdout.write(
            f"Messages read: {result.read}; follow-ups logged: {result.touches}; inquiries: {result.inquiries}; "
            f"repeats: {result.repeats}; skipped: {result.skipped}; failed: {result.failed}."
        )
