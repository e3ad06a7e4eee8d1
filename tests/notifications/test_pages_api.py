"""The bell, the notifications page and the API: one's own only (SPEC §7, §12)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leads import services as leads
from notifications.models import Notification
from tests.factories import LeadFactory
from tests.slas.conftest import jkt

pytestmark = pytest.mark.django_db


@pytest.fixture
def given(users, sales_team):
    """Two leads given to rep1 by the manager, one to rep2: a notification each."""
    found = []
    for name, owner in [("Siti Rahma", "sales_rep"), ("Budi Santoso", "sales_rep"), ("Agus", "other_rep")]:
        lead = LeadFactory(team=sales_team, name=name, created_at=jkt(2026, 8, 5, 9))
        leads.lead_assign(lead=lead, owner=users[owner], by=users["sales_manager"], now=jkt(2026, 8, 5, 10))
        found.append(Notification.objects.get(lead=lead))
    return found


# -- pages --------------------------------------------------------------------------------------------
def test_the_page_lists_ones_own_with_words_and_the_bell_counts_them(client, users, given):
    client.force_login(users["sales_rep"])
    page = client.get(reverse("notifications:list")).content.decode()
    assert "“Siti Rahma” was assigned to you." in page and "“Budi Santoso” was assigned to you." in page
    assert "Agus" not in page
    badge = client.get(reverse("notifications:unread")).content.decode()
    assert ">2<" in badge and "2 unread" in badge


def test_opening_one_marks_it_read_and_goes_to_its_lead(client, users, given):
    client.force_login(users["sales_rep"])
    response = client.post(reverse("notifications:open", args=[given[0].pk]))
    assert response.status_code == 302 and response.url == reverse("leads:detail", args=[given[0].lead_id])
    given[0].refresh_from_db()
    assert given[0].read_at is not None
    assert "1 unread" in client.get(reverse("notifications:unread")).content.decode()


def test_nobody_opens_anothers_and_mark_all_read_marks_only_ones_own(client, users, given):
    client.force_login(users["other_rep"])
    assert client.post(reverse("notifications:open", args=[given[0].pk])).status_code == 404
    client.post(reverse("notifications:read_all"))
    assert list(Notification.objects.filter(read_at__isnull=False)) == [given[2]]
    assert "0 unread" in client.get(reverse("notifications:unread")).content.decode()


def test_an_empty_page_says_what_will_come_here(client, users):
    client.force_login(users["marketer"])
    assert "Nothing to tell you yet." in client.get(reverse("notifications:list")).content.decode()


def test_every_page_has_the_bell_and_it_asks_for_its_count_after_the_page(client, users):
    client.force_login(users["sales_rep"])
    for name in ("leads:list", "leads:queue", "kpis:dashboard"):
        page = client.get(reverse(name)).content.decode()
        assert f'hx-get="{reverse("notifications:unread")}" hx-trigger="load, every 60s"' in page


def test_pages_need_a_login_and_the_bell_stops_asking_once_the_session_ended(client, given):
    assert client.get(reverse("notifications:list")).status_code == 302
    response = client.get(reverse("notifications:unread"), headers={"HX-Request": "true"})
    assert (response.status_code, response.content) == (286, b"")  # htmx's "stop polling", no login page


# -- API ------------------------------------------------------------------------------------------------
def test_the_api_lists_ones_own_newest_first_with_a_filter_of_the_unread(api_as, users, given):
    given[0].read_at = jkt(2026, 8, 5, 11)
    given[0].save(update_fields=["read_at"])
    api = api_as(users["sales_rep"])
    body = api.get("/api/v1/notifications/").json()
    assert [(row["id"], row["read"]) for row in body["results"]] == [(given[1].pk, False), (given[0].pk, True)]
    assert body["results"][0] == {
        "id": given[1].pk,
        "kind": "lead_assigned",
        "lead": given[1].lead_id,
        "breach": None,
        "text": "“Budi Santoso” was assigned to you.",
        "created_at": "2026-08-05T10:00:00+07:00",
        "read": False,
    }
    assert [row["id"] for row in api.get("/api/v1/notifications/?unread=true").json()["results"]] == [given[1].pk]


def test_the_api_marks_one_read_and_unread_and_all_read(api_as, users, given):
    api = api_as(users["sales_rep"])
    response = api.patch(f"/api/v1/notifications/{given[0].pk}/", {"read": True}, format="json")
    assert response.status_code == 200 and response.json()["read"] is True
    assert api.patch(f"/api/v1/notifications/{given[0].pk}/", {"read": False}, format="json").json()["read"] is False
    assert api.post("/api/v1/notifications/read-all/").json() == {"marked": 2}
    assert not Notification.objects.filter(user=users["sales_rep"], read_at__isnull=True).exists()
    assert Notification.objects.get(pk=given[2].pk).read_at is None  # rep2's, untouched


def test_the_api_refuses_anothers_and_bad_input_writing_nothing(api_as, users, given):
    api = api_as(users["other_rep"])
    assert api.patch(f"/api/v1/notifications/{given[0].pk}/", {"read": True}, format="json").status_code == 404
    response = api.patch(f"/api/v1/notifications/{given[2].pk}/", {"read": "perhaps"}, format="json")
    assert response.status_code == 400 and "read" in response.json()
    assert api.post("/api/v1/notifications/", {"kind": "lead_assigned"}, format="json").status_code == 405
    assert not Notification.objects.filter(read_at__isnull=False).exists()


def test_the_api_needs_a_token(api_client):
    assert api_client.get("/api/v1/notifications/").status_code == 401
