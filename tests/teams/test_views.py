"""Team pages: calendar, closed dates, members; the language switch and time zones."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from teams.models import ClosedDate, Team

pytestmark = pytest.mark.django_db


def test_team_page_shows_the_calendar_holidays_and_members(client, users, sales_team):
    client.force_login(users["sales_rep"])
    with time_machine.travel("2026-08-01 10:00 +07:00", tick=False):
        page = client.get(f"/teams/{sales_team.pk}/").content.decode()
    assert "Asia/Jakarta" in page and "09:00–17:00" in page
    assert "Independence Day" in page  # 17 August is within 90 days
    assert "rep2" in page or users["other_rep"].get_full_name() in page
    assert "Close this day" not in page  # a rep cannot close days


def test_another_teams_page_hides_its_members(client, users, other_sales_team):
    client.force_login(users["sales_rep"])
    page = client.get(f"/teams/{other_sales_team.pk}/").content.decode()
    assert "Asia/Jayapura" in page
    assert users["other_team_rep"].get_full_name() not in page


def test_missing_team_is_404(client, users):
    client.force_login(users["sales_rep"])
    assert client.get("/teams/999999/").status_code == 404


def test_a_manager_closes_a_day_and_opens_it_again(client, users, sales_team):
    client.force_login(users["sales_manager"])
    response = client.post(
        f"/teams/{sales_team.pk}/closed-dates/", {"date": "2026-12-24", "name": "Cuti bersama"}, follow=True
    )
    assert response.status_code == 200
    closed = ClosedDate.objects.get(team=sales_team)
    assert closed.date == date(2026, 12, 24)
    assert "is now a closed day" in response.content.decode()
    response = client.post(f"/teams/{sales_team.pk}/closed-dates/{closed.pk}/delete/", follow=True)
    assert "working day again" in response.content.decode()
    assert not ClosedDate.objects.exists()


def test_closing_a_day_twice_or_a_bad_date_shows_an_error_and_writes_nothing(client, users, sales_team):
    client.force_login(users["sales_manager"])
    client.post(f"/teams/{sales_team.pk}/closed-dates/", {"date": "2026-12-24"})
    response = client.post(f"/teams/{sales_team.pk}/closed-dates/", {"date": "2026-12-24"}, follow=True)
    assert "already closed" in response.content.decode()
    response = client.post(f"/teams/{sales_team.pk}/closed-dates/", {"date": "31/02/2026"}, follow=True)
    assert "valid date" in response.content.decode()
    assert ClosedDate.objects.count() == 1


@pytest.mark.parametrize("role", ["sales_rep", "marketer", "other_manager", "marketing_manager"])
def test_others_cannot_close_the_teams_days(client, users, sales_team, role):
    client.force_login(users[role])
    assert client.post(f"/teams/{sales_team.pk}/closed-dates/", {"date": "2026-12-24"}).status_code == 403
    closed = ClosedDate.objects.create(team=sales_team, date=date(2026, 12, 25))
    assert client.post(f"/teams/{sales_team.pk}/closed-dates/{closed.pk}/delete/").status_code == 403
    assert list(ClosedDate.objects.values_list("date", flat=True)) == [date(2026, 12, 25)]


def test_a_closed_date_of_another_team_is_not_found(client, users, sales_team, other_sales_team):
    closed = ClosedDate.objects.create(team=other_sales_team, date=date(2026, 12, 25))
    client.force_login(users["admin"])
    assert client.post(f"/teams/{sales_team.pk}/closed-dates/{closed.pk}/delete/").status_code == 404


def test_only_admins_edit_the_calendar(client, users, sales_team):
    client.force_login(users["sales_manager"])
    assert client.get(f"/teams/{sales_team.pk}/edit/").status_code == 403
    client.force_login(users["admin"])
    assert client.get(f"/teams/{sales_team.pk}/edit/").status_code == 200
    response = client.post(
        f"/teams/{sales_team.pk}/edit/",
        {
            "name": "Sales Jakarta",
            "kind": "sales",
            "timezone": "Asia/Jakarta",
            "work_days": ["1", "2", "3", "4", "5", "6"],
            "work_start": "08:00",
            "work_end": "16:00",
            "break_start": "12:00",
            "break_end": "13:00",
            "holiday_country": "ID",
            "currency": "IDR",
        },
    )
    assert response.status_code == 302
    team = Team.objects.get(pk=sales_team.pk)
    assert team.work_days == [1, 2, 3, 4, 5, 6]
    assert team.break_start.hour == 12


def test_a_bad_calendar_edit_shows_the_error(client, users, sales_team):
    client.force_login(users["admin"])
    response = client.post(
        f"/teams/{sales_team.pk}/edit/",
        {
            "name": "Sales Jakarta",
            "kind": "sales",
            "timezone": "Asia/Jakarta",
            "work_days": ["1"],
            "work_start": "17:00",
            "work_end": "09:00",
            "holiday_country": "ID",
            "currency": "IDR",
        },
    )
    assert response.status_code == 200
    assert "Work must end after it starts." in response.content.decode()
    assert Team.objects.get(pk=sales_team.pk).work_start.hour == 9


def test_language_choice_is_remembered_on_the_user(client, users):
    rep = users["sales_rep"]
    client.force_login(rep)
    response = client.post("/accounts/language/", {"language": "id", "next": "/"})
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.language == "id"
    # A new browser with no cookie gets Indonesian too.
    from django.test import Client

    other_browser = Client()
    other_browser.force_login(rep)
    page = other_browser.get("/")
    assert page.headers["Content-Language"] == "id"
    assert "Dasbor" in page.content.decode()


def test_an_unknown_language_is_ignored(client, users):
    rep = users["sales_rep"]
    client.force_login(rep)
    client.post("/accounts/language/", {"language": "xx", "next": "/"})
    rep.refresh_from_db()
    assert rep.language == ""


def test_pages_use_the_users_team_time_zone(client, users):
    client.force_login(users["other_team_rep"])
    with time_machine.travel("2026-08-05 23:30 +07:00", tick=False):
        response = client.get("/")
    assert response.context["TIME_ZONE"] == "Asia/Jayapura"
    # 23:30 in Jakarta is already 6 August in Jayapura.
    assert "6 Aug 2026" in response.content.decode()
