"""How a follow-up was captured (SPEC §2, §14): `origin` and `external_id` in the API, the
follow-ups CSV export and the timeline, and the database's one-touch-per-message rule."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, transaction

from leads import services
from leads.models import Lead, Touch
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 8, 5, 10, 0, tzinfo=JAKARTA)
LEADS = "/api/v1/leads/"
EXPORT = "/leads/follow-ups/export/"


@pytest.fixture
def pinned():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def lead(users, sales_team) -> Lead:
    return LeadFactory(name="Siti Rahma", team=sales_team, owner=users["sales_rep"], created_at=NOW - timedelta(days=1))


def _post(client, lead: Lead, **payload):
    return client.post(f"{LEADS}{lead.pk}/touches/", {"kind": "email", **payload}, format="json")


def _log(lead: Lead, by, origin: str, minutes: int, **fields) -> Touch:
    return services.touch_log(
        lead=lead,
        by=by,
        kind="call",
        origin=origin,
        now=NOW - timedelta(hours=2) + timedelta(minutes=minutes),
        **fields,
    )


def _rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


# -- the API: writing -----------------------------------------------------------------------------
def test_a_touch_posted_without_an_origin_was_entered_by_hand(api_as, users, lead, pinned):
    response = _post(api_as(users["sales_rep"]), lead)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["origin"], body["external_id"]) == ("manual", "")
    assert Touch.objects.get(pk=body["id"]).origin == "manual"


def test_a_client_says_how_it_captured_the_touch(api_as, users, lead, pinned):
    response = _post(api_as(users["sales_rep"]), lead, origin="api", external_id="crm-42")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["origin"], body["external_id"]) == ("api", "crm-42")
    touch = Touch.objects.get(pk=body["id"])
    assert (touch.origin, touch.external_id, touch.user) == ("api", "crm-42", users["sales_rep"])


@pytest.mark.parametrize("origin", ["carrier_pigeon", "MANUAL", ""])
def test_an_unknown_origin_answers_400_and_logs_nothing(api_as, users, lead, pinned, origin):
    response = _post(api_as(users["sales_rep"]), lead, origin=origin)
    assert response.status_code == 400
    assert "origin" in response.json(), response.json()
    assert not Touch.objects.exists()
    assert Lead.objects.get(pk=lead.pk).status == "new"


def test_a_repeated_external_id_answers_the_first_touch(api_as, users, lead, pinned):
    client = api_as(users["sales_rep"])
    first = _post(client, lead, origin="email", external_id="<abc@mail.example>", notes="Brochure")
    assert first.status_code == 201, first.json()
    pinned.shift(timedelta(minutes=3))
    again = _post(client, lead, origin="email", external_id="<abc@mail.example>", notes="Brochure, again")
    assert again.status_code == 200, again.json()
    assert again.json() == first.json()
    assert again.json()["notes"] == "Brochure"
    assert Touch.objects.count() == 1
    assert Touch.history.count() == 1


def test_the_same_external_id_on_two_leads_is_two_touches(api_as, users, sales_team, lead, pinned):
    other = LeadFactory(team=sales_team, owner=users["sales_rep"], created_at=NOW - timedelta(days=1))
    client = api_as(users["sales_rep"])
    one = _post(client, lead, origin="email", external_id="<to-both@mail.example>")
    two = _post(client, other, origin="email", external_id="<to-both@mail.example>")
    assert (one.status_code, two.status_code) == (201, 201)
    assert one.json()["id"] != two.json()["id"]
    assert sorted(Touch.objects.values_list("lead_id", flat=True)) == sorted([lead.pk, other.pk])


def test_touches_without_an_external_id_are_never_merged(api_as, users, lead, pinned):
    client = api_as(users["sales_rep"])
    answers = [_post(client, lead) for _ in range(2)] + [_post(client, lead, external_id="") for _ in range(2)]
    assert [answer.status_code for answer in answers] == [201, 201, 201, 201]
    assert {(answer.json()["origin"], answer.json()["external_id"]) for answer in answers} == {("manual", "")}
    assert len({answer.json()["id"] for answer in answers}) == 4
    assert Touch.objects.filter(lead=lead).count() == 4


# -- the API: reading -----------------------------------------------------------------------------
def test_the_touches_filter_by_origin(api_as, users, lead, pinned):
    rep = users["sales_rep"]
    manual = _log(lead, rep, "manual", 0)
    tapped = _log(lead, rep, "click", 10)
    tapped_later = _log(lead, rep, "click", 20)
    mailed = _log(lead, rep, "email", 30, external_id="<m1@mail.example>")
    client = api_as(rep)
    everything = client.get(f"{LEADS}{lead.pk}/touches/").json()
    assert [(t["id"], t["origin"]) for t in everything["results"]] == [
        (mailed.pk, "email"),
        (tapped_later.pk, "click"),
        (tapped.pk, "click"),
        (manual.pk, "manual"),
    ]
    assert everything["results"][0]["external_id"] == "<m1@mail.example>"
    clicks = client.get(f"{LEADS}{lead.pk}/touches/?origin=click").json()
    assert clicks["count"] == 2
    assert [t["id"] for t in clicks["results"]] == [tapped_later.pk, tapped.pk]
    assert client.get(f"{LEADS}{lead.pk}/touches/?origin=import").json()["count"] == 0


def test_an_unknown_origin_filter_answers_400(api_as, users, lead, pinned):
    _log(lead, users["sales_rep"], "click", 0)
    response = api_as(users["sales_rep"]).get(f"{LEADS}{lead.pk}/touches/?origin=bogus")
    assert response.status_code == 400
    assert "origin" in response.json(), response.json()


# -- the follow-ups export ------------------------------------------------------------------------
@pytest.fixture
def recorded(users, leads, lead):
    """Follow-ups on leads of every kind: Siti's (rep1's, three), the teammate's, the
    unassigned lead's (by the manager), and the other team's."""
    rep = users["sales_rep"]
    for each in leads.values():
        each.created_at = NOW - timedelta(days=1)
        each.save(update_fields=["created_at"])
    return {
        "manual": _log(lead, rep, "manual", 0, notes='=HYPERLINK("http://evil.example")'),
        "click": _log(lead, rep, "click", 10),
        "email": _log(lead, rep, "email", 20, external_id="+62812@mail.example"),
        "teammate": _log(leads["teammate"], users["other_rep"], "click", 30),
        "unassigned": _log(leads["unassigned"], users["sales_manager"], "api", 40, external_id="crm-1"),
        "other_team": _log(leads["other_team"], users["other_team_rep"], "click", 50),
    }


def test_the_export_lists_how_each_follow_up_was_captured(client, users, lead, recorded, pinned):
    client.force_login(users["sales_rep"])
    response = client.get(EXPORT)
    assert "attachment" in response["Content-Disposition"]
    rows = _rows(response)
    assert {"origin", "external_id", "kind", "occurred_at", "lead", "user"} <= set(rows[0])
    by_id = {int(row["id"]): row for row in rows}
    # rep1 sees their own lead and the team's unassigned one; not the teammate's, not Papua's.
    assert set(by_id) == {recorded[k].pk for k in ("manual", "click", "email", "unassigned")}
    mailed = by_id[recorded["email"].pk]
    assert (mailed["origin"], mailed["lead"], mailed["user"]) == ("email", str(lead.pk), "rep1")
    assert by_id[recorded["click"].pk]["origin"] == "click"
    assert (by_id[recorded["unassigned"].pk]["origin"], by_id[recorded["unassigned"].pk]["external_id"]) == (
        "api",
        "crm-1",
    )


def test_the_export_cells_are_safe_from_spreadsheet_formulas(client, users, recorded, pinned):
    client.force_login(users["sales_rep"])
    by_id = {int(row["id"]): row for row in _rows(client.get(EXPORT))}
    assert by_id[recorded["manual"].pk]["notes"] == '\'=HYPERLINK("http://evil.example")'
    assert by_id[recorded["email"].pk]["external_id"] == "'+62812@mail.example"


@pytest.mark.parametrize(
    "role,expected",
    [
        ("sales_manager", {"manual", "click", "email", "teammate", "unassigned"}),
        ("other_manager", {"other_team"}),
        ("marketer", {"manual", "click", "email", "teammate", "unassigned", "other_team"}),
    ],
)
def test_the_export_has_only_the_follow_ups_the_user_may_see(client, users, recorded, pinned, role, expected):
    client.force_login(users[role])
    assert {int(row["id"]) for row in _rows(client.get(EXPORT))} == {recorded[k].pk for k in expected}


def test_the_export_filters_by_origin_and_by_the_lead_lists_filters(client, users, recorded, pinned):
    client.force_login(users["sales_manager"])
    clicks = _rows(client.get(f"{EXPORT}?origin=click"))
    assert {int(row["id"]) for row in clicks} == {recorded["click"].pk, recorded["teammate"].pk}
    assert {row["origin"] for row in clicks} == {"click"}
    siti = _rows(client.get(f"{EXPORT}?q=Siti&origin=click"))
    assert [int(row["id"]) for row in siti] == [recorded["click"].pk]


def test_the_export_needs_a_login(client, recorded):
    response = client.get(EXPORT)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# -- the timeline -------------------------------------------------------------------------------------
WORDS = {
    "manual": "Entered by hand",
    "click": "Logged by a tap",
    "email": "Captured from e-mail",
    "whatsapp": "From WhatsApp",
    "api": "Through the API",
    "import": "Imported",
}


def _touch_entries(page: str) -> list[str]:
    """The timeline's follow-up entries (all calls here), newest first; the lead's own entry,
    which says how the lead arrived ("Entered by hand" too), is left out."""
    start = page.index('id="activity-heading"')
    timeline = page[start : page.index("</ol>", start)]
    return [entry for entry in timeline.split("<li")[1:] if "<strong>Call</strong>" in entry]


def _origins_said(entry: str) -> list[str]:
    return [origin for origin, words in WORDS.items() if words in entry]


def test_the_timeline_says_how_each_follow_up_was_captured(client, users, lead, pinned):
    rep = users["sales_rep"]
    for minutes, origin in enumerate(WORDS):
        _log(lead, rep, origin, minutes * 10)
    client.force_login(rep)
    entries = _touch_entries(client.get(f"/leads/{lead.pk}/").content.decode())
    assert [_origins_said(entry) for entry in entries] == [[origin] for origin in reversed(WORDS)]


def test_the_words_are_the_origin_labels(client, users, lead, pinned):
    assert {origin: str(label) for origin, label in Touch.Origin.choices} == WORDS
    for minutes in (0, 10):
        _log(lead, users["sales_rep"], "manual", minutes)
    client.force_login(users["sales_rep"])
    entries = _touch_entries(client.get(f"/leads/{lead.pk}/").content.decode())
    assert [_origins_said(entry) for entry in entries] == [["manual"], ["manual"]]


def test_the_timeline_says_it_in_indonesian(client, users, lead, pinned):
    rep = users["sales_rep"]
    rep.language = "id"
    rep.save(update_fields=["language"])
    for minutes, origin in enumerate(WORDS):
        _log(lead, rep, origin, minutes * 10)
    client.force_login(rep)
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    start = page.index('id="activity-heading"')
    timeline = page[start : page.index("</ol>", start)]
    assert "Dimasukkan manual" in timeline  # the one label the catalogue already had
    assert not [words for words in WORDS.values() if words in timeline]


# -- the database -------------------------------------------------------------------------------------
def _row(lead: Lead, user, external_id: str) -> Touch:
    return Touch.objects.create(lead=lead, user=user, kind="email", occurred_at=NOW, external_id=external_id)


def test_the_database_keeps_one_touch_per_message_and_lead(users, lead):
    _row(lead, users["sales_rep"], "<m1@mail.example>")
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(lead, users["sales_manager"], "<m1@mail.example>")
    assert Touch.objects.filter(lead=lead).count() == 1


def test_the_database_allows_any_number_of_touches_without_a_message_id(users, sales_team, lead):
    _row(lead, users["sales_rep"], "")
    _row(lead, users["sales_rep"], "")
    other = LeadFactory(team=sales_team, created_at=NOW - timedelta(days=1))
    _row(other, users["sales_rep"], "<m1@mail.example>")
    _row(lead, users["sales_rep"], "<m1@mail.example>")
    assert Touch.objects.count() == 4
    assert set(Touch.objects.values_list("origin", flat=True)) == {"manual"}  # the default
