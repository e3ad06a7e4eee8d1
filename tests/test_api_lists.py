"""The leads API's list: a page of leads read without joins (a relation's id from its column),
as the serializer gives them one by one, and its filters."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers

from leads.api import LeadSerializer
from leads.models import Lead, Status
from tests.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def leads(users):
    team, rep = users["sales_rep"].team, users["sales_rep"]
    campaign = CampaignFactory(team=users["marketer"].team)
    now = timezone.now().replace(microsecond=123456)
    made = [
        LeadFactory(team=team),  # no owner, campaign, value or close
        LeadFactory(team=team, owner=rep, campaign=campaign, value=Decimal("1500000.50"), phone="+62 812"),
        LeadFactory(team=team, owner=rep, value=Decimal("0"), notes="Rapat <b>besok</b>\nlalu telepon", name="Ŝiti 😀"),
        LeadFactory(team=team, status=Status.WON, value=Decimal("20000"), closed_at=now - timedelta(days=1)),
        LeadFactory(team=team, created_at=now - timedelta(days=200), email="", company=""),
    ]
    return Lead.objects.filter(pk__in=[lead.pk for lead in made]).order_by("pk")


def _drf(serializer_class, rows, context) -> str:
    return json.dumps(serializers.ListSerializer(rows, child=serializer_class(), context=context).data)


def test_the_leads_api_lists_without_joining(leads, users, api_as):
    client = api_as(users["sales_manager"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/leads/")
    assert response.status_code == 200 and response.json()["count"] == 5
    page = next(q["sql"] for q in queries if "IN (SELECT" in q["sql"])
    assert "JOIN" not in page.upper()
    expected = _drf(LeadSerializer, Lead.objects.filter(pk__in=leads).order_by("-created_at", "-id"), {"detail": False})
    assert json.dumps(response.json()["results"]) == expected


def test_a_filter_still_filters_and_a_bad_value_still_answers_400(leads, users, api_as):
    client = api_as(users["sales_manager"])
    won = client.get("/api/v1/leads/", {"status": "won", "page": 1}).json()
    assert won["count"] == 1 and won["results"][0]["status"] == "won"
    assert client.get("/api/v1/leads/", {"status": "nonsense"}).status_code == 400
    assert client.get("/api/v1/leads/", {"page": 1, "owner": "x"}).status_code == 400
