"""Scale-out (SPEC §10, docs/operations.md): two web processes and two Celery workers on one
PostgreSQL and one Redis (the broker, and the cache that counts the forms' rate limits).

A burst of lead forms, signed JSON hooks and WhatsApp messages is posted to both web
processes at once, each hook and message id twice (once to each, side by side) and one form
visitor in ten twice; the leads' webhook goes to a local receiver, delivered by whichever
worker the beat's task reaches. Nothing is doubled: one event per id, one lead per person,
one assignment per lead, one delivery per lead, each sent to the receiver once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading

import pytest
import requests

from intake.models import InboundEvent, InboundHook, LeadForm, WhatsAppNumber
from leads.models import Assignment, Lead
from teams import services as teams
from tests.faults.conftest import wait_for
from webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True)
APP_SECRET = "wa-scale-out-secret"
PEOPLE = {"form": 120, "hook": 120, "whatsapp": 60}
CLIENTS = 8


def plan(form: LeadForm, hook: InboundHook, hook_secret: str, number: WhatsAppNumber) -> list[tuple[str, bytes, dict]]:
    """(path, body, headers) in order; the second post of a pair comes right after the first."""
    posts = []
    for n in range(PEOPLE["form"]):
        body = json.dumps({"name": f"Form {n}", "email": f"form{n}@x.id"}).encode()
        posts += [(f"/f/{form.key}/", body, {})] * (2 if n % 10 == 0 else 1)
    for n in range(PEOPLE["hook"]):
        body = json.dumps({"external_id": f"h{n}", "name": f"Hook {n}", "email": f"hook{n}@x.id"}).encode()
        signature = "sha256=" + hmac.new(hook_secret.encode(), body, hashlib.sha256).hexdigest()
        posts += [(f"/hooks/{hook.key}/", body, {"X-Selaras-Signature": signature})] * 2
    for n in range(PEOPLE["whatsapp"]):
        wa_id = f"62812{n:08d}"
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "62215000123", "phone_number_id": number.phone_number_id},
            "contacts": [{"profile": {"name": f"Chat {n}"}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": f"wamid.{n}", "type": "text", "text": {"body": "Halo"}}],
        }
        body = json.dumps({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": value}]}]}).encode()
        signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        posts += [("/hooks/whatsapp/", body, {"X-Hub-Signature-256": signature})] * 2
    return posts


def post_all(bases: list[str], posts: list[tuple[str, bytes, dict]]) -> dict[int, int]:
    """CLIENTS threads take the posts in order; the k-th post goes to web process k mod 2."""
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    queue = iter(enumerate(posts))

    def client() -> None:
        http = requests.Session()
        while True:
            with lock:
                item = next(queue, None)
            if item is None:
                return
            index, (path, body, headers) = item
            answer = http.post(
                bases[index % 2] + path, data=body, headers={"Content-Type": "application/json", **headers}, timeout=60
            )
            with lock:
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_two_web_processes_and_two_workers_double_nothing(processes, own_redis, users, sales_team, sink):
    teams.team_update(team=sales_team, auto_route=True)
    admin = users["admin"]
    from intake import services as intake

    form = intake.lead_form_create(by=admin, name="Demo", team=sales_team, language="en", fields=["email"])
    hook, hook_secret = intake.inbound_hook_create(by=admin, name="Zapier", team=sales_team)
    number = intake.whatsapp_number_create(by=admin, phone_number_id="1055500077", team=sales_team)
    Webhook.objects.create(name="CRM", url=sink.url, events=["lead.created"], secret="whsec_scale_out")
    sink.start()
    shared = {
        "CACHE_URL": own_redis.url.rsplit("/", 1)[0] + "/1",
        "FORM_RATE_PER_MINUTE": "100000",
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "WEBHOOK_DELIVER_EVERY_SECONDS": "1",
        "INBOUND_PROCESS_EVERY_SECONDS": "2",
    }
    webs = [processes.gunicorn(f"web-{name}", **shared) for name in "ab"]
    workers = [processes.worker(f"worker-{name}", **shared) for name in "ab"]
    processes.beat(**shared)

    posts = plan(form, hook, hook_secret, number)
    statuses = post_all([web.base for web in webs], posts)

    assert sum(statuses.values()) == len(posts) == 132 + 240 + 120
    assert set(statuses) <= {200, 201}, statuses
    wait_for(lambda: not InboundEvent.objects.exclude(state__in=["done", "duplicate", "inquiry"]).exists(), timeout=60)
    people = sum(PEOPLE.values())
    # One event per sender's id, whichever process took each of the two posts.
    assert InboundEvent.objects.filter(channel="hook").count() == PEOPLE["hook"]
    assert InboundEvent.objects.filter(channel="whatsapp").count() == PEOPLE["whatsapp"]
    # One lead per person, routed once.
    names = list(Lead.objects.values_list("name", flat=True))
    assert len(names) == len(set(names)) == people
    assert not Lead.objects.filter(owner__isnull=True).exists()
    assert Assignment.objects.count() == people
    # The form visitors who posted twice at once: one lead, the other post kept as a repeat.
    form_events = InboundEvent.objects.filter(channel="form")
    assert form_events.count() == PEOPLE["form"] + PEOPLE["form"] // 10
    assert form_events.filter(state="done").count() == PEOPLE["form"]

    # One delivery per lead, each sent to the receiver once, by the two workers.
    deliveries = WebhookDelivery.objects.filter(event="lead.created")
    wait_for(
        lambda: deliveries.count() == people and not deliveries.exclude(status="delivered").exists(),
        timeout=120,
        what="every lead.created delivered",
    )
    assert set(sink.answered) == set(deliveries.values_list("pk", flat=True))
    assert set(sink.sent.values()) == {1}
    assert sorted(deliveries.values_list("subject_id", flat=True)) == sorted(Lead.objects.values_list("pk", flat=True))
    for worker in workers:
        assert re.search(r"Task webhooks\.deliver\[[^]]+\] succeeded", worker.output()), worker.name
