"""Outbound webhooks in the demo (`manage.py seed_demo`): one, switched off, pointing at a
Slack address that is not there, so an admin sees the page and what a webhook is; and one
that kept the company's CRM in step with the leads of the last hours (their deliveries
delivered, one after the CRM failed once), switched off since, as the demo has no CRM."""

from __future__ import annotations

from datetime import datetime, timedelta

from teams.models import User
from webhooks import services
from webhooks.models import Event, Webhook, WebhookDelivery
from webhooks.sending import Outcome, Sender

DEMO_URL = "https://hooks.slack.com/services/T00000000/B00000000/demo-not-a-real-hook"
# A reserved name (RFC 2606): it never resolves, so nothing sent to it leaves the machine.
CRM_URL = "https://crm.selaras-demo.example/api/hooks/selaras"
CRM_EVENTS = [Event.LEAD_CREATED, Event.LEAD_ASSIGNED, Event.TOUCH_LOGGED]
WORKER_LAG = timedelta(seconds=2)  # how long after an event the worker's run sends it


def seed() -> int:
    """Add the demo's webhooks when missing; returns the webhooks created. Made directly, not
    through the service: the demo runs offline, where no address can be looked up. The CRM's
    is on, so that the leads arriving next (intake's demo) are written to its outbox."""
    created = 0
    if not Webhook.objects.filter(url=DEMO_URL).exists():
        Webhook.objects.create(
            name="Sales channel in Slack (demo)",
            url=DEMO_URL,
            events=[Event.LEAD_ASSIGNED, Event.CLOCK_AT_RISK, Event.BREACH_RECORDED, Event.LEAD_REROUTED],
            format=Webhook.Format.SLACK,
            active=False,
            secret=services.new_secret(),
        )
        created += 1
    if not Webhook.objects.filter(url=CRM_URL).exists():
        Webhook.objects.create(
            name="CRM sync (demo)",
            url=CRM_URL,
            events=CRM_EVENTS,
            format=Webhook.Format.JSON,
            active=True,
            secret=services.new_secret(),
        )
        created += 1
    return created


class _Crm(Sender):
    """Stands in for the CRM during one run of the worker: it answers 200, but 503 to the
    delivery `down_for` (the CRM down for a minute, so a retry shows). Any other webhook's
    delivery due meanwhile (one added by hand to an older demo) is really sent."""

    def __init__(self, *, down_for: int | None = None) -> None:
        super().__init__()
        self.down_for = down_for

    def post(self, *, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        if url != CRM_URL:
            return super().post(url=url, body=body, headers=headers)
        if headers["X-Selaras-Delivery"] == str(self.down_for):
            return Outcome(503, "HTTP 503")
        return Outcome(200)


def seed_deliveries(*, now: datetime) -> int:
    """Deliver what the CRM's webhook has waiting to the stand-in CRM, each run of the worker
    when the next delivery falls due (a few seconds after its event, a minute after a failure),
    up to `now`; then switch the webhook off, so the running demo posts nothing to an address
    that is not there. Once: a webhook whose deliveries were ever attempted is left as it is
    (they are the worker's, or it was switched on again by hand). Returns deliveries delivered."""
    webhook = Webhook.objects.filter(url=CRM_URL, active=True).first()
    if webhook is None or webhook.deliveries.filter(attempts__gt=0).exists():
        return 0
    waiting = webhook.deliveries.filter(status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING])
    down_for = waiting.order_by("created_at", "pk").values_list("pk", flat=True).first()
    delivered = 0
    while (due := waiting.order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()) and due <= now:
        run = services.webhooks_deliver(now=min(due + WORKER_LAG, now), sender=_Crm(down_for=down_for))
        delivered, down_for = delivered + run.delivered, None
    services.webhook_update(webhook=webhook, by=User.objects.get(username="admin"), active=False)
    return delivered
