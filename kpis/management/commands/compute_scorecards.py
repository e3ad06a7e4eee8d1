"""`manage.py compute_scorecards [--as-of ISO-TIME]`: every team's current and previous month and quarter."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from kpis.scorecards import scorecards_compute


class Command(BaseCommand):
    help = "Compute and store the team scorecards (idempotent: a recompute replaces them)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--as-of", help="Compute as if it were this time (ISO 8601).")

    def handle(self, *args, as_of: str | None = None, **options) -> None:
        now = timezone.now()
        if as_of:
            now = parse_datetime(as_of)
            if now is None:
                raise CommandError("--as-of takes an ISO 8601 time, e.g. 2026-08-06T09:00:00+07:00")
            if timezone.is_naive(now):
                now = timezone.make_aware(now)
        written = scorecards_compute(now=now)
        self.stdout.write(f"{written} scorecards computed as of {now.isoformat()}.")
