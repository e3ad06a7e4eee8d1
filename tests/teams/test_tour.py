"""The dashboard's short tour: shown to each role on its first visits until finished or
skipped, a step at a time (htmx, or plain links without JavaScript), and again on request."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from teams import services
from teams.models import Role, User
from teams.tour import STEPS, tour_for

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 16, 3, 0, tzinfo=UTC)
ROLES = ["admin", "sales_manager", "marketing_manager", "sales_rep", "marketer"]


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def htmx(client: Client, url: str, **data):
    return client.get(url, data, HTTP_HX_REQUEST="true")


@pytest.mark.parametrize("who", ROLES)
def test_the_first_visit_shows_the_roles_first_step(users, who):
    user = users[who]
    response = signed_in(user).get("/")
    first = STEPS[user.role][0]
    assert response.status_code == 200
    assert response.context["tour"].number == 1
    page = response.content.decode()
    assert 'id="tour"' in page and str(first.title) in page
    assert f"1 of {len(STEPS[user.role])}" in page


@pytest.mark.parametrize("who", ROLES)
def test_every_step_points_at_a_page_its_role_may_open(users, who):
    user = users[who]
    client = signed_in(user)
    for step in STEPS[user.role]:
        path = step.url.split("#")[0]
        assert client.get(path).status_code == 200, (who, step.url_name)
        if step.fragment:  # a part of the dashboard: its section is there to scroll to
            assert f'id="{step.fragment}"' in client.get(path).content.decode(), step.url_name


def test_next_and_back_swap_the_card_with_htmx(users):
    client = signed_in(users["sales_manager"])
    steps = STEPS[Role.SALES_MANAGER]
    second = htmx(client, reverse("tour_step"), step=2)
    assert second.status_code == 200
    body = second.content.decode()
    assert body.startswith('<section id="tour"') and "<html" not in body
    assert str(steps[1].title) in body
    assert "?step=1" in body and "?step=3" in body
    last = htmx(client, reverse("tour_step"), step=len(steps)).content.decode()
    assert "Finish the tour" in last and f"?step={len(steps) + 1}" not in last


def test_without_javascript_the_steps_are_links_to_the_dashboard(users):
    client = signed_in(users["sales_rep"])
    assert client.get(reverse("tour_step"), {"step": 3}).url == "/?tour=3"
    # Whatever is asked for stays one parameter of the dashboard's address.
    odd = client.get(reverse("tour_step"), {"step": "2&next=//evil.example"})
    assert odd.url == "/?tour=2%26next%3D%2F%2Fevil.example"
    page = client.get("/", {"tour": 3})
    assert page.context["tour"].number == 3
    assert str(STEPS[Role.SALES_REP][2].title) in page.content.decode()


@pytest.mark.parametrize("step", ["", "abc", "0", "-4", "99", "2.5", "1e3", "\x00"])
def test_a_step_out_of_range_or_not_a_number_shows_a_real_step(users, step):
    client = signed_in(users["marketer"])
    tour = client.get("/", {"tour": step}).context["tour"]
    assert 1 <= tour.number <= len(STEPS[Role.MARKETER])
    assert htmx(client, reverse("tour_step"), step=step).status_code == 200
    assert tour.number == (len(STEPS[Role.MARKETER]) if step == "99" else 1)


def test_finishing_hides_it_for_good_and_only_for_that_person(users):
    rep, other = users["sales_rep"], users["other_rep"]
    client = signed_in(rep)
    with time_machine.travel(NOW, tick=False):
        response = client.post(reverse("tour_finish"))
    assert response.status_code == 302 and response.url == reverse("kpis:dashboard")
    rep.refresh_from_db()
    assert rep.tour_done_at == NOW
    assert client.get("/").context["tour"] is None
    assert 'id="tour"' not in client.get("/").content.decode()
    assert htmx(client, reverse("tour_step"), step=2).content.decode().strip() == ""
    assert signed_in(other).get("/").context["tour"] is not None


def test_finishing_with_htmx_leaves_a_note_where_the_card_was(users):
    response = signed_in(users["admin"]).post(reverse("tour_finish"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.startswith('<p id="tour"') and 'role="status"' in body
    assert "profile" in body


def test_a_second_finish_keeps_the_first_time(users):
    rep = users["sales_rep"]
    with time_machine.travel(NOW, tick=False):
        services.tour_finish(user=rep, now=NOW)
    services.tour_finish(user=rep, now=datetime(2026, 4, 1, tzinfo=UTC))
    rep.refresh_from_db()
    assert rep.tour_done_at == NOW


def test_the_tour_can_be_taken_again_from_the_profile(users):
    manager = users["sales_manager"]
    services.tour_finish(user=manager, now=NOW)
    client = signed_in(manager)
    assert reverse("tour_restart") in client.get(reverse("profile")).content.decode()
    response = client.post(reverse("tour_restart"))
    assert response.status_code == 302 and response.url == reverse("kpis:dashboard")
    assert client.get("/").context["tour"].number == 1


def test_finish_and_restart_take_posts_only(users):
    client = signed_in(users["sales_rep"])
    assert client.get(reverse("tour_finish")).status_code == 405
    assert client.get(reverse("tour_restart")).status_code == 405
    users["sales_rep"].refresh_from_db()
    assert users["sales_rep"].tour_done_at is None


def test_finish_needs_the_csrf_token(users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["sales_rep"])
    assert client.post(reverse("tour_finish")).status_code == 403
    users["sales_rep"].refresh_from_db()
    assert users["sales_rep"].tour_done_at is None


def test_the_tour_urls_need_a_login(db):
    client = Client()
    for name in ("tour_step", "tour_finish", "tour_restart"):
        response = client.post(reverse(name)) if name != "tour_step" else client.get(reverse(name))
        assert response.status_code == 302 and response.url.startswith(reverse("login")), name


def test_no_tour_for_someone_without_a_role_that_has_one(users):
    user = users["sales_rep"]
    user.role = "nobody"
    assert tour_for(user=user) is None


def test_people_who_signed_in_before_the_tour_existed_are_not_shown_it(users):
    """The migration marks it done for anyone who had signed in (at their last login)."""
    from importlib import import_module

    from django.apps import apps

    rep, new = users["sales_rep"], users["other_rep"]
    User.objects.filter(pk=rep.pk).update(last_login=NOW)
    migration = import_module("teams.migrations.0007_user_tour_done_at")
    migration.existing_users_know_their_way(apps, None)
    rep.refresh_from_db()
    new.refresh_from_db()
    assert (rep.tour_done_at, new.tour_done_at) == (NOW, None)


def test_the_tour_is_in_indonesian_for_an_indonesian_user(users):
    rep = users["sales_rep"]
    rep.language = "id"
    rep.save(update_fields=["language"])
    page = signed_in(rep).get("/").content.decode()
    assert "Antrean Anda" in page and "Tur singkat · 1 dari 4" in page
