"""`manage.py process_inbound`: process inbound events left waiting or failed (SPEC §8, §13)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from intake.services import events_process_due


class Command(BaseCommand):
    help = "Process the inbound events (forms, hooks, WhatsApp) left waiting or failed; safe at any time."

    def handle(self, *args, **options) -> None:
        result = events_process_due(now=timezone.now())
        self.stdout.write(f"Inbound events: {result.done} processed, {result.failed} failed (retried later).")
