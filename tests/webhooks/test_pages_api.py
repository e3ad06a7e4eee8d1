"""The admin's webhook pages and API (SPEC §7, §12): add one (its secret shown once), change,
switch, delete, list deliveries and redeliver; bad input answers 400 or a form error with
nothing written; only admins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from tests.slas.conftest import jkt
from webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db
T = jkt(2026, 8, 5, 9)
URL = "http://127.0.0.1:9/hook"


@pytest.fixture(autouse=True)
def _a_receiver_on_this_machine_is_allowed(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.fixture
def webhook() -> Webhook:
    found = Webhook.objects.create(name="Sales in Slack", url=URL, events=["breach.recorded"], secret="whsec_old")
    for j, status in enumerate(["delivered", "failed", "retrying"]):
        WebhookDelivery.objects.create(
            webhook=found, event="breach.recorded", subject_id=j, status=status, attempts=j + 1,
            response_code=200 if status == "delivered" else 500, retry_until=T, created_at=T + timedelta(minutes=j),
        )  # fmt: skip
    return found


# -- API -----------------------------------------------------------------------------------------
def test_an_admin_adds_a_webhook_and_sees_its_secret_only_in_that_answer(api_as, users):
    api = api_as(users["admin"])
    answer = api.post(
        "/api/v1/webhooks/",
        {"url": URL, "events": ["breach.recorded", "lead.created"], "format": "slack", "name": "Sales"},
        format="json",
    )
    assert answer.status_code == 201
    body = answer.json()
    made = Webhook.objects.get()
    assert body["secret"] == made.secret and made.secret.startswith("whsec_") and len(made.secret) > 40
    assert (body["events"], body["format"], body["active"]) == (["lead.created", "breach.recorded"], "slack", True)
    assert api.get(f"/api/v1/webhooks/{made.pk}/").json()["secret"] is None
    assert api.get("/api/v1/webhooks/").json()["results"][0]["secret"] is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"url": "http://10.1.2.3/hook", "events": ["lead.created"]}, "url"),
        ({"url": "http://169.254.169.254/latest", "events": ["lead.created"]}, "url"),
        ({"url": "http://[::1]:8000/hook", "events": ["lead.created"]}, "url"),
        ({"url": "gopher://127.0.0.1/x", "events": ["lead.created"]}, "url"),
        ({"url": URL, "events": []}, "events"),
        ({"url": URL, "events": ["lead.deleted"]}, "events"),
        ({"url": URL, "events": "lead.created"}, "events"),
        ({"url": URL, "events": ["lead.created"], "format": "xml"}, "format"),
        ({"events": ["lead.created"]}, "url"),
    ],
)
def test_a_webhook_that_may_not_be_made_answers_400_and_writes_nothing(api_as, users, settings, data, field):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"] if data.get("url") == URL else []
    answer = api_as(users["admin"]).post("/api/v1/webhooks/", data, format="json")
    assert answer.status_code == 400
    assert field in answer.json()
    assert not Webhook.objects.exists()


def test_a_private_address_refused_by_name(api_as, users, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    answer = api_as(users["admin"]).post(
        "/api/v1/webhooks/", {"url": "http://localhost:8000/hook", "events": ["lead.created"]}, format="json"
    )
    assert answer.status_code == 400
    assert "loopback, private or link-local" in answer.json()["url"][0]


def test_patch_changes_it_and_switching_it_on_forgets_its_failures(api_as, users, webhook, settings):
    Webhook.objects.filter(pk=webhook.pk).update(active=False, failing_since=T, switched_off_at=T + timedelta(days=1))
    api = api_as(users["admin"])
    answer = api.patch(f"/api/v1/webhooks/{webhook.pk}/", {"active": True, "name": "Renamed"}, format="json")
    assert answer.status_code == 200
    webhook.refresh_from_db()
    assert (webhook.name, webhook.active, webhook.failing_since, webhook.switched_off_at) == (
        "Renamed",
        True,
        None,
        None,
    )
    settings.WEBHOOK_ALLOWED_HOSTS = []
    refused = api.patch(f"/api/v1/webhooks/{webhook.pk}/", {"url": "http://192.168.0.7/x", "name": "X"}, format="json")
    assert refused.status_code == 400
    webhook.refresh_from_db()
    assert (webhook.url, webhook.name) == (URL, "Renamed")


def test_deliveries_are_listed_newest_first_filtered_and_one_is_redelivered(api_as, users, webhook):
    api = api_as(users["admin"])
    listed = api.get(f"/api/v1/webhooks/{webhook.pk}/deliveries/").json()
    assert listed["count"] == 3
    first = listed["results"][0]
    assert (first["status"], first["attempts"], first["response_code"]) == ("retrying", 3, 500)
    failed = api.get(f"/api/v1/webhooks/{webhook.pk}/deliveries/?status=failed").json()["results"]
    assert [d["status"] for d in failed] == ["failed"]
    answer = api.post(f"/api/v1/webhooks/{webhook.pk}/deliveries/{failed[0]['id']}/redeliver/")
    assert answer.status_code == 200
    assert answer.json()["status"] == "pending"
    assert WebhookDelivery.objects.get(pk=failed[0]["id"]).status == "pending"


def test_a_delivery_of_another_webhook_is_not_found(api_as, users, webhook):
    other = Webhook.objects.create(url=URL, events=["lead.created"])
    mine = webhook.deliveries.first()
    answer = api_as(users["admin"]).post(f"/api/v1/webhooks/{other.pk}/deliveries/{mine.pk}/redeliver/")
    assert answer.status_code == 404
    assert WebhookDelivery.objects.get(pk=mine.pk).status == mine.status


def test_a_switched_off_webhook_is_not_redelivered(api_as, users, webhook):
    Webhook.objects.filter(pk=webhook.pk).update(active=False)
    failed = webhook.deliveries.get(status="failed")
    answer = api_as(users["admin"]).post(f"/api/v1/webhooks/{webhook.pk}/deliveries/{failed.pk}/redeliver/")
    assert answer.status_code == 400
    assert WebhookDelivery.objects.get(pk=failed.pk).status == "failed"


def test_deleting_a_webhook_deletes_its_deliveries(api_as, users, webhook):
    assert api_as(users["admin"]).delete(f"/api/v1/webhooks/{webhook.pk}/").status_code == 204
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize("role", ["sales_manager", "marketing_manager", "sales_rep", "marketer"])
def test_nobody_but_an_admin_sees_or_adds_webhooks(api_as, users, webhook, role):
    api = api_as(users[role])
    assert api.get("/api/v1/webhooks/").status_code == 403
    assert api.get(f"/api/v1/webhooks/{webhook.pk}/deliveries/").status_code == 403
    assert api.post("/api/v1/webhooks/", {"url": URL, "events": ["lead.created"]}, format="json").status_code == 403
    assert Webhook.objects.count() == 1


# -- pages ---------------------------------------------------------------------------------------
def test_a_webhook_added_on_its_page_shows_its_secret_once(client, users):
    client.force_login(users["admin"])
    data = {"name": "Deals", "url": URL, "events": ["lead.created", "lead.assigned"], "format": "json", "active": "on"}
    response = client.post(reverse("webhooks:create"), data)
    made = Webhook.objects.get()
    assert response.status_code == 302 and response.url == reverse("webhooks:detail", args=[made.pk])
    first = client.get(response.url).content.decode()
    assert made.secret in first and "it is shown this once" in first
    assert made.secret not in client.get(response.url).content.decode()
    assert (made.name, made.events, made.created_by) == ("Deals", ["lead.created", "lead.assigned"], users["admin"])


def test_the_form_says_why_an_address_is_refused_and_nothing_is_added(client, users, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    client.force_login(users["admin"])
    data = {"url": "http://10.0.0.8/hook", "events": ["lead.created"], "format": "json"}
    response = client.post(reverse("webhooks:create"), data)
    assert response.status_code == 200
    assert "loopback, private or link-local" in response.content.decode()
    assert not Webhook.objects.exists()


def test_the_page_lists_deliveries_by_status_and_redelivers_one_in_place(client, users, webhook):
    client.force_login(users["admin"])
    page = client.get(reverse("webhooks:detail", args=[webhook.pk]) + "?status=failed").content.decode()
    failed = webhook.deliveries.get(status="failed")
    assert f'id="delivery-{failed.pk}"' in page and page.count('<tr id="delivery-') == 1
    url = reverse("webhooks:redeliver", args=[webhook.pk, failed.pk])
    row = client.post(url, headers={"HX-Request": "true"}).content.decode()
    assert row.startswith(f'<tr id="delivery-{failed.pk}"') and "Waiting" in row
    failed.refresh_from_db()
    assert failed.status == "pending"


def test_a_new_secret_is_shown_once_and_replaces_the_old(client, users, webhook):
    client.force_login(users["admin"])
    response = client.post(reverse("webhooks:rotate", args=[webhook.pk]))
    webhook.refresh_from_db()
    assert webhook.secret != "whsec_old"
    assert webhook.secret in client.get(response.url).content.decode()


def test_the_list_shows_each_webhooks_state_and_counts(client, users, webhook):
    Webhook.objects.create(name="Off one", url=URL, events=["lead.created"], active=False, switched_off_at=T)
    client.force_login(users["admin"])
    page = client.get(reverse("webhooks:list")).content.decode()
    assert "Sales in Slack" in page and "Off one" in page and "failed for 24 hours" in page


def test_an_empty_list_says_what_a_webhook_is_for(client, users):
    client.force_login(users["admin"])
    assert "No webhook yet." in client.get(reverse("webhooks:list")).content.decode()


def test_the_menu_offers_webhooks_to_admins_only(client, users):
    client.force_login(users["admin"])
    assert reverse("webhooks:list") in client.get(reverse("kpis:dashboard")).content.decode()
    client.force_login(users["sales_manager"])
    assert reverse("webhooks:list") not in client.get(reverse("kpis:dashboard")).content.decode()


def test_the_django_admin_never_shows_a_webhooks_secret(client, users, webhook):
    users["admin"].is_staff = users["admin"].is_superuser = True
    users["admin"].save()
    client.force_login(users["admin"])
    page = client.get(reverse("admin:webhooks_webhook_change", args=[webhook.pk]))
    assert page.status_code == 200
    assert "whsec_old" not in page.content.decode()
