"""`manage.py seed_demo`: the demo company, its people and three months of leads. Safe to run again."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from intake import demo as intake_demo
from kpis import demo as kpis_demo
from kpis.scorecards import scorecards_compute
from leads import demo as leads_demo
from routing import demo as routing_demo
from slas import demo as slas_demo
from slas.services import notifications, sla_sweep
from slas.services.preview import WEEKS as PREVIEW_WEEKS
from teams import demo as teams_demo
from webhooks import demo as webhooks_demo


class Command(BaseCommand):
    help = "Create the demo teams, users (password selaras-demo) and leads. Running it again changes nothing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--leads", type=int, default=300, help="How many demo leads (default 300).")
        parser.add_argument("--seed", type=int, default=7, help="Random seed, for the same data every time.")

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        now = timezone.now()
        # The complete weeks the SLA preview judges, and this one: every one of them has history.
        start = now - timedelta(weeks=PREVIEW_WEEKS + 1)
        users = teams_demo.seed(on=timezone.localdate(start), today=timezone.localdate(now))
        slas = slas_demo.seed(start=start)
        leads = leads_demo.seed(now=now, start=start, count=options["leads"], seed=options["seed"])
        breaches = sla_sweep(now=now).total
        kpis = kpis_demo.seed(now=now, start=start)
        teams_demo.seed_availability(now=now)  # after the history: the demo's past leads reached everyone
        routing_demo.seed()  # so is routing: the history was assigned by hand
        webhooks_demo.seed()
        intake_demo.seed(now=now)  # after routing: the leads that arrive on their own are routed
        webhooks_demo.seed_deliveries(now=now)  # after intake: its leads are what the CRM was sent
        scorecards_compute(now=now)
        # Last week's digests, so the demo managers' e-mails can be opened at once (var/mail/).
        notifications.digests_schedule(now=now)
        sent = notifications.deliveries_send(now=now).sent
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {users} users, {slas} SLAs, {leads} leads, {breaches} new breaches"
                f" and {kpis} KPIs created; scorecards computed; {sent} digest e-mails written."
            )
        )
        names = ", ".join(username for username, *_ in teams_demo.USERS)
        self.stdout.write(f"Log in as {names} with password {teams_demo.DEMO_PASSWORD}.")
