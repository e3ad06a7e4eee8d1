"""`manage.py send_breach_digest [--week YYYY-Www] [--dry-run]`: the weekly digest, by hand."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from slas.services import notifications


class Command(BaseCommand):
    help = "Send the weekly breach digests that are due (each recipient at most once per week)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--week",
            help="The ISO week to send, e.g. 2026-W34 (default: last week, for each team at its Monday 08:00).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Print who would get what; send and record nothing.")

    def handle(self, *args, week: str | None = None, dry_run: bool = False, **options) -> None:
        now = timezone.now()
        week_start = _parse_week(week) if week else None
        if dry_run:
            start = week_start or _last_week(now)
            for user, team, breaches, skipped in notifications.digest_dry_run(week_start=start, now=now):
                verdict = "nothing to report, not sent" if skipped else f"{breaches} breach(es)"
                self.stdout.write(f"{user.email} ({user.username}, {team.name}): {verdict}")
            return
        created = notifications.digests_schedule(now=now, week_start=week_start)
        result = notifications.deliveries_send(now=now)
        self.stdout.write(
            f"{created} digest(s) scheduled; {result.sent} sent, {result.skipped} with nothing to report, "
            f"{result.failed} failed (retried later)."
        )


def _parse_week(value: str) -> date:
    try:
        year, week = value.upper().split("-W")
        return date.fromisocalendar(int(year), int(week), 1)
    except ValueError as exc:
        raise CommandError("--week takes an ISO week like 2026-W34") from exc


def _last_week(now) -> date:
    today = timezone.localdate(now)
    return date.fromordinal(today.toordinal() - today.weekday() - 7)
