"""INSERT … SELECT through the ORM (salesmarketing.sql.insert_select)."""

from __future__ import annotations

import pytest
from django.db.models import DateTimeField, F, IntegerField, Value

from leads.models import Lead
from notifications.models import Notification
from salesmarketing.sql import insert_select
from tests.factories import LeadFactory
from tests.slas.conftest import jkt

pytestmark = pytest.mark.django_db


def columns(users):
    return {
        "user_id": Value(users["sales_rep"].pk),
        "kind": Value("lead_assigned"),
        "lead_id": F("pk"),
        "breach_id": Value(None, output_field=IntegerField()),
        "clock_id": Value(None, output_field=IntegerField()),
        "created_at": Value(jkt(2026, 8, 5, 10), output_field=DateTimeField()),
        "read_at": Value(None, output_field=DateTimeField()),
    }


def test_it_writes_a_row_per_source_row_once_and_nothing_for_an_empty_source(users, sales_team):
    made = [LeadFactory(team=sales_team) for _ in range(3)]
    assert insert_select(Notification, Lead.objects.filter(pk__in=[lead.pk for lead in made[:2]]), columns(users)) == 2
    assert insert_select(Notification, Lead.objects.all(), columns(users)) == 1  # two were there already
    assert insert_select(Notification, Lead.objects.filter(pk__in=[]), columns(users)) == 0
    rows = Notification.objects.order_by("lead_id").values_list("lead_id", "user_id", "created_at")
    assert list(rows) == [(lead.pk, users["sales_rep"].pk, jkt(2026, 8, 5, 10)) for lead in made]
