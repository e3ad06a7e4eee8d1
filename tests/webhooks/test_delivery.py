"""Delivering the outbox (SPEC §12): signed POSTs, retries with backoff for 24 hours, the
switch-off of a webhook failing for 24 hours, redelivery, and no request to a private address."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads import services as leads
from notifications import selectors
from notifications.models import Notification
from teams.models import Role, User
from tests.factories import LeadFactory, UserFactory
from tests.slas.conftest import jkt
from webhooks import payloads, services
from webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db
T = jkt(2026, 8, 5, 9)


def hook(url: str, *events: str, format: str = "json") -> Webhook:
    return services.webhook_create(
        by=UserFactory(role=Role.ADMIN), url=url, events=list(events) or ["lead.created"], format=format
    )[0]


def deliver(at):
    return services.webhooks_deliver(now=at)


def delivery() -> WebhookDelivery:
    return WebhookDelivery.objects.get()


def test_an_event_is_posted_signed_with_the_headers_and_body_of_the_spec(receiver, users, sales_team):
    webhook = hook(receiver.url, "lead.created")
    lead = leads.lead_create(by=users["sales_manager"], team=sales_team, name="Siti Rahma", now=T)
    assert deliver(T).delivered == 1
    [request] = receiver.received
    sent = delivery()
    expected = "sha256=" + hmac.new(webhook.secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-selaras-signature"] == expected
    assert request.headers["x-selaras-event"] == "lead.created"
    assert request.headers["x-selaras-delivery"] == str(sent.pk)
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.body)
    assert set(body) == {"id", "event", "created_at", "data"}
    assert (body["id"], body["event"], body["created_at"]) == (sent.pk, "lead.created", "2026-08-05T09:00:00+07:00")
    assert (body["data"]["id"], body["data"]["name"], body["data"]["team"]) == (lead.pk, "Siti Rahma", sales_team.pk)
    assert (sent.status, sent.attempts, sent.response_code, sent.delivered_at) == ("delivered", 1, 200, T)
    assert sent.body.encode() == request.body
    assert deliver(T + timedelta(minutes=5)).delivered == 0  # delivered once
    assert len(receiver.received) == 1


def test_the_slack_format_posts_one_readable_line_with_a_link(receiver, users, sales_team, settings):
    settings.SITE_URL = "https://selaras.example.co.id"
    hook(receiver.url, "lead.assigned", format="slack")
    lead = LeadFactory(team=sales_team, name="Siti <Rahma> & Co", created_at=T)
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=T)
    deliver(T)
    body = json.loads(receiver.received[0].body)
    assert body == {
        "text": f"<https://selaras.example.co.id/leads/{lead.pk}/|Siti &lt;Rahma&gt; &amp; Co> was assigned to "
        f"{users['sales_rep']}."
    }


def test_a_failed_attempt_is_retried_after_1_2_4_minutes_and_at_most_an_hour_apart(receiver, users, sales_team):
    hook(receiver.url)
    receiver.answers.extend([500] * 20)
    leads.lead_create(by=users["sales_manager"], team=sales_team, name="Siti", now=T)
    waits, at = [], T
    for _ in range(9):
        deliver(at)
        failed = delivery()
        assert (failed.status, failed.response_code, failed.last_error) == ("retrying", 500, "HTTP 500")
        waits.append(int((failed.next_attempt_at - at).total_seconds() // 60))
        deliver(failed.next_attempt_at - timedelta(seconds=1))  # not before its time
        assert len(receiver.received) == len(waits)
        at = failed.next_attempt_at
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert delivery().attempts == 9


def test_a_delivery_failing_for_24_hours_fails_and_the_webhook_is_switched_off(receiver, users, sales_team):
    webhook = hook(receiver.url)
    UserFactory(role=Role.ADMIN)
    admins = list(User.objects.filter(role=Role.ADMIN))
    assert len(admins) >= 2
    receiver.answers.extend([503] * 100)
    leads.lead_create(by=users["sales_manager"], team=sales_team, name="Siti", now=T)
    at, tries = T, []
    while delivery().status in ("pending", "retrying"):
        deliver(at)
        tries.append(at)
        at = delivery().next_attempt_at
    failed = delivery()
    # Tried 1, 2, 4 … minutes apart, then hourly; at the end of the 24 hours the webhook, which
    # failed everything that long, is switched off before a last try.
    assert tries[-2:] == [T + timedelta(hours=23, minutes=3), T + timedelta(hours=24)]
    assert (failed.status, failed.attempts, failed.last_attempt_at) == ("failed", len(tries) - 1, tries[-2])
    assert failed.last_error == "The webhook was switched off."
    webhook.refresh_from_db()
    assert (webhook.active, webhook.switched_off_at, webhook.failing_since) == (False, T + timedelta(hours=24), T)
    told = Notification.objects.filter(kind="webhook_off", webhook=webhook)
    assert sorted(told.values_list("user_id", flat=True)) == sorted(a.pk for a in admins)
    notice = told.first()
    assert selectors.notification_text(notice) == (
        f"The webhook “{webhook}” was switched off: its receiver failed everything for 24 hours."
    )
    assert selectors.notification_link(notice) == f"/webhooks/{webhook.pk}/"
    # Switched off: it hears of nothing more, and nothing more is sent; the admins were told once.
    leads.lead_create(by=users["sales_manager"], team=sales_team, name="Budi", now=at)
    deliver(at + timedelta(hours=1))
    assert WebhookDelivery.objects.count() == 1
    assert told.count() == len(admins)


def test_a_webhook_that_succeeds_within_24_hours_stays_on(receiver, users, sales_team):
    webhook = hook(receiver.url)
    receiver.answers.extend([500])
    leads.lead_create(by=users["sales_manager"], team=sales_team, name="Siti", now=T)
    deliver(T)
    webhook.refresh_from_db()
    assert webhook.failing_since == T
    deliver(T + timedelta(minutes=1))
    webhook.refresh_from_db()
    assert (webhook.failing_since, webhook.active, delivery().status) == (None, True, "delivered")


def test_while_a_webhook_fails_a_run_tries_one_delivery_and_its_return_sends_the_rest_at_once(
    receiver, users, sales_team
):
    webhook = hook(receiver.url)
    receiver.answers.extend([500] * 3)
    for name in ("Siti", "Budi", "Agus"):
        leads.lead_create(by=users["sales_manager"], team=sales_team, name=name, now=T)
    deliver(T)  # healthy: all three tried, all fail
    assert len(receiver.received) == 3
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"retrying"}
    for name in ("Dewi", "Eko"):
        leads.lead_create(by=users["sales_manager"], team=sales_team, name=name, now=T + timedelta(seconds=10))
    receiver.answers.extend([500])
    deliver(T + timedelta(seconds=20))  # failing: one of the two due is tried, not both
    assert len(receiver.received) == 4
    deliver(T + timedelta(seconds=30))  # the receiver is back: the probe succeeds, every retry goes now
    webhook.refresh_from_db()
    assert webhook.failing_since is None
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert len(receiver.received) == 9  # 3 failed, a probe failed, a probe delivered, then the 4 waiting


def test_a_receiver_that_hangs_past_the_timeout_is_a_failure(receiver, users, sales_team, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.delay = 1.0
    hook(receiver.url)
    leads.lead_create(by=users["sales_manager"], team=sales_team, name="Siti", now=T)
    deliver(T)
    failed = delivery()
    assert (failed.status, failed.response_code) == ("retrying", None)
    assert "timed out" in failed.last_error.lower()


def test_a_redirect_is_not_followed(receiver, users, sales_team):
    receiver.answers.extend([302])
    receiver.location = "http://10.0.0.1/steal"
    hook(receiver.url)
    leads.lead_create(by=users["sales_manager"], team=sales_team, name="Siti", now=T)
    deliver(T)
    assert (delivery().status, delivery().response_code) == ("retrying", 302)
    assert len(receiver.received) == 1


def test_a_name_that_resolves_to_a_private_address_by_delivery_time_is_refused(receiver, users, sales_team, settings):
    port = receiver.url.split(":")[2].split("/")[0]
    settings.WEBHOOK_ALLOWED_HOSTS = []
    public = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", int(port)))]
    private = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(port)))]
    with mock.patch("webhooks.guard.socket.getaddrinfo", return_value=public):
        hook(f"http://hooks.example.com:{port}/hook")
    leads.lead_create(by=users["sales_manager"], team=sales_team, name="Siti", now=T)
    with mock.patch("webhooks.guard.socket.getaddrinfo", return_value=private):
        deliver(T)
    refused = delivery()
    assert (refused.status, refused.response_code) == ("retrying", None)
    assert "loopback, private or link-local" in refused.last_error
    assert receiver.received == []


def test_a_body_is_made_once_and_every_retry_sends_the_same_bytes(receiver, users, sales_team):
    hook(receiver.url)
    receiver.answers.extend([500])
    lead = leads.lead_create(by=users["sales_manager"], team=sales_team, name="Siti", now=T)
    deliver(T)
    leads.lead_update(lead=lead, by=users["sales_manager"], name="Siti Rahma")
    deliver(T + timedelta(minutes=1))
    first, second = receiver.bodies()
    assert first == second
    assert json.loads(second)["data"]["name"] == "Siti"


def test_a_redelivery_sends_the_same_delivery_again(receiver, users, sales_team):
    hook(receiver.url)
    leads.lead_create(by=users["sales_manager"], team=sales_team, name="Siti", now=T)
    deliver(T)
    sent = delivery()
    services.delivery_redeliver(delivery=sent, by=users["admin"], now=T + timedelta(days=3))
    again = delivery()
    assert (again.status, again.retry_until) == ("pending", T + timedelta(days=4))
    deliver(T + timedelta(days=3))
    first, second = receiver.received
    assert first.body == second.body
    assert first.headers["x-selaras-delivery"] == second.headers["x-selaras-delivery"] == str(sent.pk)
    assert (delivery().status, delivery().attempts) == ("delivered", 2)


def test_a_delivery_left_sending_by_a_dead_worker_is_sent_again_later(receiver, users, sales_team):
    webhook = hook(receiver.url)
    for minutes in (3, 1):  # claimed 3 and 1 minutes ago by runs that died
        lead = LeadFactory(team=sales_team, created_at=T)
        WebhookDelivery.objects.create(
            webhook=webhook, event="lead.created", subject_id=lead.pk, lead_id=lead.pk, status="sending",
            claim="dead", claimed_at=T - timedelta(minutes=minutes), next_attempt_at=T - timedelta(minutes=minutes),
            retry_until=T + timedelta(hours=23),
        )  # fmt: skip
    assert deliver(T).delivered == 1
    assert sorted(WebhookDelivery.objects.values_list("status", flat=True)) == ["delivered", "sending"]


def test_two_runs_claim_different_deliveries(users, sales_team):
    webhook = Webhook.objects.create(url="https://h.example/x", events=["lead.created"])
    for j in range(40):
        WebhookDelivery.objects.create(
            webhook=webhook, event="lead.created", subject_id=j, next_attempt_at=T, retry_until=T + timedelta(hours=24)
        )
    first = services._claim(now=T, probed=set())
    second = services._claim(now=T, probed=set())
    assert (len(first), len(second)) == (services.BATCH, 40 - services.BATCH)
    assert not {d.pk for d in first} & {d.pk for d in second}
    assert services._claim(now=T, probed=set()) == []


def test_an_undelivered_event_is_given_up_24_hours_after_it_happened(receiver, users, sales_team):
    webhook = hook(receiver.url)
    webhook.active = False
    webhook.save()
    leads.lead_create(by=users["sales_manager"], team=sales_team, name="Siti", now=T)
    assert not WebhookDelivery.objects.exists()  # a webhook switched off hears of nothing
    webhook.active = True
    webhook.save()
    leads.lead_create(by=users["sales_manager"], team=sales_team, name="Siti", now=T)
    Webhook.objects.update(active=False)
    assert deliver(T + timedelta(hours=24)).expired == 0  # its last try may still come
    assert deliver(T + timedelta(hours=24, minutes=5)).expired == 1
    assert (delivery().status, delivery().last_error) == ("failed", "Not delivered within 24 hours.")
    assert receiver.received == []


def test_the_bodies_of_a_batch_cost_the_same_statements_whatever_its_size(users, sales_team, response_sla):
    json_hook = Webhook.objects.create(url="https://h.example/j", events=[], format="json")
    slack_hook = Webhook.objects.create(url="https://h.example/s", events=[], format="slack")

    def batch(n):
        rows = []
        for _ in range(n):
            lead = LeadFactory(team=sales_team, created_at=T)
            leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=T)
            touch = leads.touch_log(lead=lead, by=users["sales_rep"], kind="call", now=T + timedelta(minutes=1))
            for webhook in (json_hook, slack_hook):
                rows += [
                    WebhookDelivery.objects.create(webhook=webhook, event=event, subject_id=subject, lead_id=lead.pk,
                                                   retry_until=T)
                    for event, subject in [("lead.created", lead.pk), ("lead.assigned", lead.assignments.get().pk),
                                           ("touch.logged", touch.pk)]
                ]  # fmt: skip
        return list(WebhookDelivery.objects.filter(pk__in=[r.pk for r in rows]).select_related("webhook"))

    small, large = batch(2), batch(10)
    with CaptureQueriesContext(connection) as few:
        made = payloads.bodies(small)
    with CaptureQueriesContext(connection) as many:
        payloads.bodies(large)
    assert len(few.captured_queries) == len(many.captured_queries) <= 6
    assert len(made) == 12
    assert all(json.loads(body) for body in made.values())
