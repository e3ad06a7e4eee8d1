"""`manage.py compute_scorecards [--as-of ISO-TIME]`: every team's current and previous month and quarter."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from kpis.scorecards import scorecards_compute
from salesmarketing.commands import parse_as_of


class Command(BaseCommand):
    help = "Compute and store the team scorecards (idempotent: a recompute replaces them)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--as-of", help="Compute as if it were this time (ISO 8601).")

    def handle(self, *args, as_of: str | None = None, **options) -> None:
        now = parse_as_of(as_of)
        written = scorecards_compute(now=now)
        self.stdout.write(f"{written} scorecards computed as of {now.isoformat()}.")
