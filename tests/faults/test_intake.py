"""Leads that arrive on their own, under fault (SPEC §10, §13).

- The database refuses to make leads while forms and hooks are posted through gunicorn, and
  no worker runs. Every post is answered at once and kept (its event `failed`); once the
  database takes leads again and a worker runs, every post becomes its lead, each exactly
  once, within the first retry (one minute after the failure; SPEC asks for five).
- A worker killed with SIGKILL in the middle of processing the events that requests left
  waiting: what it finished is kept, what it was doing is rolled back whole, and the next
  run makes every other lead, each exactly once.

Redis stalled and PostgreSQL stopped under form posts are in `test_broker_outage.py` and
`test_database_outage.py`."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.utils import timezone

from intake import reading
from intake.models import Channel, InboundEvent, InboundHook, LeadForm
from intake.services.events import PERSON_LOCKS, event_store
from leads.models import Assignment, Lead
from teams import services as teams
from tests.faults.conftest import kill_worker_and_its_connection, lock_waiters, other_connection, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def refuse_leads(on: bool) -> None:
    """A trigger that makes every INSERT of a lead fail, as a full disk or a broken migration
    would: the inbound events still go in, the leads do not."""
    with connection.cursor() as cursor:
        if on:
            cursor.execute(
                "CREATE OR REPLACE FUNCTION refuse_leads() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'leads refused for the fault test'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute("CREATE TRIGGER refuse_leads BEFORE INSERT ON leads_lead EXECUTE FUNCTION refuse_leads()")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS refuse_leads ON leads_lead")


@pytest.fixture
def leads_refused():
    refuse_leads(True)
    yield
    refuse_leads(False)


def test_posts_while_leads_cannot_be_made_are_kept_and_made_once_when_they_can(processes, sales_team, leads_refused):
    form = LeadForm.objects.create(name="Demo", team=sales_team, fields=["email"], language="en")
    hook = InboundHook.objects.create(name="Zapier", team=sales_team, secret="hook-secret")
    web = processes.gunicorn()
    took, answers = [], []
    for n in range(8):  # under the form's limit of 10 a minute from one address
        started = time.monotonic()
        answer = requests.post(
            f"{web.base}/f/{form.key}/", json={"name": f"Form {n}", "email": f"f{n}@x.id"}, timeout=5
        )
        took.append(time.monotonic() - started)
        answers.append((answer.status_code, answer.json()))
    for n in range(12):
        body = json.dumps({"external_id": f"h{n}", "name": f"Hook {n}"}).encode()
        signature = "sha256=" + hmac.new(b"hook-secret", body, hashlib.sha256).hexdigest()
        started = time.monotonic()
        answer = requests.post(
            f"{web.base}/hooks/{hook.key}/",
            data=body,
            headers={"Content-Type": "application/json", "X-Selaras-Signature": signature},
            timeout=5,
        )
        took.append(time.monotonic() - started)
        answers.append((answer.status_code, answer.json()))
    assert {status for status, _body in answers} == {201}
    assert all(body == {"ok": True, "lead": None} for _status, body in answers)
    assert max(took) < 1.0
    assert InboundEvent.objects.filter(state="failed").count() == 20 and not Lead.objects.exists()
    # The same hook post again while it is failed: still one event.
    body = json.dumps({"external_id": "h0", "name": "Hook 0"}).encode()
    signature = "sha256=" + hmac.new(b"hook-secret", body, hashlib.sha256).hexdigest()
    requests.post(
        f"{web.base}/hooks/{hook.key}/",
        data=body,
        headers={"Content-Type": "application/json", "X-Selaras-Signature": signature},
        timeout=5,
    )
    assert InboundEvent.objects.count() == 20

    refuse_leads(False)
    back = time.monotonic()
    processes.worker(INBOUND_PROCESS_EVERY_SECONDS="2")
    processes.beat(INBOUND_PROCESS_EVERY_SECONDS="2")
    wait_for(lambda: not InboundEvent.objects.exclude(state="done").exists(), timeout=150, what="every event processed")
    recovered = time.monotonic() - back
    assert recovered < 120  # the first retry is due a minute after the failure
    names = sorted(Lead.objects.values_list("name", flat=True))
    assert names == sorted([f"Form {n}" for n in range(8)] + [f"Hook {n}" for n in range(12)])
    assert set(InboundEvent.objects.values_list("attempts", flat=True)) == {2}
    assert set(Lead.objects.values_list("arrived_via", flat=True)) == {"form", "hook"}


def test_a_worker_killed_while_processing_events_leaves_each_lead_to_be_made_once(
    processes, own_redis, users, sales_team
):
    teams.team_update(team=sales_team, auto_route=True)
    form = LeadForm.objects.create(name="Demo", team=sales_team, fields=["email"], language="en")
    # 30 posts whose requests died before processing them: stored, waiting, five minutes old.
    died = timezone.now() - timedelta(minutes=5)
    for n in range(30):
        payload = {"name": f"Form {n}", "email": f"f{n}@x.id"}
        event_store(
            channel=Channel.FORM,
            endpoint=form.pk,
            external_id=f"post-{n}",
            payload=payload,
            fingerprint=reading.form_arrival(payload, source=form.source).fingerprint(),
            now=died,
        )
    # The 16th person is held (as a post of theirs being processed elsewhere would hold them):
    # the worker makes 15 leads, then waits in the middle of the 16th, and is killed there.
    blocker = other_connection()
    blocker.cursor().execute("SELECT pg_advisory_lock(%s, hashtext(%s))", [PERSON_LOCKS, f"{sales_team.pk}:f15@x.id"])
    worker = processes.worker()
    own_redis.send_task("intake.process_inbound")
    wait_for(lock_waiters, timeout=60, what="the worker to wait on the 16th person")
    assert Lead.objects.count() == 15
    kill_worker_and_its_connection(worker)
    blocker.close()
    # Nothing of the 16th was kept, not even its claim: it waits, as the 14 after it do.
    assert Lead.objects.count() == 15
    assert InboundEvent.objects.filter(state="pending", attempts=0).count() == 15

    processes.worker("worker-after")
    own_redis.send_task("intake.process_inbound")
    wait_for(lambda: not InboundEvent.objects.exclude(state="done").exists(), timeout=90, what="the rest processed")
    assert sorted(Lead.objects.values_list("name", flat=True)) == sorted(f"Form {n}" for n in range(30))
    assert set(InboundEvent.objects.values_list("attempts", flat=True)) == {1}  # each processed once
    assert not Lead.objects.filter(owner__isnull=True).exists()
    assert Assignment.objects.count() == 30  # each routed once
