"""The authentication backend reads the signed-in user's team with them, and keeps
Django's rules: an inactive or deleted user is nobody."""

from __future__ import annotations

import pytest

from teams.backends import ModelBackendWithTeam

pytestmark = pytest.mark.django_db


def test_the_user_comes_with_their_team_in_one_statement(users, django_assert_num_queries):
    rep = users["sales_rep"]
    with django_assert_num_queries(1):
        user = ModelBackendWithTeam().get_user(rep.pk)
        assert user == rep and user.team.timezone == rep.team.timezone


def test_a_user_without_a_team_signs_in_too(users):
    assert ModelBackendWithTeam().get_user(users["admin"].pk).team is None


def test_an_inactive_or_deleted_user_is_nobody(users):
    rep = users["sales_rep"]
    rep.is_active = False
    rep.save(update_fields=["is_active"])
    assert ModelBackendWithTeam().get_user(rep.pk) is None
    assert ModelBackendWithTeam().get_user(10**9) is None


def test_a_page_reads_the_session_then_the_user_with_their_team(client, users, django_assert_num_queries):
    client.force_login(users["sales_rep"])
    with django_assert_num_queries(2):  # the session; the user joined to their team
        assert client.get("/accounts/password_change/").status_code == 200
