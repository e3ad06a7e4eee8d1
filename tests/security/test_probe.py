"""What an outside probe of the running app found, each reproduced here and answered now with
a clean 4xx or the right owner: numbers a database cannot hold, throttles a forged header
got round, a follow-up logged in someone else's name, server errors on extreme input, a
refused write that still wrote, a preview that told of hidden leads, and the smaller ones
(password reset, usernames by case, the language cookie)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from unittest import mock
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import redis
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from kpis import services as kpis
from kpis.models import Kpi, Measurement, Target
from leads import services as leads
from leads.models import Campaign, Lead, Touch
from salesmarketing.ratelimit import client_ip, rate_exceeded
from slas import services as slas
from slas.models import Breach, Delivery
from slas.services.notifications import deliveries_send
from teams.models import Membership, User
from tests.factories import CampaignFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 8, 12, 10, tzinfo=JAKARTA)


@pytest.fixture(autouse=True)
def _fresh_rate_counters():
    cache.clear()


# -- 1. numbers every database reads back -----------------------------------------------------
@pytest.mark.parametrize("value", ["99999999999999.99", "10000000000000", "1.555", "1234567890123.456"])
def test_a_deal_value_the_columns_cannot_hold_is_a_400_and_the_lists_still_answer(api_as, users, sales_team, value):
    client = api_as(users["sales_manager"])
    response = client.post("/api/v1/leads/", {"name": "Budi", "team": sales_team.pk, "value": value}, format="json")
    assert response.status_code == 400 and "value" in response.json()
    assert not Lead.objects.exists()
    assert client.get("/api/v1/leads/").status_code == 200


def test_the_largest_deal_value_reads_back_exactly_everywhere(api_as, client, users, sales_team):
    api = api_as(users["sales_manager"])
    created = api.post(
        "/api/v1/leads/", {"name": "Budi", "team": sales_team.pk, "value": "9999999999999.99"}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert Lead.objects.get().value == Decimal("9999999999999.99")
    assert api.get(f"/api/v1/leads/{created.json()['id']}/").json()["value"] == "9999999999999.99"
    assert api.get("/api/v1/leads/").json()["results"][0]["value"] == "9999999999999.99"
    client.force_login(users["sales_manager"])
    for path in ("/leads/", "/leads/export/", "/insights/", "/kpis/", "/"):
        assert client.get(path).status_code == 200, path


def test_a_campaign_spend_over_13_digits_is_a_400(api_as, users, marketing_team):
    campaign = CampaignFactory(team=marketing_team)
    client = api_as(users["marketing_manager"])
    response = client.patch(f"/api/v1/campaigns/{campaign.pk}/", {"spend": "99999999999999.99"}, format="json")
    assert response.status_code == 400 and "spend" in response.json()
    campaign.refresh_from_db()
    assert campaign.spend == Decimal("10000000.00")
    assert client.get("/api/v1/campaigns/").status_code == 200


def test_kpi_values_and_targets_over_15_significant_digits_are_400s(api_as, users, sales_team):
    client = api_as(users["sales_manager"])
    manual = client.post("/api/v1/kpis/", {"name": "Pengunjung", "metric": "manual"}, format="json").json()
    quota = client.post("/api/v1/kpis/", {"name": "Quota", "metric": "revenue_won"}, format="json").json()
    value = {"kpi": manual["id"], "team": sales_team.pk, "date": "2026-08-01", "value": "12345678901234.5678"}
    refused = client.post("/api/v1/kpi-measurements/", value, format="json")
    assert refused.status_code == 400 and "value" in refused.json()
    target = {"kpi": manual["id"], "period_start": "2026-07-01", "period": "quarter", "target": "1234567890.123456"}
    assert client.post("/api/v1/kpi-targets/", target, format="json").status_code == 400
    money = {"kpi": quota["id"], "period_start": "2026-07-01", "period": "quarter", "target": "10000000000000"}
    refused = client.post("/api/v1/kpi-targets/", money, format="json")
    assert refused.status_code == 400 and "target" in refused.json()
    assert not Measurement.objects.exists() and not Target.objects.exists()
    kept = client.post("/api/v1/kpi-measurements/", {**value, "value": "12345678901.2345"}, format="json")
    assert kept.status_code == 201, kept.json()
    assert Measurement.objects.get().value == Decimal("12345678901.2345")
    assert client.get("/api/v1/kpi-measurements/").json()["results"][0]["value"] == "12345678901.2345"


def test_an_imported_value_over_13_digits_is_a_row_error(users, sales_team):
    content = b"name,value\nBudi,99999999999999.99\nSiti,1500000\n"
    report = leads.leads_import(
        file=SimpleUploadedFile("leads.csv", content), team=sales_team, by=users["sales_manager"], dry_run=False
    )
    assert [(error.row, error.column) for error in report.errors] == [(2, "value")]
    assert not Lead.objects.exists()


def test_the_status_form_refuses_a_value_over_13_digits(client, users, sales_team):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"])
    client.force_login(users["sales_rep"])
    response = client.post(f"/leads/{lead.pk}/status/", {"status": "won", "value": "99999999999999.99"})
    lead.refresh_from_db()
    assert (lead.status, lead.value) == ("new", None)
    assert response.status_code in (200, 302, 400)
    assert client.get("/leads/").status_code == 200


# -- 2. throttles and the client's address ------------------------------------------------------
def test_a_new_x_forwarded_for_on_each_request_does_not_reset_the_token_throttle(api_client, users):
    answers = [
        api_client.post(
            "/api/v1/auth/token/",
            {"username": "rep1", "password": "wrong"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        ).status_code
        for n in range(12)
    ]
    assert answers[-1] == 429, answers


def test_the_client_address_is_the_connection_unless_a_proxy_is_configured(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    settings.NUM_PROXIES = 0
    assert client_ip(request) == "10.0.0.5"
    settings.NUM_PROXIES = 1  # the proxy appended the address it saw; what came before is the client's word
    assert client_ip(request) == "198.51.100.7"
    settings.NUM_PROXIES = 2
    assert client_ip(request) == "6.6.6.6"
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="10.0.0.5")) == "10.0.0.5"


def test_rate_limits_count_in_the_cache_and_let_requests_through_when_it_is_down():
    assert [rate_exceeded(scope="t", key="a", limit=2, per=60) for _ in range(3)] == [False, False, True]
    assert not rate_exceeded(scope="t", key="b", limit=2, per=60)
    with mock.patch("salesmarketing.ratelimit.cache.incr", side_effect=RedisConnectionError):
        assert not rate_exceeded(scope="t", key="a", limit=2, per=60)


def test_the_token_endpoint_answers_when_the_cache_is_down(api_client, users):
    with mock.patch("rest_framework.throttling.SimpleRateThrottle.cache") as broken:
        broken.get.side_effect = RedisConnectionError
        response = api_client.post("/api/v1/auth/token/", {"username": "rep1", "password": "wrong"}, format="json")
    assert response.status_code == 400


def test_password_reset_is_rate_limited_per_address_and_per_email(client, users, settings):
    settings.PASSWORD_RESET_RATE_PER_HOUR = 3
    email = users["sales_rep"].email
    answers = [client.post("/accounts/password_reset/", {"email": email}).status_code for _ in range(4)]
    assert answers == [302, 302, 302, 429]
    resets = Delivery.objects.filter(kind="reset")
    assert resets.count() == 3
    # Another address asking for the same mailbox is refused too: the mailbox is not flooded.
    other = client.post("/accounts/password_reset/", {"email": email}, REMOTE_ADDR="192.0.2.9")
    assert other.status_code == 429 and resets.count() == 3
    deliveries_send(now=timezone.now())
    assert len(mail.outbox) == 3


# -- 3. a follow-up in someone else's name ------------------------------------------------------
def test_a_rep_cannot_log_a_touch_in_a_teammates_or_managers_name(api_as, users, sales_team):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"])
    client = api_as(users["sales_rep"])
    for someone in ("other_rep", "sales_manager"):
        response = client.post(
            f"/api/v1/leads/{lead.pk}/touches/", {"kind": "call", "user": users[someone].pk}, format="json"
        )
        assert response.status_code == 403, someone
    assert not Touch.objects.exists()
    own = client.post(f"/api/v1/leads/{lead.pk}/touches/", {"kind": "call", "user": users["sales_rep"].pk})
    assert own.status_code == 201 and Touch.objects.get().user == users["sales_rep"]


def test_a_manager_logs_a_touch_for_a_rep_of_the_team_only(api_as, users, sales_team):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"])
    client = api_as(users["sales_manager"])
    mine = client.post(f"/api/v1/leads/{lead.pk}/touches/", {"kind": "call", "user": users["sales_rep"].pk})
    assert mine.status_code == 201 and mine.json()["user"] == users["sales_rep"].pk
    theirs = client.post(f"/api/v1/leads/{lead.pk}/touches/", {"kind": "call", "user": users["other_team_rep"].pk})
    assert theirs.status_code == 400 and "user" in theirs.json()
    assert Touch.objects.count() == 1


# -- 4. extreme input ---------------------------------------------------------------------------
def test_a_deeply_nested_json_body_is_a_400(api_as, users):
    body = "[" * 100_000 + "]" * 100_000
    response = api_as(users["sales_manager"]).post("/api/v1/leads/", body, content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("when", ["0001-01-01", "9999-12-31T23:59", "0001-01-01T00:00:00+14:00"])
def test_dates_at_the_ends_of_the_calendar_are_400s_on_lists_and_exports(api_as, client, users, when):
    when = quote(when)
    api = api_as(users["sales_manager"])
    for path in (f"/api/v1/leads/?created_after={when}", f"/api/v1/leads/export/?created_before={when}"):
        response = api.get(path)
        assert response.status_code == 400, path
        assert "Choose a date between 1900 and 9998." in json.dumps(response.json())
    assert api.get(f"/api/v1/breaches/?since={when}").status_code == 400
    client.force_login(users["sales_manager"])
    for path in (f"/leads/?created_after={when}", f"/breaches/?since={when}"):
        assert client.get(path).status_code == 200, path
    for path in (f"/leads/export/?created_after={when}", f"/breaches/export/?until={when}"):
        response = client.get(path)
        assert response.status_code == 200 and b"".join(response.streaming_content).count(b"\n") == 1, path


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_insights_for_year_1_or_9999_show_a_form_error(client, users, day):
    client.force_login(users["sales_manager"])
    for query in (f"start={day}", f"end={day}"):
        response = client.get(f"/insights/?{query}")
        assert response.status_code == 200
        assert "Choose a date between 1900 and 9998." in response.content.decode()


def test_a_target_starting_in_9999_is_a_400(api_as, users, sales_team):
    client = api_as(users["sales_manager"])
    kpi = client.post("/api/v1/kpis/", {"name": "Leads", "metric": "leads_created"}, format="json").json()
    for start in ("9999-10-01", "9999-01-01", "0001-01-01"):
        payload = {"kpi": kpi["id"], "period_start": start, "period": "quarter", "target": "10"}
        response = client.post("/api/v1/kpi-targets/", payload, format="json")
        assert response.status_code == 400 and "period_start" in response.json(), start
    assert not Target.objects.exists()
    with pytest.raises(ValidationError) as error:
        kpis.target_create(
            by=users["sales_manager"], kpi=Kpi.objects.get(), period_start=date(9999, 1, 1), period="year", target=1
        )
    assert "period_start" in error.value.message_dict


# -- 5. a refused breach PATCH writes nothing -----------------------------------------------------
@pytest.fixture
def breach(users, sales_team, response_sla) -> Breach:
    lead = LeadFactory(team=sales_team, created_at=datetime(2026, 8, 5, 9, tzinfo=JAKARTA))
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=lead.created_at)
    slas.sla_sweep(now=datetime(2026, 8, 6, 12, tzinfo=JAKARTA))
    return Breach.objects.get()


@pytest.fixture
def volume_breach(users, volume_sla) -> Breach:
    Membership.objects.update(started_on=date(2026, 1, 1))  # two reps in the team all August
    slas.sla_sweep(now=datetime(2026, 9, 1, 1, tzinfo=JAKARTA))  # August delivered nothing
    return Breach.objects.get(kind="volume", period_start=date(2026, 8, 1))


def test_a_breach_patch_refused_for_its_waiver_saves_no_acknowledgement(api_as, users, volume_breach):
    client = api_as(users["marketing_manager"])  # may acknowledge a volume breach it owes, not waive it
    body = {"acknowledged": True, "note": "Seen", "waived": True, "waived_reason": "Outage"}
    assert client.patch(f"/api/v1/breaches/{volume_breach.pk}/", body, format="json").status_code == 403
    volume_breach.refresh_from_db()
    assert (volume_breach.acknowledged_at, volume_breach.note, volume_breach.waived) == (None, "", False)


def test_a_breach_patch_with_a_bad_waiver_saves_no_acknowledgement(api_as, users, breach):
    client = api_as(users["sales_manager"])
    for body in ({"note": "Seen", "waived": True, "waived_reason": " "}, {"note": "x" * 2001, "waived": True}):
        assert client.patch(f"/api/v1/breaches/{breach.pk}/", body, format="json").status_code == 400
        breach.refresh_from_db()
        assert (breach.acknowledged_at, breach.note, breach.waived) == (None, "", False)
    done = client.patch(f"/api/v1/breaches/{breach.pk}/", {"note": "Seen", "waived": True, "waived_reason": "Outage"})
    assert done.status_code == 200 and done.json()["waived"] and done.json()["acknowledged_at"]
    again = client.patch(f"/api/v1/breaches/{breach.pk}/", {"waived": False}, format="json")
    assert again.status_code == 400 and "waived" in again.json()


# -- 6. the import preview tells only of leads the importer may see -----------------------------
def test_a_reps_import_preview_names_no_duplicate_among_a_teammates_leads(users, sales_team):
    LeadFactory(team=sales_team, owner=users["other_rep"], email="hidden@example.com")
    LeadFactory(team=sales_team, owner=users["sales_rep"], email="mine@example.com")
    content = b"name,email\nA,hidden@example.com\nB,mine@example.com\n"
    report = leads.leads_import(
        file=SimpleUploadedFile("leads.csv", content), team=sales_team, by=users["sales_rep"], dry_run=True
    )
    assert [warning.row for warning in report.duplicates] == [3]
    manager = leads.leads_import(
        file=SimpleUploadedFile("leads.csv", content), team=sales_team, by=users["sales_manager"], dry_run=True
    )
    assert [warning.row for warning in manager.duplicates] == [2, 3]


# -- 7. smaller findings ------------------------------------------------------------------------
def test_usernames_that_differ_only_in_case_cannot_both_exist(api_as, users, sales_team):
    response = api_as(users["admin"]).post(
        "/api/v1/users/",
        {"username": "REP1", "password": "correct-horse-battery-9", "role": "sales_rep", "team": sales_team.pk},
        format="json",
    )
    assert response.status_code == 400 and "username" in response.json()
    with pytest.raises(ValidationError) as error:
        UserFactory(username="Rep1", team=sales_team)
    assert "username" in error.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="rEp1")
    assert User.objects.filter(username__iexact="rep1").count() == 1


def test_the_language_cookie_is_secure_when_the_site_is(client, users, settings):
    settings.LANGUAGE_COOKIE_SECURE = True
    client.force_login(users["sales_rep"])
    response = client.post("/accounts/language/", {"language": "id", "next": "/"})
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "id" and cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME)
    again = client.get("/")  # the saved language is set again on a browser that lacks the cookie
    assert again.cookies[settings.LANGUAGE_COOKIE_NAME]["secure"]


def test_a_campaign_is_unchanged_by_a_refused_spend(users, marketing_team):
    campaign = CampaignFactory(team=marketing_team)
    with pytest.raises(ValidationError):
        leads.campaign_update(campaign=campaign, by=users["marketing_manager"], spend=Decimal("1e13"))
    assert Campaign.objects.get().spend == Decimal("10000000.00")


@pytest.mark.skipif(
    not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"), reason="runs where CACHE_URL names Redis (CI)"
)
def test_throttle_counters_live_in_the_shared_cache_where_every_worker_sees_them(api_client, users):
    for _ in range(3):
        api_client.post("/api/v1/auth/token/", {"username": "rep1", "password": "wrong"}, format="json")
    elsewhere = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])  # as another process would
    keys = elsewhere.keys("*throttle_auth_token*")
    assert len(keys) == 1 and elsewhere.type(keys[0]) == b"string"
    assert len(cache.get(keys[0].decode().split(":", 2)[2])) == 3
