"""Outbound webhooks in the demo (`manage.py seed_demo`): one, switched off, pointing at a
Slack address that is not there, so an admin sees the page and what a webhook is."""

from __future__ import annotations

from webhooks.models import Event, Webhook
from webhooks.services import new_secret

DEMO_URL = "https://hooks.slack.com/services/T00000000/B00000000/demo-not-a-real-hook"


def seed() -> int:
    """Add the demo's webhook when missing; returns the webhooks created. Made directly, not
    through the service: the demo runs offline, where no address can be looked up."""
    if Webhook.objects.filter(url=DEMO_URL).exists():
        return 0
    Webhook.objects.create(
        name="Sales channel in Slack (demo)",
        url=DEMO_URL,
        events=[Event.LEAD_ASSIGNED, Event.CLOCK_AT_RISK, Event.BREACH_RECORDED, Event.LEAD_REROUTED],
        format=Webhook.Format.SLACK,
        active=False,
        secret=new_secret(),
    )
    return 1
