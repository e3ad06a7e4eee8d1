"""Whose e-mails log on which leads (SPEC §1, §14): reps their own leads, sales managers their
team's, admins any, marketers none; the admins' page of captured mail; the capture address
on every user's profile."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from leads.models import Touch
from mailcapture.models import CapturedMail
from tests.factories import LeadFactory
from tests.mailcapture.messages import NOW, fetch_twice, letter, raw

pytestmark = pytest.mark.django_db

SENT = NOW - timedelta(hours=2)
ARRIVED = NOW - timedelta(hours=1)
ROLES = ["admin", "sales_manager", "marketing_manager", "sales_rep", "marketer"]


@pytest.fixture
def leads(users, sales_team, other_sales_team) -> dict:
    """Leads of the two sales teams: the rep's, the other rep's, an unowned one, another team's."""
    created = NOW - timedelta(days=1)
    return {
        "own": LeadFactory(team=sales_team, owner=users["sales_rep"], email="own@client.co.id", created_at=created),
        "colleagues": LeadFactory(
            team=sales_team, owner=users["other_rep"], email="colleague@client.co.id", created_at=created
        ),
        "unowned": LeadFactory(team=sales_team, email="unowned@client.co.id", created_at=created),
        "other_team": LeadFactory(
            team=other_sales_team, owner=users["other_team_rep"], email="papua@client.co.id", created_at=created
        ),
    }


def _send(mailbox, sender, *names: str, leads: dict) -> None:
    message = letter(sender=sender.email, to=[leads[name].email for name in names], sent=SENT, message_id="<p@x>")
    mailbox.append(raw(message), arrived_at=ARRIVED)


def _touched(leads: dict) -> set[str]:
    return {name for name, lead in leads.items() if Touch.objects.filter(lead=lead).exists()}


def _outcome() -> tuple[str, str]:
    mail = CapturedMail.objects.get()
    return mail.state, mail.reason


# -- whose mail logs on which leads ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["colleagues", "unowned", "other_team"])
def test_a_reps_mail_to_a_lead_not_theirs_logs_nothing(mailbox, users, leads, name):
    _send(mailbox, users["sales_rep"], name, leads=leads)
    result = fetch_twice()
    assert (result.touches, result.skipped) == (0, 1)
    assert _outcome() == ("skipped", "not_theirs")
    assert not Touch.objects.exists()


def test_a_reps_mail_logs_on_their_own_lead_only(mailbox, users, leads):
    _send(mailbox, users["sales_rep"], "own", "colleagues", "unowned", leads=leads)
    fetch_twice()
    assert _touched(leads) == {"own"}
    assert Touch.objects.get().user == users["sales_rep"]
    assert _outcome() == ("captured", "")


def test_a_sales_managers_mail_logs_on_their_teams_leads_not_another_teams(mailbox, users, leads):
    _send(mailbox, users["sales_manager"], "own", "colleagues", "unowned", "other_team", leads=leads)
    result = fetch_twice()
    assert result.touches == 3
    assert _touched(leads) == {"own", "colleagues", "unowned"}
    assert set(Touch.objects.values_list("user", flat=True)) == {users["sales_manager"].pk}


def test_another_teams_managers_mail_to_this_team_logs_nothing(mailbox, users, leads):
    _send(mailbox, users["other_manager"], "own", "colleagues", "unowned", leads=leads)
    fetch_twice()
    assert _outcome() == ("skipped", "not_theirs")
    assert not Touch.objects.exists()


def test_an_admins_mail_logs_on_any_lead(mailbox, users, leads):
    _send(mailbox, users["admin"], *leads, leads=leads)
    fetch_twice()
    assert _touched(leads) == set(leads)
    assert set(Touch.objects.values_list("user", flat=True)) == {users["admin"].pk}


@pytest.mark.parametrize("role", ["marketer", "marketing_manager"])
def test_marketings_mail_logs_nothing(mailbox, users, leads, role):
    _send(mailbox, users[role], *leads, leads=leads)
    fetch_twice()
    assert _outcome() == ("skipped", "not_theirs")
    assert not Touch.objects.exists()


# -- the captured mail page: admins only --------------------------------------------------------------
def test_the_captured_mail_page_needs_a_login(client, settings):
    settings.MAIL_CAPTURE_IMAP_URL = ""
    response = client.get(reverse("mailcapture:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["sales_rep", "sales_manager", "marketer", "marketing_manager"])
def test_the_captured_mail_page_is_forbidden_but_to_admins(client, users, role):
    client.force_login(users[role])
    assert client.get(reverse("mailcapture:list")).status_code == 403
    assert client.get(reverse("mailcapture:list"), {"state": "skipped"}).status_code == 403


def test_the_captured_mail_page_answers_an_admin_even_when_empty(client, settings, users):
    settings.MAIL_CAPTURE_IMAP_URL = ""
    client.force_login(users["admin"])
    response = client.get(reverse("mailcapture:list"))
    assert response.status_code == 200
    assert "E-mail capture is not set up" in response.content.decode()


def test_the_captured_mail_page_lists_every_message_for_an_admin(client, mailbox, users, leads):
    _send(mailbox, users["sales_rep"], "colleagues", leads=leads)
    fetch_twice()
    client.force_login(users["admin"])
    response = client.get(reverse("mailcapture:list"))
    assert response.status_code == 200
    page = response.content.decode()
    assert users["sales_rep"].email in page
    assert str(CapturedMail.Reason.NOT_THEIRS.label) in page
    assert mailbox.url.replace(":capture-secret", "") in page and "capture-secret" not in page
    assert client.get(reverse("mailcapture:list"), {"state": "skipped"}).status_code == 200


# -- the profile page ------------------------------------------------------------------------------
ADDRESS = "catat@selaras.example"
NOT_SET_UP = "E-mail capture is not set up on this server yet."


def _profile(client, user, *, language: str = "", cookie: bool = False) -> str:
    if language and not cookie:
        user.language = language
        user.save(update_fields=["language"])
    client.force_login(user)
    if cookie:
        client.cookies["django_language"] = language
    response = client.get(reverse("profile"))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_the_profile_shows_the_capture_address_when_capture_is_set_up(client, settings, users, role):
    settings.MAIL_CAPTURE_IMAP_URL = "imaps://capture:secret@mail.selaras.example:993/INBOX"
    settings.MAIL_CAPTURE_ADDRESS = ADDRESS
    page = _profile(client, users[role])
    assert f'id="capture-address">{ADDRESS}</code>' in page
    assert NOT_SET_UP not in page
    assert "secret" not in page and "mail.selaras.example" not in page


@pytest.mark.parametrize("role", ROLES)
def test_the_profile_says_capture_is_not_set_up_without_a_mailbox(client, settings, users, role):
    settings.MAIL_CAPTURE_IMAP_URL = ""
    settings.MAIL_CAPTURE_ADDRESS = ADDRESS  # an address without a mailbox read: not shown
    page = _profile(client, users[role])
    assert NOT_SET_UP in page
    assert ADDRESS not in page


def test_the_profile_tells_a_marketer_their_mail_is_not_logged(client, settings, users):
    settings.MAIL_CAPTURE_IMAP_URL = "imaps://capture:secret@mail.selaras.example:993/INBOX"
    settings.MAIL_CAPTURE_ADDRESS = ADDRESS
    assert "Your role does not log follow-ups" in _profile(client, users["marketer"])


def test_the_profile_needs_a_login(client):
    response = client.get(reverse("profile"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("cookie", [False, True], ids=["the user's language", "the language cookie"])
def test_the_profile_shows_the_capture_address_in_indonesian(client, settings, users, cookie):
    settings.MAIL_CAPTURE_IMAP_URL = "imaps://capture:secret@mail.selaras.example:993/INBOX"
    settings.MAIL_CAPTURE_ADDRESS = ADDRESS
    page = _profile(client, users["sales_rep"], language="id", cookie=cookie)
    assert '<html lang="id">' in page
    assert f'id="capture-address">{ADDRESS}</code>' in page


@pytest.mark.parametrize("configured", [True, False], ids=["set up", "not set up"])
@pytest.mark.parametrize("cookie", [False, True], ids=["the user's language", "the language cookie"])
def test_the_profile_speaks_indonesian(client, settings, users, configured, cookie):
    settings.MAIL_CAPTURE_IMAP_URL = "imaps://capture:secret@mail.selaras.example:993/INBOX" if configured else ""
    settings.MAIL_CAPTURE_ADDRESS = ADDRESS
    page = _profile(client, users["sales_rep"], language="id", cookie=cookie)
    assert '<html lang="id">' in page
    english = [
        "My profile",
        "Your e-mails, logged without typing",
        NOT_SET_UP,
        "Send a copy of your e-mails to leads to this address",
        "Put the address in Bcc when you write to a lead.",
    ]
    assert [words for words in english if words in page] == []
    section = page[page.index('id="capture-heading"') :]
    if configured:
        assert f'id="capture-address">{ADDRESS}</code>' in section
    else:
        assert "belum" in section[: section.index("</section>")]  # "not yet": not set up
