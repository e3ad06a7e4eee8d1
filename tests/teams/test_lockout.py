"""Login throttling (django-axes): the fifth failed log-in locks that user name from that address
for 15 minutes, with a page that says so; others are not affected."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def log_in(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_five_failures_lock_the_account_on_that_address_for_15_minutes(users, settings):
    settings.AXES_ENABLED = True
    rep = users["sales_rep"]
    rep.set_password(PASSWORD)
    rep.save()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = Client()
        for _ in range(4):
            assert log_in(client, "rep1", "wrong password").status_code == 200  # the form again, with its error
        assert log_in(client, "rep1", "wrong password").status_code == 429  # the fifth locks
        locked = log_in(client, "rep1", PASSWORD)  # even the right password
        assert locked.status_code == 429
        html = locked.content.decode()
        assert "Too many failed log-ins" in html and "15 minutes" in html
        assert "_auth_user_id" not in client.session
        # Another person, or the same one from another address, can still log in.
        assert log_in(Client(), "rep1", PASSWORD, address="10.0.0.2").status_code == 302
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert log_in(Client(), "rep1", PASSWORD).status_code == 302


def test_the_lockout_page_is_in_the_users_language(users, settings):
    settings.AXES_ENABLED = True
    client = Client(HTTP_ACCEPT_LANGUAGE="id")
    for _ in range(5):
        response = log_in(client, "rep1", "wrong password")
    assert response.status_code == 429
    assert "Terlalu banyak" in response.content.decode()
