"""The SLA preview in the API (`POST slas/preview/`) and on the SLA form (SPEC §15)."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from slas.models import Breach, Clock, Sla
from tests.slas.test_preview import NOW, WEEKS, _history, _sla

pytestmark = pytest.mark.django_db
URL = "/api/v1/slas/preview/"


@pytest.fixture
def history(users, sales_team):
    sla = _sla(users, sales_team, kind="response", target_value=1, target_unit="business_days")
    _history(users, sales_team)
    from slas import services

    services.sla_sweep(now=NOW)
    return sla


def _stored() -> tuple[int, int, int, int]:
    return Sla.objects.count(), Sla.history.count(), Clock.objects.count(), Breach.objects.count()


@time_machine.travel(NOW, tick=False)
def test_a_manager_previews_tighter_terms_of_an_sla(users, api_as, history):
    before = _stored()
    answer = api_as(users["sales_manager"]).post(
        URL, {"sla": history.pk, "target_value": 4, "target_unit": "business_hours", "weeks": 4}, format="json"
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert set(body) == {"weeks", "reps"}
    assert [week["week"] for week in body["weeks"]] == WEEKS
    first = body["weeks"][0]
    assert set(first) == {"week", "clocks", "met", "breached", "pending", "compliance", "current"}
    assert set(first["current"]) == {"met", "breached", "compliance"}
    assert first["clocks"] == first["met"] + first["breached"] + first["pending"]
    assert first["compliance"] == pytest.approx(first["met"] / (first["met"] + first["breached"]))
    tighter = sum(week["breached"] for week in body["weeks"])
    now = sum(week["current"]["breached"] for week in body["weeks"])
    assert tighter > now  # four business hours are harder to keep than one business day
    assert {rep["user"] for rep in body["reps"]} == {users["sales_rep"].pk, users["other_rep"].pk}
    assert all(set(rep) == {"user", "name", "met", "breached", "compliance"} for rep in body["reps"])
    assert _stored() == before
    history.refresh_from_db()
    assert (history.target_value, history.target_unit) == (1, "business_days")


@time_machine.travel(NOW, tick=False)
def test_a_new_sla_is_previewed_with_the_body_of_post_slas(users, api_as, sales_team, history):
    body = {"name": "Cadence", "kind": "cadence", "team": sales_team.pk, "min_touches": 3, "window_days": 7}
    answer = api_as(users["sales_manager"]).post(URL, body, format="json")
    assert answer.status_code == 200, answer.content
    weeks = answer.json()["weeks"]
    assert len(weeks) == 13  # the default
    assert all(week["current"] is None for week in weeks)
    # A clock per lead of those weeks, less those cancelled: handed over unanswered, or closed.
    assert 60 < sum(week["clocks"] for week in weeks) < 26 * 3
    assert all(week["clocks"] == week["met"] + week["breached"] + week["pending"] for week in weeks)
    assert Sla.objects.filter(kind="cadence").count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "response", "target_value": 0, "target_unit": "hours"},
        {"kind": "response", "target_value": 2},
        {"kind": "response", "target_value": 2, "target_unit": "fortnights"},
        {"kind": "cadence", "min_touches": -1},
        {"kind": "response", "target_value": 2, "target_unit": "hours", "sources": ["fax"]},
        {"kind": "response", "target_value": 2, "target_unit": "hours", "reassign_after": 2},
        {"kind": "response", "target_value": "soon", "target_unit": "hours"},
    ],
)
def test_terms_post_slas_refuses_are_refused_with_the_same_400(users, api_as, sales_team, body):
    client = api_as(users["sales_manager"])
    body = {"name": "x", "team": sales_team.pk, **body}
    saved = client.post("/api/v1/slas/", body, format="json")
    previewed = client.post(URL, body, format="json")
    assert saved.status_code == previewed.status_code == 400
    assert set(saved.json()) == set(previewed.json())
    assert Sla.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"weeks": 27}, "weeks"),
        ({"weeks": 0}, "weeks"),
        ({"sla": 999999}, "sla"),
        ({"kind": "volume", "leads_per_rep": 10, "period": "month", "from_team": "{marketing}"}, "kind"),
        ({}, "team"),
    ],
)
def test_bad_preview_bodies_answer_400(users, api_as, sales_team, marketing_team, body, field):
    body = {k: (marketing_team.pk if v == "{marketing}" else v) for k, v in body.items()}
    if "kind" in body:
        body["team"] = sales_team.pk
    answer = api_as(users["sales_manager"]).post(URL, body, format="json")
    assert answer.status_code == 400
    assert field in answer.json()


def test_another_teams_sla_cannot_be_named_and_reps_may_not_preview(users, api_as, history):
    body = {"sla": history.pk, "target_value": 2}
    assert api_as(users["other_manager"]).post(URL, body, format="json").status_code == 400
    for who in ("sales_rep", "marketer", "other_team_rep"):
        assert api_as(users[who]).post(URL, body, format="json").status_code == 403
    assert api_as(users["marketing_manager"]).post(URL, body, format="json").status_code == 403


# -- the SLA form ------------------------------------------------------------------------------
@time_machine.travel(NOW, tick=False)
def test_the_new_sla_form_previews_before_saving(client, users, sales_team, history):
    client.force_login(users["sales_manager"])
    url = reverse("slas:create", kwargs={"kind": "response"})
    assert "Preview the last 13 weeks" in client.get(url).content.decode()
    form = {
        "name": "Four hours",
        "team": sales_team.pk,
        "target_value": 4,
        "target_unit": "business_hours",
        "warn_at_percent": 75,
    }
    before = _stored()
    page = client.post(url, {**form, "preview": "1"}, HTTP_HX_REQUEST="true")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="sla-editor"' in html and 'data-chart="preview"' in html
    assert "2026-W23" in html and "2026-W35" in html  # the 13 weeks before 3 September
    assert _stored() == before
    saved = client.post(url, form)
    assert saved.status_code == 302
    assert Sla.objects.filter(name="Four hours").exists()


@time_machine.travel(NOW, tick=False)
def test_the_edit_form_shows_the_recorded_side_and_form_errors(client, users, sales_team, history):
    client.force_login(users["sales_manager"])
    url = reverse("slas:edit", kwargs={"pk": history.pk})
    form = {"name": history.name, "team": sales_team.pk, "target_value": 4, "target_unit": "business_hours"}
    html = client.post(url, {**form, "warn_at_percent": 75, "preview": "1"}).content.decode()
    assert "As recorded now" in html and "Rep by rep" in html
    history.refresh_from_db()
    assert (history.target_value, history.version) == (1, 1)
    bad = client.post(url, {**form, "target_value": 0, "preview": "1"})
    assert bad.status_code == 200
    assert bad.context["form"].errors["target_value"]
    assert "Rep by rep" not in bad.content.decode()


def test_the_volume_form_has_no_preview(client, users):
    client.force_login(users["marketing_manager"])
    page = client.get(reverse("slas:create", kwargs={"kind": "volume"}))
    assert page.status_code == 200
    assert "Preview the last 13 weeks" not in page.content.decode()


@time_machine.travel(NOW, tick=False)
def test_an_empty_history_says_there_is_nothing_to_judge(client, users, sales_team):
    client.force_login(users["sales_manager"])
    url = reverse("slas:create", kwargs={"kind": "cadence"})
    form = {"name": "Cadence", "team": sales_team.pk, "min_touches": 3, "window_days": 7, "preview": "1"}
    html = client.post(url, form).content.decode()
    assert "nothing to judge yet" in html
