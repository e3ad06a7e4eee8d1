"""REST API: token auth, teams/ and users/ (SPEC §7)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from teams import services
from teams.models import Membership, Team, User

pytestmark = pytest.mark.django_db


def test_token_endpoint_answers_a_token_for_good_credentials(api_client, users):
    response = api_client.post("/api/v1/auth/token/", {"username": "rep1", "password": "correct-horse-battery-9"})
    assert response.status_code == 200
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/teams/").status_code == 200


def test_token_endpoint_refuses_bad_credentials_with_400(api_client, users):
    response = api_client.post("/api/v1/auth/token/", {"username": "rep1", "password": "wrong"})
    assert response.status_code == 400
    assert "token" not in response.json()


def test_token_endpoint_locks_out_after_repeated_failures(api_client, users, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth_token": "1000/min"}}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_client.post("/api/v1/auth/token/", {"username": "rep1", "password": "wrong"})
    response = api_client.post("/api/v1/auth/token/", {"username": "rep1", "password": "correct-horse-battery-9"})
    assert response.status_code in (400, 403, 429)
    assert "token" not in response.json()


def test_the_api_needs_authentication(api_client):
    for url in ("/api/v1/teams/", "/api/v1/users/", "/api/v1/schema/"):
        assert api_client.get(url).status_code in (401, 403), url


def test_team_list_is_paginated_with_calendar_fields(api_as, users, sales_team):
    services.closed_date_add(team=sales_team, day=date(2026, 12, 24), name="Cuti bersama")
    body = api_as(users["sales_rep"]).get("/api/v1/teams/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    team = next(t for t in body["results"] if t["name"] == "Sales Jakarta")
    assert team["work_days"] == [1, 2, 3, 4, 5]
    assert (team["work_start"], team["work_end"], team["timezone"]) == ("09:00", "17:00", "Asia/Jakarta")
    assert team["closed_dates"] == ["2026-12-24"]


def test_team_list_filters_by_kind(api_as, users):
    body = api_as(users["marketer"]).get("/api/v1/teams/?kind=marketing").json()
    assert [t["name"] for t in body["results"]] == ["Marketing"]


def test_admin_creates_and_edits_a_team(api_as, users):
    client = api_as(users["admin"])
    response = client.post(
        "/api/v1/teams/",
        {
            "name": "Sales Surabaya",
            "kind": "sales",
            "work_days": [1, 2, 3, 4, 5, 6],
            "work_start": "08:00",
            "work_end": "16:00",
            "break_start": "12:00",
            "break_end": "13:00",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    team_id = response.json()["id"]
    response = client.patch(f"/api/v1/teams/{team_id}/", {"timezone": "Asia/Makassar"}, format="json")
    assert response.status_code == 200
    assert Team.objects.get(pk=team_id).timezone == "Asia/Makassar"


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"name": "X", "kind": "sales", "timezone": "Nowhere/Town"}, "timezone"),
        ({"name": "X", "kind": "sales", "work_start": "18:00", "work_end": "08:00"}, "work_end"),
        ({"name": "X", "kind": "sales", "work_days": [9]}, "work_days"),
        ({"name": "X", "kind": "sales", "break_start": "12:00"}, "break_end"),
        ({"name": "Sales Jakarta", "kind": "sales"}, "name"),
        ({"name": "X", "kind": "sales", "work_start": "nine"}, "work_start"),
        ({"kind": "sales"}, "name"),
    ],
)
def test_bad_team_input_answers_400_with_the_field_and_writes_nothing(api_as, users, payload, field):
    before = Team.objects.count()
    response = api_as(users["admin"]).post("/api/v1/teams/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Team.objects.count() == before


@pytest.mark.parametrize("role", ["sales_manager", "marketing_manager", "sales_rep", "marketer"])
def test_only_admins_write_teams(api_as, users, sales_team, role):
    client = api_as(users[role])
    assert client.post("/api/v1/teams/", {"name": "X", "kind": "sales"}, format="json").status_code == 403
    assert client.patch(f"/api/v1/teams/{sales_team.pk}/", {"name": "Y"}, format="json").status_code == 403
    sales_team.refresh_from_db()
    assert sales_team.name == "Sales Jakarta"


def test_admin_creates_a_user_with_role_and_team(api_as, users, sales_team):
    response = api_as(users["admin"]).post(
        "/api/v1/users/",
        {
            "username": "rep9",
            "password": "a-long-passphrase-9",
            "email": "rep9@example.com",
            "role": "sales_rep",
            "team": sales_team.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert "password" not in response.json()
    user = User.objects.get(username="rep9")
    assert user.check_password("a-long-passphrase-9")
    assert Membership.objects.get(user=user).team == sales_team


GOOD_USER = {"username": "x1", "password": "a-long-passphrase-9", "role": "sales_rep"}


@pytest.mark.parametrize(
    "change,field",
    [
        ({"password": "123"}, "password"),
        ({"password": None}, "password"),
        ({"username": "rep1"}, "username"),
        ({"role": "emperor"}, "role"),
        ({"email": "nope"}, "email"),
        ({"team": 99999}, "team"),
        ({"team": None}, "team"),
    ],
)
def test_bad_user_input_answers_400_with_the_field(api_as, users, sales_team, change, field):
    payload = {**GOOD_USER, "team": sales_team.pk, **change}
    payload = {key: value for key, value in payload.items() if value is not None}
    before = User.objects.count()
    response = api_as(users["admin"]).post("/api/v1/users/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert User.objects.count() == before


def test_patching_a_users_team_records_membership_history(api_as, users, other_sales_team):
    rep = users["sales_rep"]
    # At noon in Jakarta it is the same day in Jayapura too (late evening would not be).
    Membership.objects.filter(user=rep).update(started_on=date(2026, 8, 5))
    with time_machine.travel(datetime(2026, 8, 5, 12, tzinfo=ZoneInfo("Asia/Jakarta")), tick=False):
        response = api_as(users["admin"]).patch(
            f"/api/v1/users/{rep.pk}/", {"team": other_sales_team.pk}, format="json"
        )
    assert response.status_code == 200
    # The rep joined today, so today's move replaces that membership rather than ending it.
    assert list(Membership.objects.filter(user=rep).values_list("team", "ended_on")) == [(other_sales_team.pk, None)]


@pytest.mark.parametrize("role", ["sales_manager", "marketing_manager", "sales_rep", "marketer"])
def test_only_admins_write_users(api_as, users, role):
    client = api_as(users[role])
    payload = {"username": "sneaky", "password": "a-long-passphrase-9", "role": "admin"}
    assert client.post("/api/v1/users/", payload, format="json").status_code == 403
    me = users[role]
    assert client.patch(f"/api/v1/users/{me.pk}/", {"role": "admin"}, format="json").status_code == 403
    me.refresh_from_db()
    assert me.role == role


def test_users_see_their_own_team_only(api_as, users):
    client = api_as(users["sales_rep"])
    names = {u["username"] for u in client.get("/api/v1/users/").json()["results"]}
    assert names == {"sales.manager", "rep1", "rep2"}
    assert client.get(f"/api/v1/users/{users['other_team_rep'].pk}/").status_code == 404


def test_schema_and_docs_are_served_to_signed_in_users(api_as, users):
    client = api_as(users["sales_rep"])
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/teams/" in schema.content
    client.force_authenticate(users["sales_rep"])
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"cdn.jsdelivr" not in docs.content
