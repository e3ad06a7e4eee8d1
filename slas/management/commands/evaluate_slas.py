"""`manage.py evaluate_slas [--as-of ISO-TIME] [--full]`: the sweep, by hand."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from leads.services.escalation import leads_escalate
from salesmarketing.commands import parse_as_of
from slas.services import sla_sweep


class Command(BaseCommand):
    help = "Record the breaches of every SLA deadline that passed unmet, and route again the leads due (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--as-of", help="Evaluate as if it were this time (ISO 8601, e.g. 2026-08-06T09:00+07:00).")
        parser.add_argument("--full", action="store_true", help="Re-check every clock ever due, not only new ones.")

    def handle(self, *args, as_of: str | None = None, full: bool = False, **options) -> None:
        now = parse_as_of(as_of)
        result = sla_sweep(now=now, full=full)
        if result.skipped:
            self.stdout.write("Another sweep is running; nothing done.")
            return
        self.stdout.write(
            f"Breaches recorded: {result.response} response, {result.cadence} cadence, {result.volume} volume, "
            f"{result.assignment} assignment "
            f"({result.chunks} chunk(s), as of {now.isoformat()})."
        )
        self.stdout.write(f"Leads routed again, unanswered past their SLA: {leads_escalate(now=now)}.")
