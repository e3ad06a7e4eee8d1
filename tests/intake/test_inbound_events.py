"""Stored first (SPEC §13): every accepted post is an inbound event, unique per sender's id,
saved before it is processed; processing is done once, a failure leaves the event `failed`
with nothing half-written and the post still answered as accepted, and `process_inbound`,
its job and the admins' retry make the lead later (after 1, 2, 4 … minutes). `now` is
injected, or the clock pinned where the code reads it."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command

from intake import reading
from intake.models import InboundEvent
from intake.services import ProcessResult, event_process, event_store, events_process_due
from leads import services as real_leads_services
from leads.models import Inquiry, Lead
from notifications.models import Notification
from tests.factories import InboundHookFactory, LeadFactory, LeadFormFactory
from tests.slas.conftest import jkt

pytestmark = pytest.mark.django_db
NOW = jkt(2026, 8, 5, 10)  # a Wednesday morning in Jakarta
PAYLOAD = {"name": "Siti Rahma", "email": "siti@pt-maju.co.id", "phone": "+6281234567890", "notes": "Minta demo"}
LEAD_CREATE = "intake.services.events.leads_services.lead_create"


@pytest.fixture(autouse=True)
def _settings(settings, time_machine):
    time_machine.move_to(NOW, tick=False)  # where the code reads the clock (views, the command, the admin)
    settings.INBOUND_STALE_SECONDS = 60
    settings.FORM_RATE_PER_MINUTE = 10
    settings.NUM_PROXIES = 0
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def form(sales_team):
    return LeadFormFactory(team=sales_team, source="web", fields=["email", "phone", "notes"], required=["email"])


def stored(form, *, now=NOW, external_id="post-1", payload=PAYLOAD, **fields) -> InboundEvent:
    fingerprint = reading.form_arrival(payload, source=form.source).fingerprint()
    event, created = event_store(
        channel="form",
        endpoint=form.pk,
        external_id=external_id,
        payload=payload,
        fingerprint=fingerprint,
        now=now,
        **fields,
    )
    assert created
    return event


def broken(message: str = "the database hiccuped"):
    """lead_create that writes its lead, then breaks: what it wrote must not stay."""
    real = real_leads_services.lead_create

    def lead_create(**kwargs):
        real(**kwargs)
        raise RuntimeError(message)

    return lead_create


# -- storing ---------------------------------------------------------------------------------
def test_storing_the_same_senders_id_twice_keeps_one_row_and_answers_the_first(form):
    first, created = event_store(channel="hook", endpoint=form.pk, external_id="gads-1", payload={"n": 1}, now=NOW)
    assert created
    assert (first.state, first.received_at, first.next_attempt_at, first.processed_at) == ("pending", NOW, NOW, None)
    again, created = event_store(
        channel="hook", endpoint=form.pk, external_id="gads-1", payload={"n": 2}, now=NOW + timedelta(minutes=5)
    )
    assert (again.pk, created) == (first.pk, False)
    assert (again.payload, again.received_at) == ({"n": 1}, NOW)
    assert InboundEvent.objects.count() == 1
    # The same id at another endpoint or on another channel is another sender's.
    assert event_store(channel="hook", endpoint=form.pk + 1, external_id="gads-1", payload={}, now=NOW)[1]
    assert event_store(channel="form", endpoint=form.pk, external_id="gads-1", payload={}, now=NOW)[1]
    assert InboundEvent.objects.count() == 3


def test_an_event_stored_as_spam_is_already_processed(form):
    event, _created = event_store(
        channel="form", endpoint=form.pk, external_id="x", payload={"website": "spam"}, state="spam", now=NOW
    )
    assert (event.state, event.processed_at, event.next_attempt_at) == ("spam", NOW, None)
    assert event_process(event_id=event.pk, now=NOW).state == "spam"
    assert events_process_due(now=NOW + timedelta(days=1)) == ProcessResult(done=0, failed=0)
    assert not Lead.objects.exists()


# -- processing ------------------------------------------------------------------------------
def test_processing_an_event_twice_makes_one_lead(form):
    event = stored(form)
    done = event_process(event_id=event.pk, now=NOW)
    lead = Lead.objects.get()
    assert (done.state, done.lead, done.attempts, done.processed_at, done.next_attempt_at) == (
        "done",
        lead,
        1,
        NOW,
        None,
    )
    assert (lead.arrived_via, lead.created_at, lead.phone, lead.team) == ("form", NOW, "+6281234567890", form.team)
    again = event_process(event_id=event.pk, now=NOW + timedelta(minutes=1))
    assert (again.state, again.lead, again.attempts, again.processed_at) == ("done", lead, 1, NOW)
    assert Lead.objects.count() == 1
    assert events_process_due(now=NOW + timedelta(hours=1)) == ProcessResult(done=0, failed=0)
    assert Lead.objects.count() == 1


def test_a_processing_error_leaves_the_event_failed_and_nothing_half_written(form, monkeypatch):
    monkeypatch.setattr(LEAD_CREATE, broken())
    event = event_process(event_id=stored(form).pk, now=NOW)
    assert (event.state, event.lead, event.attempts) == ("failed", None, 1)
    assert event.error == "RuntimeError: the database hiccuped"
    assert event.next_attempt_at == NOW + timedelta(minutes=1)
    assert event.processed_at == NOW
    assert not Lead.objects.exists()
    assert not Inquiry.objects.exists()
    event.refresh_from_db()
    assert (event.state, event.error, event.lead) == ("failed", "RuntimeError: the database hiccuped", None)
    # Fixed, the retry makes the lead, once it is due.
    monkeypatch.undo()
    assert events_process_due(now=NOW + timedelta(seconds=59)) == ProcessResult(done=0, failed=0)
    assert events_process_due(now=NOW + timedelta(minutes=1)) == ProcessResult(done=1, failed=0)
    event.refresh_from_db()
    lead = Lead.objects.get()
    assert (event.state, event.lead, event.error, event.attempts, event.next_attempt_at) == ("done", lead, "", 2, None)
    assert lead.created_at == NOW + timedelta(minutes=1)


def test_an_inquiry_that_breaks_leaves_no_inquiry_and_no_notification(form, users, monkeypatch):
    known = LeadFactory(team=form.team, email="siti@pt-maju.co.id", owner=users["sales_rep"], created_at=NOW)

    def notify(**kwargs):
        raise RuntimeError("notifications are down")

    monkeypatch.setattr("notifications.services.inquiry_notify", notify)
    event = event_process(event_id=stored(form).pk, now=NOW)
    assert (event.state, event.error, event.lead) == ("failed", "RuntimeError: notifications are down", None)
    assert not Inquiry.objects.exists()
    assert not Notification.objects.exists()
    monkeypatch.undo()
    assert events_process_due(now=NOW + timedelta(minutes=1)) == ProcessResult(done=1, failed=0)
    event.refresh_from_db()
    assert (event.state, event.lead) == ("inquiry", known)
    assert list(known.inquiries.values_list("message", flat=True)) == ["Minta demo"]
    assert list(Notification.objects.values_list("user", "kind")) == [(users["sales_rep"].pk, "inquiry")]
    assert Lead.objects.count() == 1


def test_a_form_post_whose_processing_fails_is_still_accepted_and_made_a_lead_later(client, form, monkeypatch):
    monkeypatch.setattr(LEAD_CREATE, broken())
    answer = client.post(f"/f/{form.key}/", json.dumps(PAYLOAD), content_type="application/json")
    assert answer.status_code == 201
    assert answer.json() == {"ok": True, "lead": None}
    page = client.post(f"/f/{form.key}/", {"name": "Budi", "email": "budi@example.com"})
    assert page.status_code == 200 and "Thank you!" in page.content.decode()
    assert not Lead.objects.exists()
    events = InboundEvent.objects.order_by("pk")
    assert [(e.state, e.lead, e.next_attempt_at) for e in events] == [("failed", None, NOW + timedelta(minutes=1))] * 2
    assert events[0].payload["email"] == "siti@pt-maju.co.id"  # nothing accepted is lost
    monkeypatch.undo()
    later = NOW + timedelta(minutes=1)
    assert events_process_due(now=later) == ProcessResult(done=2, failed=0)
    assert sorted(Lead.objects.values_list("name", "arrived_via", "created_at")) == [
        ("Budi", "form", later),
        ("Siti Rahma", "form", later),
    ]
    assert list(InboundEvent.objects.values_list("state", flat=True)) == ["done", "done"]


def test_a_failing_event_is_retried_after_1_2_4_minutes_and_at_most_an_hour_apart(form, monkeypatch):
    monkeypatch.setattr(LEAD_CREATE, broken())
    event = event_process(event_id=stored(form).pk, now=NOW)
    assert event.next_attempt_at == NOW + timedelta(minutes=1)
    steps = [(1, 2, 3), (3, 4, 7), (7, 8, 15)]  # (retried at, next wait, next attempt at), in minutes
    for at, wait, next_at in steps:
        assert events_process_due(now=NOW + timedelta(minutes=at) - timedelta(seconds=1)).failed == 0  # not yet
        assert events_process_due(now=NOW + timedelta(minutes=at)) == ProcessResult(done=0, failed=1)
        event.refresh_from_db()
        assert event.next_attempt_at == NOW + timedelta(minutes=next_at), (at, wait)
    assert event.attempts == 4
    InboundEvent.objects.filter(pk=event.pk).update(attempts=20)
    late = NOW + timedelta(days=1)
    event = event_process(event_id=event.pk, now=late)
    assert (event.attempts, event.next_attempt_at) == (21, late + timedelta(hours=1))
    assert not Lead.objects.exists()


def test_pending_events_younger_than_the_stale_age_are_left_to_their_request(form):
    event = stored(form)
    young = events_process_due(now=NOW + timedelta(seconds=59))
    assert young == ProcessResult(done=0, failed=0)
    event.refresh_from_db()
    assert (event.state, event.attempts) == ("pending", 0)
    assert not Lead.objects.exists()
    assert events_process_due(now=NOW + timedelta(seconds=60)) == ProcessResult(done=1, failed=0)
    event.refresh_from_db()
    assert (event.state, event.lead, event.processed_at) == ("done", Lead.objects.get(), NOW + timedelta(seconds=60))


def test_the_stale_age_is_the_setting(form, settings):
    settings.INBOUND_STALE_SECONDS = 300
    stored(form)
    assert events_process_due(now=NOW + timedelta(seconds=299)) == ProcessResult(done=0, failed=0)
    assert events_process_due(now=NOW + timedelta(seconds=300)) == ProcessResult(done=1, failed=0)


def test_due_events_are_processed_oldest_first_up_to_the_limit(form):
    for n in range(3):
        payload = {"name": f"Orang {n}", "email": f"orang{n}@example.com"}
        stored(form, external_id=f"post-{n}", payload=payload, now=NOW + timedelta(seconds=n))
    assert events_process_due(now=NOW + timedelta(minutes=5), limit=2) == ProcessResult(done=2, failed=0)
    assert sorted(Lead.objects.values_list("name", flat=True)) == ["Orang 0", "Orang 1"]
    assert events_process_due(now=NOW + timedelta(minutes=5)) == ProcessResult(done=1, failed=0)


def test_finding_nothing_due_costs_one_query(form, django_assert_num_queries):
    stored(form, now=NOW + timedelta(minutes=10))  # young
    with django_assert_num_queries(1):
        assert events_process_due(now=NOW + timedelta(minutes=10)) == ProcessResult(done=0, failed=0)


def test_an_event_of_an_endpoint_that_is_gone_fails_and_waits(form):
    hook = InboundHookFactory(team=form.team)
    event, _created = event_store(channel="hook", endpoint=hook.pk + 1000, external_id="x", payload=PAYLOAD, now=NOW)
    event = event_process(event_id=event.pk, now=NOW)
    assert event.state == "failed"
    assert event.error.startswith("DoesNotExist: ")
    assert not Lead.objects.exists()


# -- the command and the admins' retry --------------------------------------------------------
def test_process_inbound_processes_what_is_due_and_prints_the_counts(form, time_machine):
    stored(form, external_id="left-by-its-request")
    event_store(channel="form", endpoint=form.pk + 1000, external_id="gone", payload=PAYLOAD, now=NOW)
    stored(
        form, external_id="young", payload={"name": "Muda", "email": "muda@example.com"}, now=NOW + timedelta(minutes=2)
    )
    time_machine.move_to(NOW + timedelta(minutes=2), tick=False)
    out = StringIO()
    call_command("process_inbound", stdout=out)
    assert out.getvalue().strip() == "Inbound events: 1 processed, 1 failed (retried later)."
    assert list(Lead.objects.values_list("name", flat=True)) == ["Siti Rahma"]
    states = dict(InboundEvent.objects.values_list("external_id", "state"))
    assert states == {"left-by-its-request": "done", "gone": "failed", "young": "pending"}
    out = StringIO()
    call_command("process_inbound", stdout=out)  # again: the failed one is not due yet
    assert out.getvalue().strip() == "Inbound events: 0 processed, 0 failed (retried later)."


@pytest.fixture
def superuser(users):
    admin = users["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save(update_fields=["is_staff", "is_superuser"])
    return admin


def test_an_admin_retries_a_failed_event_from_the_admin_and_it_makes_the_lead(
    client, form, superuser, users, monkeypatch
):
    monkeypatch.setattr(LEAD_CREATE, broken())
    failed = event_process(event_id=stored(form).pk, now=NOW)
    monkeypatch.undo()
    done = stored(form, external_id="post-2", payload={"name": "Budi", "email": "budi@example.com"})
    done = event_process(event_id=done.pk, now=NOW)
    assert (failed.state, done.state) == ("failed", "done")
    changelist = "/admin/intake/inboundevent/"
    # Not staff: the admin sends them to log in and nothing is processed.
    client.force_login(users["sales_manager"])
    refused = client.post(changelist, {"action": "retry", "_selected_action": [failed.pk]})
    assert refused.status_code == 302 and "/login/" in refused["Location"]
    failed.refresh_from_db()
    assert failed.state == "failed"
    client.force_login(superuser)
    assert client.get(changelist + "?state__exact=failed").status_code == 200
    answer = client.post(changelist, {"action": "retry", "_selected_action": [failed.pk, done.pk]}, follow=True)
    assert answer.status_code == 200
    assert "1 of 1 event processed." in answer.content.decode()
    failed.refresh_from_db()
    lead = Lead.objects.get(name="Siti Rahma")
    assert (failed.state, failed.lead, failed.error, failed.attempts) == ("done", lead, "", 2)
    assert Lead.objects.count() == 2
    done.refresh_from_db()
    assert done.attempts == 1  # a processed event selected too is left alone
