"""Posts of one person processed at once, on PostgreSQL (SPEC §13): a double click, or a form
and a WhatsApp message from the same person in the same instant, make one lead and an
inquiry on it (or the second recognised as the first), never two leads; the same event
processed by two at once is processed once. SQLite runs one writer at a time, so these run
on the CI's PostgreSQL leg."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections

from intake import reading
from intake.models import InboundEvent
from intake.services import event_process, event_store
from leads.models import Inquiry, Lead
from tests.factories import LeadFormFactory, WhatsAppNumberFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
]
NOW = datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


def process_at_once(event_ids: list[int]) -> list[InboundEvent]:
    """Process each event in a thread of its own (each its own connection), started together."""
    start = threading.Barrier(len(event_ids))
    results: dict[int, InboundEvent] = {}
    errors: list[BaseException] = []

    def work(index: int, event_id: int) -> None:
        try:
            start.wait()
            results[index] = event_process(event_id=event_id, now=NOW)
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n, pk)) for n, pk in enumerate(event_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return [results[n] for n in range(len(event_ids))]


def form_event(form, n: int, **fields: str) -> int:
    payload = {"name": "Siti Rahma", **fields}
    fingerprint = reading.form_arrival(payload, source="web").fingerprint()
    event, _new = event_store(
        channel="form", endpoint=form.pk, external_id=f"x{n}", payload=payload, fingerprint=fingerprint, now=NOW
    )
    return event.pk


def test_a_double_click_makes_one_lead(sales_team):
    form = LeadFormFactory(team=sales_team)
    events = [form_event(form, n, email="siti@pt-maju.co.id") for n in range(4)]
    results = process_at_once(events)
    assert Lead.objects.count() == 1
    assert sorted(event.state for event in results) == ["done", "duplicate", "duplicate", "duplicate"]
    assert {event.lead_id for event in results} == {Lead.objects.get().pk}


def test_a_form_and_a_whatsapp_message_of_one_person_at_once_make_one_lead_and_an_inquiry(sales_team):
    form = LeadFormFactory(team=sales_team)
    number = WhatsAppNumberFactory(team=sales_team)
    by_form = form_event(form, 1, phone="+6281234567890", notes="Minta demo")
    message = {"from": "6281234567890", "id": "wamid.1", "type": "text", "text": {"body": "Halo"}}
    by_chat, _new = event_store(
        channel="whatsapp", endpoint=number.pk, external_id="wamid.1", payload={"message": message}, now=NOW
    )
    results = process_at_once([by_form, by_chat.pk])
    assert Lead.objects.count() == 1
    assert sorted(event.state for event in results) == ["done", "inquiry"]
    assert Inquiry.objects.get().lead == Lead.objects.get()


def test_one_event_processed_by_two_at_once_is_processed_once(sales_team):
    form = LeadFormFactory(team=sales_team)
    event = form_event(form, 1, email="siti@pt-maju.co.id")
    results = process_at_once([event, event, event])
    assert Lead.objects.count() == 1
    assert {result.state for result in results} == {"done"}
    assert InboundEvent.objects.get().attempts == 1
