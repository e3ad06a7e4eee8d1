"""Availability (SPEC §11): time off, the away switch, and who can take a lead at an instant."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from leads import services as lead_services
from teams import selectors, services
from teams.models import TimeOff
from tests.factories import LeadFactory, TeamFactory, UserFactory

JAKARTA = ZoneInfo("Asia/Jakarta")
# A Wednesday morning in Jakarta; every test pins its own clock or passes this instant.
NOW = datetime(2026, 6, 10, 9, 0, tzinfo=JAKARTA)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=JAKARTA)


# -- who can take a lead ---------------------------------------------------------------------------
def test_time_off_that_starts_and_ends_mid_day_makes_a_rep_unavailable_for_exactly_that_stretch(users, sales_team):
    rep, other = users["sales_rep"], users["other_rep"]
    services.time_off_add(by=rep, user=rep, start=at(10, 13), end=at(10, 15, 30), reason="Dentist")

    def available(instant):
        reps = selectors.team_reps_at(team=sales_team, at=instant)
        return {rep.pk for rep in reps if not selectors.unavailable_now(rep)}

    assert available(at(10, 12, 59)) == {rep.pk, other.pk}
    assert available(at(10, 13)) == {other.pk}  # from its start
    assert available(at(10, 15, 29)) == {other.pk}
    assert available(at(10, 15, 30)) == {rep.pk, other.pk}  # until its end, not through it
    assert selectors.unavailable_reasons(user_ids=[rep.pk, other.pk], at=at(10, 14)) == {rep.pk: "time_off"}


def test_away_and_inactive_reps_are_passed_over_with_their_reason(users, sales_team):
    rep, other = users["sales_rep"], users["other_rep"]
    services.user_away_set(user=rep, by=rep, away=True)
    other.is_active = False
    other.save(update_fields=["is_active"])
    assert [selectors.unavailable_now(rep) for rep in selectors.team_reps_at(team=sales_team, at=NOW)] == ["away"]
    assert selectors.unavailable_reasons(user_ids=[rep.pk, other.pk], at=NOW) == {rep.pk: "away", other.pk: "inactive"}
    services.user_away_set(user=rep, by=rep, away=False)
    assert [(r, selectors.unavailable_now(r)) for r in selectors.team_reps_at(team=sales_team, at=NOW)] == [(rep, "")]


def test_a_day_off_runs_from_local_midnight_to_midnight_in_the_teams_zone(users, other_sales_team):
    rep = users["other_team_rep"]  # Sales Jayapura, UTC+9
    start, end = selectors.time_off_day_span(person=rep, first=date(2026, 6, 11), last=date(2026, 6, 12))
    assert start == datetime(2026, 6, 10, 15, 0, tzinfo=ZoneInfo("UTC"))
    assert end == datetime(2026, 6, 12, 15, 0, tzinfo=ZoneInfo("UTC"))


def test_a_day_off_across_a_clock_change_is_that_local_day_whatever_its_length(db):
    team = TeamFactory(name="Sales Amsterdam", timezone="Europe/Amsterdam", holiday_country="")
    rep = UserFactory(username="joost", team=team)
    start, end = selectors.time_off_day_span(person=rep, first=date(2026, 3, 29), last=date(2026, 3, 29))
    utc = ZoneInfo("UTC")
    assert end.astimezone(utc) - start.astimezone(utc) == timedelta(hours=23)  # the night the clocks go forward
    assert (
        start.astimezone(ZoneInfo("Europe/Amsterdam")).hour == 0
        and end.astimezone(ZoneInfo("Europe/Amsterdam")).hour == 0
    )


# -- entering time off -----------------------------------------------------------------------------
@pytest.mark.parametrize("actor", ["sales_rep", "sales_manager", "admin"])
def test_a_rep_their_sales_manager_and_an_admin_enter_the_reps_time_off(users, actor):
    entry = services.time_off_add(
        by=users[actor], user=users["sales_rep"], start=at(11, 0), end=at(12, 0), reason=" Cuti "
    )
    assert (entry.user, entry.reason, entry.created_by) == (users["sales_rep"], "Cuti", users[actor])
    assert entry.history.first().history_user == users[actor]


@pytest.mark.parametrize("actor", ["other_rep", "marketing_manager", "marketer", "other_manager", "other_team_rep"])
def test_nobody_else_enters_or_changes_a_reps_time_off(users, actor):
    with pytest.raises(PermissionDenied):
        services.time_off_add(by=users[actor], user=users["sales_rep"], start=at(11, 0), end=at(12, 0))
    entry = services.time_off_add(by=users["sales_rep"], user=users["sales_rep"], start=at(11, 0), end=at(12, 0))
    with pytest.raises(PermissionDenied):
        services.time_off_change(time_off=entry, by=users[actor], reason="Mine now")
    with pytest.raises(PermissionDenied):
        services.time_off_remove(time_off=entry, by=users[actor])
    with pytest.raises(PermissionDenied):
        services.user_away_set(user=users["sales_rep"], by=users[actor], away=True)
    assert TimeOff.objects.get().reason == "" and not users["sales_rep"].away


def test_time_off_that_ends_before_it_starts_overlaps_or_is_out_of_range_is_refused(users):
    rep = users["sales_rep"]
    with pytest.raises(ValidationError) as ended:
        services.time_off_add(by=rep, user=rep, start=at(11, 12), end=at(11, 12))
    assert "end" in ended.value.message_dict
    services.time_off_add(by=rep, user=rep, start=at(11, 0), end=at(13, 0))
    with pytest.raises(ValidationError) as overlap:
        services.time_off_add(by=rep, user=rep, start=at(12, 12), end=at(14, 0))
    assert "overlaps time off" in overlap.value.message_dict["start"][0]
    with pytest.raises(ValidationError) as far:
        services.time_off_add(by=rep, user=rep, start=at(20, 0), end=datetime(9999, 12, 31, tzinfo=JAKARTA))
    assert "end" in far.value.message_dict
    with pytest.raises(ValidationError) as long_reason:
        services.time_off_add(by=rep, user=rep, start=at(20, 0), end=at(21, 0), reason="x" * 201)
    assert "reason" in long_reason.value.message_dict
    assert TimeOff.objects.count() == 1
    # Back to back is no overlap; a teammate's stretch never is one.
    services.time_off_add(by=rep, user=rep, start=at(13, 0), end=at(14, 0))
    services.time_off_add(by=users["other_rep"], user=users["other_rep"], start=at(11, 0), end=at(13, 0))
    assert TimeOff.objects.count() == 3


def test_moving_time_off_is_judged_as_when_it_was_entered(users):
    rep = users["sales_rep"]
    first = services.time_off_add(by=rep, user=rep, start=at(11, 0), end=at(12, 0))
    services.time_off_add(by=rep, user=rep, start=at(15, 0), end=at(16, 0))
    services.time_off_change(time_off=first, by=rep, end=at(12, 12))  # its own stretch is no overlap
    with pytest.raises(ValidationError):
        services.time_off_change(time_off=first, by=rep, end=at(15, 1))
    first.refresh_from_db()
    assert first.end == at(12, 12)


# -- assignments pass over whoever cannot answer -------------------------------------------------
def test_a_manager_cannot_hand_a_lead_to_a_rep_who_is_off_or_away_but_a_rep_may_still_claim_one(users, sales_team):
    rep, manager = users["sales_rep"], users["sales_manager"]
    services.time_off_add(by=manager, user=rep, start=NOW - timedelta(hours=1), end=NOW + timedelta(days=1))
    lead = LeadFactory(team=sales_team)
    with pytest.raises(ValidationError) as off:
        lead_services.lead_assign(lead=lead, owner=rep, by=manager, now=NOW)
    assert "is off now" in off.value.message_dict["owner"][0]
    with pytest.raises(ValidationError):
        lead_services.lead_create(by=manager, name="Budi", owner=rep, now=NOW)
    services.user_away_set(user=users["other_rep"], by=manager, away=True)
    with pytest.raises(ValidationError) as away:
        lead_services.leads_assign_bulk(leads=[lead], owner=users["other_rep"], by=manager, now=NOW)
    assert "is away now" in away.value.message_dict["owner"][0]
    lead_services.lead_claim(lead=lead, by=rep, now=NOW)  # taking a lead oneself says one is working
    lead.refresh_from_db()
    assert lead.owner == rep
    # Once the time off is over, the manager may hand leads to the rep again.
    later = LeadFactory(team=sales_team)
    lead_services.lead_assign(lead=later, owner=rep, by=manager, now=NOW + timedelta(days=1))


def test_round_robin_shares_only_among_reps_who_can_answer_now(users, sales_team):
    rep, other, manager = users["sales_rep"], users["other_rep"], users["sales_manager"]
    services.time_off_add(by=manager, user=rep, start=NOW - timedelta(hours=1), end=NOW + timedelta(hours=1))
    leads = [LeadFactory(team=sales_team) for _ in range(3)]
    assert lead_services.leads_round_robin(leads=leads, team=sales_team, by=manager, now=NOW) == {other.pk: 3}
    services.user_away_set(user=other, by=other, away=True)
    with pytest.raises(ValidationError, match="every rep is away, off or inactive"):
        lead_services.leads_round_robin(leads=[LeadFactory(team=sales_team)], team=sales_team, by=manager, now=NOW)


# -- the calendar ----------------------------------------------------------------------------------
def test_the_calendar_marks_whole_and_part_days_off_in_the_teams_zone(users):
    rep, other = users["sales_rep"], users["other_rep"]
    start, end = selectors.time_off_day_span(person=rep, first=date(2026, 6, 9), last=date(2026, 6, 10))
    services.time_off_add(by=rep, user=rep, start=start, end=end, reason="Cuti")
    services.time_off_add(by=other, user=other, start=at(12, 13), end=at(12, 17))
    calendar = dict(selectors.time_off_calendar(people=[rep, other], zone=JAKARTA, first=date(2026, 6, 8), days=7))
    assert [(d.off, d.part) for d in calendar[rep]][:4] == [
        (False, False),
        (True, False),
        (True, False),
        (False, False),
    ]
    assert calendar[rep][1].reasons == ("Cuti",)
    assert [d.part for d in calendar[other]] == [False, False, False, False, True, False, False]


# -- the API ---------------------------------------------------------------------------------------
def test_the_api_enters_ones_own_time_off_and_refuses_bad_input_without_writing(users, api_as):
    client = api_as(users["sales_rep"])
    answer = client.post(
        "/api/v1/time-off/",
        {"start": "2026-06-11T00:00:00+07:00", "end": "2026-06-12T00:00:00+07:00", "reason": "Cuti"},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["user"] == users["sales_rep"].pk and answer.json()["start"] == "2026-06-11T00:00:00+07:00"
    for body, field in [
        ({"start": "2026-06-13T10:00:00+07:00", "end": "2026-06-13T09:00:00+07:00"}, "end"),
        ({"start": "2026-06-11T10:00:00+07:00", "end": "2026-06-11T11:00:00+07:00"}, "start"),  # overlaps
        ({"start": "yesterday", "end": "2026-06-13T09:00:00+07:00"}, "start"),
        ({"start": "2026-06-13T10:00:00+07:00"}, "end"),
        ({"start": "2026-06-13T10:00:00+07:00", "end": "9999-12-31T23:00:00+07:00"}, "end"),
    ]:
        refused = client.post("/api/v1/time-off/", body, format="json")
        assert refused.status_code == 400 and field in refused.json(), (body, refused.content)
    assert TimeOff.objects.count() == 1
    entry = TimeOff.objects.get()
    moved = client.patch(f"/api/v1/time-off/{entry.pk}/", {"user": users["other_rep"].pk}, format="json")
    assert moved.status_code == 400 and "user" in moved.json()
    assert client.delete(f"/api/v1/time-off/{entry.pk}/").status_code == 204
    assert not TimeOff.objects.exists()


def test_the_api_lists_the_time_off_one_may_see_and_filters_by_window(users, api_as):
    rep, other, manager = users["sales_rep"], users["other_rep"], users["sales_manager"]
    services.time_off_add(by=rep, user=rep, start=at(11, 0), end=at(12, 0))
    services.time_off_add(by=other, user=other, start=at(20, 0), end=at(21, 0))
    services.time_off_add(by=users["other_team_rep"], user=users["other_team_rep"], start=at(11, 0), end=at(12, 0))
    assert [row["user"] for row in api_as(rep).get("/api/v1/time-off/").json()["results"]] == [rep.pk]
    team = api_as(manager).get("/api/v1/time-off/").json()["results"]
    assert [row["user"] for row in team] == [rep.pk, other.pk]
    window = api_as(manager).get("/api/v1/time-off/", {"ends_after": "2026-06-15T00:00:00+07:00"}).json()["results"]
    assert [row["user"] for row in window] == [other.pk]
    assert api_as(manager).get("/api/v1/time-off/", {"ends_after": "soon"}).status_code == 400


def test_a_user_patches_their_own_away_and_nothing_else(users, api_as):
    rep = users["sales_rep"]
    answer = api_as(rep).patch(f"/api/v1/users/{rep.pk}/", {"away": True}, format="json")
    assert answer.status_code == 200 and answer.json()["away"] is True
    assert (
        api_as(rep).patch(f"/api/v1/users/{rep.pk}/", {"away": False, "first_name": "Boss"}, format="json").status_code
        == 403
    )
    assert api_as(rep).patch(f"/api/v1/users/{rep.pk}/", {"away": "maybe"}, format="json").status_code == 400
    rep.refresh_from_db()
    assert rep.away is True and rep.first_name != "Boss"
    assert (
        api_as(users["sales_manager"]).patch(f"/api/v1/users/{rep.pk}/", {"away": False}, format="json").status_code
        == 200
    )
    assert (
        api_as(users["other_rep"]).patch(f"/api/v1/users/{rep.pk}/", {"away": True}, format="json").status_code == 403
    )
    rep.refresh_from_db()
    assert rep.away is False


# -- the pages -------------------------------------------------------------------------------------
@time_machine.travel(NOW, tick=False)
def test_a_manager_sees_who_is_off_this_week_and_next_and_enters_whole_days(client, users, sales_team):
    rep, manager = users["sales_rep"], users["sales_manager"]
    services.time_off_add(by=rep, user=rep, start=at(9, 0), end=at(11, 0), reason="Cuti tahunan")
    client.force_login(manager)
    page = client.get(reverse("teams:time_off"))
    assert page.status_code == 200
    calendar = dict(page.context["calendar"])
    assert [day.off for day, _working in calendar[rep]][:4] == [False, True, True, False]  # Monday 8 June onwards
    assert [working for _day, working in calendar[rep]][4:7] == [True, False, False]  # Friday, the weekend
    assert b"Cuti tahunan" in page.content and b"Sales Jakarta: this week and next" in page.content
    assert "Tue 9 Jun 2026 – Wed 10 Jun 2026" in page.content.decode()  # midnight to midnight: whole days
    answer = client.post(
        reverse("teams:time_off"),
        {
            "person": users["other_rep"].pk,
            "span": "days",
            "first_day": "2026-06-15",
            "last_day": "2026-06-16",
            "reason": "Training",
        },
    )
    assert answer.status_code == 302
    entry = TimeOff.objects.get(user=users["other_rep"])
    assert (entry.start, entry.end) == (at(15, 0), at(17, 0))


@time_machine.travel(NOW, tick=False)
def test_the_time_off_form_says_what_is_missing_or_wrong_and_writes_nothing(client, users):
    client.force_login(users["sales_rep"])
    for data, field in [
        ({"span": "days", "first_day": "2026-06-15"}, "last_day"),
        ({"span": "days", "first_day": "2026-06-15", "last_day": "2026-06-14"}, "last_day"),
        ({"span": "times", "start": "2026-06-15T10:00", "end": "2026-06-15T09:00"}, "end"),
        ({"span": "days", "first_day": "9999-12-30", "last_day": "9999-12-31"}, "first_day"),
        (
            {"span": "days", "person": users["other_rep"].pk, "first_day": "2026-06-15", "last_day": "2026-06-15"},
            "person",
        ),
    ]:
        data.setdefault("person", users["sales_rep"].pk)
        page = client.post(reverse("teams:time_off"), data)
        assert page.status_code == 200 and page.context["form"].errors, data
        assert field in page.context["form"].errors or page.context["form"].non_field_errors(), (
            data,
            page.context["form"].errors,
        )
    assert not TimeOff.objects.exists()


def test_the_away_switch_in_the_menu_turns_routing_off_and_on_again(client, users):
    rep = users["sales_rep"]
    client.force_login(rep)
    page = client.get(reverse("leads:queue")).content.decode()
    assert "Set me away" in page
    answer = client.post(reverse("teams:away_set"), {"user": rep.pk, "away": "on", "next": reverse("leads:queue")})
    assert answer.status_code == 302 and answer["Location"] == reverse("leads:queue")
    rep.refresh_from_db()
    assert rep.away
    page = client.get(reverse("leads:queue")).content.decode()
    assert "I am back" in page and "You are away" in page
    client.post(reverse("teams:away_set"), {"user": rep.pk, "next": "https://evil.example/"})
    rep.refresh_from_db()
    assert not rep.away


def test_the_time_off_page_in_indonesian(client, users):
    rep = users["sales_rep"]
    rep.language = "id"
    rep.save(update_fields=["language"])
    client.force_login(rep)
    page = client.get(reverse("teams:time_off"), HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "Cuti dan izin" in page and "Set me away" not in page


@pytest.mark.parametrize(
    "start,end,shown",
    [
        (at(9, 0), at(11, 0), "Tue 9 Jun 2026 – Wed 10 Jun 2026"),
        (at(9, 0), at(10, 0), "Tue 9 Jun 2026"),
        (at(9, 13), at(9, 17, 30), "09/06/2026 13:00 – 09/06/2026 17:30"),
        (at(9, 0), at(10, 12), "09/06/2026 00:00 – 10/06/2026 12:00"),
    ],
)
def test_a_stretch_of_time_off_reads_as_whole_days_or_as_two_times(start, end, shown):
    from django.utils import timezone, translation

    from teams.templatetags.selaras import time_span

    with translation.override("en"), timezone.override(JAKARTA):
        assert time_span(start, end) == shown
