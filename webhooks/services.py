"""Outbound webhooks (SPEC §12): managing them, writing their outbox, and delivering it.

The outbox: every event is a `WebhookDelivery` row per active webhook that wants it, written
in the transaction of the change, unique per (webhook, event, subject), so a job that finds
the same change twice writes it once.

Delivering (`webhooks_deliver`, the `deliver_webhooks` command and task): rows that are due
are claimed in batches by a conditional UPDATE under a token of the run, POSTed from a few
threads, and marked once the batch has its answers. A 2xx delivers; anything else is retried 1, 2, 4 …
minutes later (at most an hour apart) until 24 hours after the event, then failed. While a
webhook fails, a run tries one of its due deliveries rather than all (a receiver that hangs
costs one timeout, not thousands); the first success makes all its waiting retries due at
once. A webhook that failed everything for 24 hours is switched off and the admins told.

At least once, in any order: a worker that dies between a receiver's 2xx and marking its batch
leaves the batch's rows `sending` (BATCH at the most); after WEBHOOK_STALE_SECONDS another run
sends them again, with the same X-Selaras-Delivery, for the receiver to drop. That is the only
repeat.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications import services as notifications
from teams import permissions
from teams.models import User
from webhooks import payloads
from webhooks.guard import Refused, target_of
from webhooks.models import Event, Webhook, WebhookDelivery
from webhooks.outbox import RETRY_FOR
from webhooks.sending import Outcome, Sender, signature

SWITCH_OFF_AFTER = timedelta(hours=24)
BACKOFF_MAX = timedelta(hours=1)
BATCH = 32
LAST_TRY_GRACE = timedelta(minutes=5)  # a delivery's last try, due at the end of its 24 hours, may wait this long
Status = WebhookDelivery.Status
WAITING = [Status.PENDING, Status.RETRYING]


# -- managing webhooks -----------------------------------------------------------------------
def webhook_create(
    *, by: User, url: str, events: list[str], format: str = Webhook.Format.JSON, active: bool = True, name: str = ""
) -> tuple[Webhook, str]:
    """Add a webhook; returns it and its secret, which is shown this once."""
    if not permissions.can_manage_webhooks(by):
        raise PermissionDenied
    webhook = Webhook(name=name.strip(), url=url.strip(), format=format, active=active, created_by=by)
    webhook.events = _validated(url=webhook.url, events=events, format=format)
    webhook.secret = new_secret()
    webhook.save()
    return webhook, webhook.secret


def webhook_update(*, webhook: Webhook, by: User, **fields: Any) -> Webhook:
    """Change a webhook's name, URL, events, format or switch. Switching it on again starts
    afresh: its failing streak is forgotten."""
    if not permissions.can_manage_webhooks(by):
        raise PermissionDenied
    unknown = set(fields) - {"name", "url", "events", "format", "active"}
    if unknown:
        raise ValidationError(_("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    url = fields.get("url", webhook.url).strip()
    format = fields.get("format", webhook.format)
    # An unchanged URL is not looked up again here: every delivery checks it anyway.
    events = _validated(
        url=url if url != webhook.url else None, events=fields.get("events", webhook.events), format=format
    )
    if fields.get("active") and not webhook.active:
        webhook.failing_since = webhook.switched_off_at = None
    webhook.name = fields.get("name", webhook.name).strip()
    webhook.url, webhook.events = url, events
    webhook.format = format
    webhook.active = fields.get("active", webhook.active)
    webhook.save()
    return webhook


def webhook_delete(*, webhook: Webhook, by: User) -> None:
    if not permissions.can_manage_webhooks(by):
        raise PermissionDenied
    webhook.delete()


def webhook_secret_rotate(*, webhook: Webhook, by: User) -> str:
    """A new secret for the webhook, shown this once; deliveries from now on are signed with it."""
    if not permissions.can_manage_webhooks(by):
        raise PermissionDenied
    webhook.secret = new_secret()
    webhook.save(update_fields=["secret"])
    return webhook.secret


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _validated(*, url: str | None, events: Iterable[str], format: str) -> list[str]:
    """The events in their canonical order; ValidationError by field for a URL that may not be
    reached (None: not checked), no or unknown events, or an unknown format."""
    errors: dict[str, list[str]] = {}
    try:
        if url is not None:
            target_of(url, resolve=False)
    except Refused as exc:
        errors["url"] = [str(exc)]
    events = list(dict.fromkeys(events or []))
    if not events:
        errors["events"] = [_("Choose at least one event.")]
    elif unknown := sorted(set(events) - set(Event.values)):
        errors["events"] = [_("Unknown events: %(names)s.") % {"names": ", ".join(unknown)}]
    if format not in Webhook.Format.values:
        errors["format"] = [_("Choose json or slack.")]
    if errors:
        raise ValidationError(errors)
    return [event for event in Event.values if event in events]


def delivery_redeliver(*, delivery: WebhookDelivery, by: User, now: datetime) -> WebhookDelivery:
    """Send a delivery again soon, with the same id and body, and retry it for another 24 hours."""
    if not permissions.can_manage_webhooks(by):
        raise PermissionDenied
    if not delivery.webhook.active:
        raise ValidationError(_("Switch the webhook on first."))
    changed = (
        WebhookDelivery.objects.filter(pk=delivery.pk)
        .exclude(status=Status.SENDING)
        .update(status=Status.PENDING, next_attempt_at=now, retry_until=now + RETRY_FOR, claim="")
    )
    if not changed:
        raise ValidationError(_("This delivery is being sent right now."))
    delivery.refresh_from_db()
    return delivery


# -- delivering ------------------------------------------------------------------------------
@dataclass
class DeliverResult:
    delivered: int = 0
    failed: int = 0  # attempts that failed (most will be retried)
    expired: int = 0
    switched_off: int = 0


def webhooks_deliver(
    *, now: datetime | None = None, budget: float | None = None, sender: Sender | None = None
) -> DeliverResult:
    """POST what is due until nothing is, or for about `budget` seconds. Safe to run twice or
    at once: each row is claimed by one run. `now` pins the time (tests); else the clock runs.
    `sender` is what POSTs (the demo's stands in for a receiver it cannot reach); it is closed
    at the end. A batch costs a handful of statements whatever its size, plus one per failed
    attempt."""
    clock = (lambda: now) if now is not None else timezone.now
    budget = settings.WEBHOOK_RUN_SECONDS if budget is None else budget
    result = DeliverResult()
    result.expired = _expire(now=clock())
    result.switched_off = _switch_off_failing(now=clock())
    started, probed = time.monotonic(), set()
    sender = sender or Sender(pool_size=settings.WEBHOOK_DELIVERY_THREADS)
    with ThreadPoolExecutor(max_workers=settings.WEBHOOK_DELIVERY_THREADS) as pool:
        while time.monotonic() - started < budget:
            batch = _claim(now=clock(), probed=probed)
            if not batch:
                break
            _bodies_fill(batch)
            outcomes = list(pool.map(lambda delivery: _post(sender, delivery), batch))
            _mark(batch, outcomes, now=clock(), result=result)
    sender.close()
    return result


def _bodies_fill(batch: list[WebhookDelivery]) -> None:
    """Make the bodies of the deliveries sent for the first time, and keep them (one UPDATE):
    every retry sends the same bytes."""
    made = payloads.bodies(batch)
    for delivery in batch:
        delivery.body = made.get(delivery.pk, delivery.body)
    WebhookDelivery.objects.bulk_update([d for d in batch if d.pk in made], ["body"])


def _post(sender: Sender, delivery: WebhookDelivery) -> Outcome:
    body = delivery.body.encode()
    headers = {
        "X-Selaras-Event": delivery.event,
        "X-Selaras-Delivery": str(delivery.pk),
        "X-Selaras-Signature": signature(delivery.webhook.secret, body),
    }
    return sender.post(url=delivery.webhook.url, body=body, headers=headers)


def _due(now: datetime) -> Q:
    stale = Q(status=Status.SENDING, claimed_at__lt=now - timedelta(seconds=settings.WEBHOOK_STALE_SECONDS))
    return Q(status__in=WAITING, next_attempt_at__lte=now) | stale


def _claim(*, now: datetime, probed: set[int]) -> list[WebhookDelivery]:
    """Take a batch of due deliveries of the active webhooks: as many as BATCH of healthy
    ones, and one of each failing webhook not yet tried in this run."""
    hooks = dict(Webhook.objects.filter(active=True).values_list("pk", "failing_since"))
    if not hooks:
        return []
    due = WebhookDelivery.objects.filter(_due(now)).order_by("next_attempt_at", "pk")
    healthy = [pk for pk, failing in hooks.items() if failing is None]
    ids = list(due.filter(webhook_id__in=healthy).values_list("pk", flat=True)[:BATCH]) if healthy else []
    for hook in sorted(set(hooks) - set(healthy) - probed):
        probe = due.filter(webhook_id=hook).values_list("pk", flat=True).first()
        probed.add(hook)
        if probe is not None:
            ids.append(probe)
    if not ids:
        return []
    token = uuid.uuid4().hex
    WebhookDelivery.objects.filter(_due(now), pk__in=ids).update(status=Status.SENDING, claim=token, claimed_at=now)
    return list(WebhookDelivery.objects.filter(claim=token, status=Status.SENDING).select_related("webhook"))


def _mark(batch: list[WebhookDelivery], outcomes: list[Outcome], *, now: datetime, result: DeliverResult) -> None:
    """Record a batch's answers: the delivered in one UPDATE per response code, each failure
    with its own retry time. Rows another run took back meanwhile (their claim changed) are
    left to it."""
    delivered: dict[int, list[int]] = defaultdict(list)
    recovered, failing = set(), {}
    for delivery, outcome in zip(batch, outcomes, strict=True):
        if outcome.delivered:
            delivered[outcome.code].append(delivery.pk)
            if delivery.webhook.failing_since is not None:
                recovered.add(delivery.webhook_id)
        else:
            _mark_failed(delivery, outcome, now=now)
            failing[delivery.webhook_id] = delivery.webhook.failing_since
            result.failed += 1
    token = batch[0].claim
    for code, ids in delivered.items():
        result.delivered += WebhookDelivery.objects.filter(pk__in=ids, claim=token).update(
            status=Status.DELIVERED,
            delivered_at=now,
            attempts=F("attempts") + 1,
            response_code=code,
            last_error="",
            last_attempt_at=now,
            claim="",
        )
    for hook in recovered:
        if Webhook.objects.filter(pk=hook, failing_since__isnull=False).update(failing_since=None):
            # The receiver is back: what waits for a retry goes now rather than at its time.
            WebhookDelivery.objects.filter(webhook_id=hook, status=Status.RETRYING).update(next_attempt_at=now)
    for hook, since in failing.items():
        if hook in recovered:
            continue
        Webhook.objects.filter(pk=hook, failing_since__isnull=True).update(failing_since=now)
        if since is not None and since <= now - SWITCH_OFF_AFTER:
            result.switched_off += _switch_off(webhook_id=hook, now=now)


def _mark_failed(delivery: WebhookDelivery, outcome: Outcome, *, now: datetime) -> None:
    """A failed attempt: retried 1, 2, 4 … minutes later (at most an hour apart), the last try
    at the end of its 24 hours, however the backoff falls; failed after that."""
    attempts = delivery.attempts + 1
    fields: dict[str, Any] = {
        "attempts": attempts,
        "response_code": outcome.code,
        "last_error": outcome.error[:500],
        "last_attempt_at": now,
        "claim": "",
    }
    mine = WebhookDelivery.objects.filter(pk=delivery.pk, claim=delivery.claim)
    if now >= delivery.retry_until:
        mine.update(status=Status.FAILED, **fields)
    else:
        wait = min(timedelta(minutes=2 ** (attempts - 1)), BACKOFF_MAX)
        mine.update(status=Status.RETRYING, next_attempt_at=min(now + wait, delivery.retry_until), **fields)


def _expire(*, now: datetime) -> int:
    """Deliveries not delivered within their 24 hours are failed (a redelivery can revive one):
    those whose last try did not come (their webhook switched off, or failing and not probed)."""
    expired = WebhookDelivery.objects.filter(status__in=WAITING, retry_until__lte=now - LAST_TRY_GRACE)
    return expired.update(status=Status.FAILED, last_error=_("Not delivered within 24 hours."))


def _switch_off_failing(*, now: datetime) -> int:
    failing = Webhook.objects.filter(active=True, failing_since__lte=now - SWITCH_OFF_AFTER)
    return sum(_switch_off(webhook_id=pk, now=now) for pk in failing.values_list("pk", flat=True))


def _switch_off(*, webhook_id: int, now: datetime) -> int:
    """Switch a webhook that failed everything for 24 hours off, fail what it still had to
    send, and tell the admins. Exactly once per switch-off (a conditional UPDATE)."""
    with transaction.atomic():
        off = Webhook.objects.filter(pk=webhook_id, active=True, failing_since__lte=now - SWITCH_OFF_AFTER).update(
            active=False, switched_off_at=now
        )
        if not off:
            return 0
        WebhookDelivery.objects.filter(webhook_id=webhook_id, status__in=WAITING).update(
            status=Status.FAILED, last_error=_("The webhook was switched off.")
        )
        notifications.webhook_switched_off_notify(webhook_id=webhook_id, now=now)
    return 1
