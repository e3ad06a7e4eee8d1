"""Every page is behind login, every menu page opens for every role, and errors are friendly."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from slas.models import Delivery
from slas.services.notifications import deliveries_send

pytestmark = pytest.mark.django_db

# Pages that must open without logging in; every other page redirects to the login.
PUBLIC = {
    "login",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "language_set",
    "health",
    "unsubscribe",
    "unread",  # the bell's count: tells an ended session to stop asking, shows nothing
    # Intake (SPEC §13): a lead form's page and post, inbound hooks, WhatsApp's webhook.
    "form_public",
    "hook_public",
    "whatsapp",
}


def all_page_patterns(resolver=None, prefix=""):
    """(name, path) of every page URL, with sample values for its arguments."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            route = str(entry.pattern)
            if route.startswith(("admin/", "api/")):
                continue
            yield from all_page_patterns(entry, prefix + route)
        elif isinstance(entry, URLPattern):
            path = prefix + str(entry.pattern)
            path = re.sub(r"<int:\w+>", "1", path)
            path = re.sub(r"<uuid:\w+>", "00000000-0000-4000-8000-000000000000", path)
            path = re.sub(r"<(?:str:|slug:)?\w+>", "x", path)
            yield entry.name, "/" + path.lstrip("^").rstrip("$")


PAGES = sorted(set(all_page_patterns()))


def test_there_are_pages_to_check():
    assert len(PAGES) >= 12


@pytest.mark.parametrize("name,path", PAGES)
def test_every_page_needs_login(client, name, path):
    response = client.get(path)
    if name in PUBLIC:
        assert response.status_code != 302 or "/accounts/login/" not in response["Location"]
    else:
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/"), path


MENU = [
    "/",
    "/leads/",
    "/leads/queue/",
    "/leads/campaigns/",
    "/slas/",
    "/breaches/",
    "/kpis/",
    "/scorecards/",
    "/teams/mine/",
    "/accounts/password_change/",
]


@pytest.mark.parametrize("role", ["admin", "sales_manager", "marketing_manager", "sales_rep", "marketer"])
def test_every_menu_page_opens_for_every_role(client, users, role):
    client.force_login(users[role])
    for path in MENU:
        response = client.get(path, follow=True)
        assert response.status_code == 200, (role, path)
        assert response.content.count(b"<h1") == 1, (role, path)


def test_no_menu_page_is_a_placeholder_any_more(client, users):
    client.force_login(users["sales_manager"])
    for path in MENU:
        assert b"Not built yet" not in client.get(path, follow=True).content, path


def test_login_page_and_login(client, users):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert b'name="username"' in page.content and b"csrfmiddlewaretoken" in page.content
    response = client.post("/accounts/login/", {"username": "sales.manager", "password": "correct-horse-battery-9"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert b"Budi" in client.get("/").content or client.get("/").status_code == 200


def test_login_is_throttled_after_repeated_failures(client, users, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "rep1", "password": "wrong"}, REMOTE_ADDR="10.0.0.9")
    response = client.post(
        "/accounts/login/", {"username": "rep1", "password": "correct-horse-battery-9"}, REMOTE_ADDR="10.0.0.9"
    )
    assert response.status_code == 429
    assert b"Too many failed log-ins" in response.content
    assert "_auth_user_id" not in client.session


def test_logout_needs_post(client, users):
    client.force_login(users["sales_rep"])
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_the_menu_shows_what_the_role_may_use(client, users):
    client.force_login(users["sales_rep"])
    page = client.get("/").content.decode()
    assert 'href="/leads/queue/"' in page and 'href="/admin/"' not in page
    client.force_login(users["marketer"])
    assert 'href="/leads/queue/"' not in client.get("/").content.decode()


def test_unknown_page_is_a_friendly_404(client, users, settings):
    settings.DEBUG = False
    client.force_login(users["sales_rep"])
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Not found" in response.content


def test_health_reports_the_database(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True}


def test_csrf_is_enforced_on_forms(users):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(users["sales_manager"])
    response = strict.post(f"/teams/{users['sales_manager'].team_id}/closed-dates/", {"date": "2026-12-24"})
    assert response.status_code == 403


def test_password_reset_sends_a_working_link_from_the_outbox_not_the_request(client, users, mailoutbox):
    response = client.post("/accounts/password_reset/", {"email": "rep1@example.com"})
    assert response.status_code == 302
    assert mailoutbox == []  # the request only wrote the delivery
    delivery = Delivery.objects.get(kind="reset", recipient=users["sales_rep"])
    assert "/accounts/reset/" in delivery.body
    assert deliveries_send(now=timezone.now()).sent == 1
    assert len(mailoutbox) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.body, delivery.html) == ("sent", "", "")  # no working link kept
    assert deliveries_send(now=timezone.now()).sent == 0
    message = mailoutbox[0]
    assert message.to == ["rep1@example.com"] and message.subject
    assert "rep1" in message.body
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", message.body).group(1)
    form = client.get(link, follow=True)
    assert b"Choose a new password" in form.content
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "a-fresh-passphrase-7", "new_password2": "a-fresh-passphrase-7"}
    )
    assert done.status_code == 302
    users["sales_rep"].refresh_from_db()
    assert users["sales_rep"].check_password("a-fresh-passphrase-7")


def test_password_reset_for_an_unknown_address_reveals_nothing(client, users, mailoutbox):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert not Delivery.objects.exists()
    deliveries_send(now=timezone.now())
    assert mailoutbox == []


def test_a_refusal_says_why(client, users, sales_team):
    from tests.factories import LeadFactory

    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], status="lost")
    client.force_login(users["sales_rep"])
    response = client.post(f"/leads/{lead.pk}/status/", {"status": "working"})
    assert response.status_code == 403
    assert "Only a manager can reopen a lead or move it back." in response.content.decode()
