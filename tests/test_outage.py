"""A lost database answers 503 with Retry-After on pages and the API; other errors stay 500.

The fault test in `tests/faults/` stops the real PostgreSQL; these tests pin the mapping
itself on any database, by making the first query of a request fail as a dropped
connection does.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.db.utils import IntegrityError, InterfaceError, OperationalError
from django.test import Client
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db

SESSION_LOAD = "django.contrib.sessions.backends.db.SessionStore._get_session_from_db"
TOKEN_LOAD = "rest_framework.authentication.TokenAuthentication.authenticate_credentials"


@pytest.fixture
def signed_in(users) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(users["sales_rep"])
    return client


@pytest.mark.parametrize("error", [OperationalError("connection refused"), InterfaceError("connection already closed")])
def test_a_page_answers_503_when_the_database_is_unreachable(signed_in, error):
    with mock.patch(SESSION_LOAD, side_effect=error):
        response = signed_in.get("/leads/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "briefly unavailable" in response.content.decode()


def test_the_api_answers_503_json_when_the_database_is_unreachable(users):
    client = Client(raise_request_exception=False)
    key = Token.objects.create(user=users["sales_rep"]).key
    with mock.patch(TOKEN_LOAD, side_effect=OperationalError("server closed the connection unexpectedly")):
        response = client.get("/api/v1/leads/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json()["code"] == "database_unavailable"


@pytest.mark.parametrize("json_post", [True, False])
def test_a_lead_form_post_answers_503_in_the_callers_format_when_the_database_is_unreachable(json_post):
    client = Client(raise_request_exception=False)
    body = {"content_type": "application/json"} if json_post else {}
    with mock.patch("intake.public.get_object_or_404", side_effect=OperationalError("connection refused")):
        response = client.post("/f/any-key/", {"name": "Budi"}, **body)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    if json_post:
        assert response.json()["code"] == "database_unavailable"
    else:
        assert "briefly unavailable" in response.content.decode()


def test_an_inbound_hook_answers_503_json_when_the_database_is_unreachable():
    client = Client(raise_request_exception=False)
    with mock.patch("intake.public.get_object_or_404", side_effect=OperationalError("connection refused")):
        response = client.post("/hooks/any-key/", b"{}", content_type="application/json")
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"


def test_other_database_errors_remain_server_errors(signed_in):
    with mock.patch(SESSION_LOAD, side_effect=IntegrityError("duplicate key")):
        response = signed_in.get("/leads/")
    assert response.status_code == 500


def test_health_reports_the_database_down():
    client = Client(raise_request_exception=False)
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=OperationalError("refused")):
        response = client.get("/health/")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": False}
