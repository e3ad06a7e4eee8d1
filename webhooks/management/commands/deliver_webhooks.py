"""`manage.py deliver_webhooks`: POST the outbound webhook deliveries that are due, by hand."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from webhooks.services import webhooks_deliver


class Command(BaseCommand):
    help = "Deliver the outbound webhook events that are due (safe to run at any time, and at once with the worker)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--seconds",
            type=float,
            default=None,
            help="Keep delivering for at most this long (default: WEBHOOK_RUN_SECONDS).",
        )

    def handle(self, *args, seconds: float | None = None, **options) -> None:
        result = webhooks_deliver(budget=seconds)
        self.stdout.write(
            f"Webhook deliveries: {result.delivered} delivered, {result.failed} failed attempt(s), "
            f"{result.expired} given up after 24 hours, {result.switched_off} webhook(s) switched off."
        )
