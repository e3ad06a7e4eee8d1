"""The API's cheap list serializer gives, byte for byte, what DRF's own gives: every value
kind (text, ids, empty relations, decimals, times with the caller's offset), fields that
DRF must still resolve itself (dotted sources, methods), in English and Indonesian, in
several time zones; and the leads API answers its list with it, without joins."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from rest_framework import serializers

from leads.api import LeadSerializer
from leads.filters import LeadFilter
from leads.models import Lead, Status
from salesmarketing.api import FlatListSerializer
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
    standard = serializers.ListSerializer(rows, child=serializer_class(), context=context)
    return json.dumps(standard.data)


@pytest.mark.parametrize("zone", ["Asia/Jakarta", "Asia/Jayapura", "UTC", "America/Sao_Paulo"])
@pytest.mark.parametrize("language", ["en", "id"])
def test_the_lead_list_is_what_drfs_serializer_gives(leads, zone, language):
    context = {"detail": False}
    with timezone.override(zone), translation.override(language):
        flat = LeadSerializer(leads, many=True, context=context)
        assert isinstance(flat, FlatListSerializer)
        assert json.dumps(flat.data) == _drf(LeadSerializer, leads, context)
    first = flat.data[1]
    assert first["campaign"] is not None and first["value"] == "1500000.50" and first["sla_status"] is None


class _Mixed(serializers.ModelSerializer):
    """Fields that take the slow way: a dotted source, a method, a related object."""

    team_name = serializers.CharField(source="team.name")
    owner_name = serializers.SerializerMethodField()
    campaign = serializers.StringRelatedField()
    owner = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Lead
        fields = ["id", "team_name", "owner_name", "campaign", "owner", "created_at", "value"]
        list_serializer_class = FlatListSerializer

    def get_owner_name(self, lead: Lead) -> str | None:
        return lead.owner.username if lead.owner else None


def test_fields_that_need_drf_still_go_through_it(leads):
    rows = leads.select_related("team", "owner", "campaign")
    flat = _Mixed(rows, many=True, context={})
    assert json.dumps(flat.data) == _drf(_Mixed, rows, {})
    assert {row["team_name"] for row in flat.data} == {leads[0].team.name}


def test_the_leads_api_lists_without_joining(leads, users, api_as):
    client = api_as(users["sales_manager"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/leads/")
    assert response.status_code == 200 and response.json()["count"] == 5
    page = next(q["sql"] for q in queries if "IN (SELECT" in q["sql"])
    assert "JOIN" not in page.upper()
    expected = _drf(LeadSerializer, Lead.objects.filter(pk__in=leads).order_by("-created_at", "-id"), {"detail": False})
    assert json.dumps(response.json()["results"]) == expected


def test_a_list_without_parameters_skips_the_filter_set_and_gives_the_same_page(leads, users, api_as, monkeypatch):
    client = api_as(users["sales_manager"])
    built = []
    original = LeadFilter.__init__

    def counting(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(LeadFilter, "__init__", counting)
    bare = client.get("/api/v1/leads/")
    assert not built  # no filter set for a page with no parameter
    paged = client.get("/api/v1/leads/", {"page": 1})
    assert not built
    unknown = client.get("/api/v1/leads/", {"utm": "x"})  # any other parameter: the filter set runs
    assert len(built) == 1
    assert bare.json() == paged.json() == unknown.json() and bare.json()["count"] == 5


def test_a_filter_still_filters_and_a_bad_value_still_answers_400(leads, users, api_as):
    client = api_as(users["sales_manager"])
    won = client.get("/api/v1/leads/", {"status": "won", "page": 1}).json()
    assert won["count"] == 1 and won["results"][0]["status"] == "won"
    assert client.get("/api/v1/leads/", {"status": "nonsense"}).status_code == 400
    assert client.get("/api/v1/leads/", {"page": 1, "owner": "x"}).status_code == 400
