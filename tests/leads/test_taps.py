"""Tap to call or chat (SPEC §14): one POST logs a `click` follow-up and sends the rep on to
the dialler or WhatsApp; for five minutes the rep may undo it; a call asks for its outcome."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from leads import services
from leads.models import Lead, Touch
from slas.models import Clock
from tests.factories import LeadFactory, seed_slas

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 8, 5, 10, 0, tzinfo=JAKARTA)  # a Wednesday, in working hours
PHONE = "+6281234567890"
GREETING = "Hello%20Siti%20Rahma%2C%20this%20is%20Rina%20Wati."  # "Hello Siti Rahma, this is Rina Wati."
LOCATIONS = {"call": f"tel:{PHONE}", "whatsapp": f"https://wa.me/6281234567890?text={GREETING}"}
KINDS = {"call": "call", "whatsapp": "message"}


@pytest.fixture
def rep(users):
    rep = users["sales_rep"]
    rep.first_name, rep.last_name = "Rina", "Wati"
    rep.save(update_fields=["first_name", "last_name"])
    return rep


@pytest.fixture
def lead(users, sales_team, rep) -> Lead:
    """Siti Rahma, with a phone, assigned to Rina half an hour ago under the response SLA."""
    seed_slas(team=sales_team, by=users["sales_manager"], now=NOW - timedelta(days=30))
    lead = LeadFactory(name="Siti Rahma", phone=PHONE, team=sales_team, created_at=NOW - timedelta(hours=1))
    services.lead_assign(lead=lead, owner=rep, by=users["sales_manager"], now=NOW - timedelta(minutes=30))
    return lead


@pytest.fixture
def pinned():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _response_clock(lead: Lead) -> Clock:
    return Clock.objects.get(lead=lead, kind="response")


def _tap(client, lead: Lead, channel: str, **data):
    return client.post(f"/leads/{lead.pk}/tap/{channel}/", data)


def _htmx_tap(client, lead: Lead, channel: str, fragment: str = "timeline"):
    return client.post(f"/leads/{lead.pk}/tap/{channel}/", {"fragment": fragment}, HTTP_HX_REQUEST="true")


# -- the service ---------------------------------------------------------------------------------
@pytest.mark.parametrize("channel", ["call", "whatsapp"])
def test_a_tap_logs_a_click_follow_up_by_the_rep_now_and_meets_the_response_clock(lead, rep, channel):
    assert (lead.status, _response_clock(lead).state) == ("new", "running")
    touch = services.touch_tap(lead=lead, by=rep, channel=channel, now=NOW)
    touch.refresh_from_db()
    assert (touch.kind, touch.origin, touch.user, touch.lead) == (KINDS[channel], "click", rep, lead)
    assert (touch.occurred_at, touch.created_at, touch.outcome, touch.external_id) == (NOW, NOW, "", "")
    assert Lead.objects.get(pk=lead.pk).status == "working"
    clock = _response_clock(lead)
    assert (clock.state, clock.satisfied_at) == ("met", NOW)
    assert [r.history_type for r in Touch.history.filter(id=touch.pk)] == ["+"]


@pytest.mark.parametrize("channel", ["call", "whatsapp"])
def test_where_a_tap_leads(lead, rep, channel):
    assert services.tap_url(lead=lead, channel=channel, by=rep) == LOCATIONS[channel]


def test_a_lead_without_a_phone_cannot_be_tapped(users, sales_team, rep):
    lead = LeadFactory(team=sales_team, owner=rep, phone="", created_at=NOW - timedelta(hours=1))
    with pytest.raises(ValidationError) as excinfo:
        services.touch_tap(lead=lead, by=rep, channel="call", now=NOW)
    assert excinfo.value.message_dict == {"phone": ["This lead has no phone number."]}
    assert not Touch.objects.exists()
    assert Lead.objects.get(pk=lead.pk).status == "new"


@pytest.mark.parametrize("channel", ["sms", "", "CALL"])
def test_an_unknown_channel_is_refused(lead, rep, channel):
    with pytest.raises(ValidationError) as excinfo:
        services.touch_tap(lead=lead, by=rep, channel=channel, now=NOW)
    assert excinfo.value.message_dict == {"channel": ["Choose a call or WhatsApp."]}
    assert not Touch.objects.exists()


@pytest.mark.parametrize("who", ["other_rep", "marketer", "other_manager"])
def test_only_who_works_the_lead_taps_it(users, lead, who):
    with pytest.raises(PermissionDenied):
        services.touch_tap(lead=lead, by=users[who], channel="call", now=NOW)
    assert not Touch.objects.exists()


# -- the view: plain posts and htmx ---------------------------------------------------------------
@pytest.mark.parametrize("channel", ["call", "whatsapp"])
def test_a_plain_tap_redirects_to_the_dialler_or_to_whatsapp(client, lead, rep, pinned, channel):
    client.force_login(rep)
    response = _tap(client, lead, channel)
    assert response.status_code == 302
    assert response["Location"] == LOCATIONS[channel]
    touch = Touch.objects.get(lead=lead)
    assert (touch.kind, touch.origin, touch.user, touch.occurred_at) == (KINDS[channel], "click", rep, NOW)
    assert Lead.objects.get(pk=lead.pk).status == "working"
    assert _response_clock(lead).state == "met"


def _greeting(location: str) -> str:
    parts = urlsplit(location)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "wa.me", "/6281234567890")
    return parse_qs(parts.query)["text"][0]


def test_the_greeting_is_in_english_for_an_english_speaker(client, lead, rep, pinned):
    client.force_login(rep)
    response = _tap(client, lead, "whatsapp")
    assert _greeting(response["Location"]) == "Hello Siti Rahma, this is Rina Wati."


@pytest.mark.parametrize("how", ["saved", "browser"])
def test_the_greeting_is_in_indonesian_for_an_indonesian_speaker(client, lead, rep, pinned, how):
    if how == "saved":
        rep.language = "id"
        rep.save(update_fields=["language"])
        extra = {}
    else:
        extra = {"HTTP_ACCEPT_LANGUAGE": "id"}
    client.force_login(rep)
    response = client.post(f"/leads/{lead.pk}/tap/whatsapp/", **extra)
    assert response.status_code == 302
    greeting = _greeting(response["Location"])
    assert "Siti Rahma" in greeting and "Rina Wati" in greeting
    assert not greeting.startswith("Hello") and "this is" not in greeting


def test_an_htmx_tap_answers_the_activity_and_asks_the_page_to_open_the_dialler(client, lead, rep, pinned):
    client.force_login(rep)
    response = _htmx_tap(client, lead, "call")
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"selaras:open": {"url": f"tel:{PHONE}"}}
    touch = Touch.objects.get(lead=lead)
    page = response.content.decode()
    assert 'id="lead-activity"' in page and "<html" not in page
    assert "Call to Siti Rahma logged." in page and "Logged by a tap" in page
    assert f'action="/leads/follow-ups/{touch.pk}/undo/"' in page
    assert f'action="/leads/follow-ups/{touch.pk}/outcome/"' in page
    for outcome in ("connected", "no_answer", "voicemail"):
        assert f'name="outcome" value="{outcome}"' in page


def test_an_htmx_tap_from_the_queue_answers_the_card_with_its_undo(client, lead, rep, pinned):
    client.force_login(rep)
    response = _htmx_tap(client, lead, "whatsapp", fragment="queue")
    assert response.status_code == 200
    trigger = json.loads(response["HX-Trigger"])
    assert trigger == {"selaras:open": {"url": LOCATIONS["whatsapp"]}}
    touch = Touch.objects.get(lead=lead)
    assert (touch.kind, touch.origin) == ("message", "click")
    page = response.content.decode()
    assert f'id="queue-lead-{lead.pk}"' in page and 'id="lead-activity"' not in page
    assert "WhatsApp message to Siti Rahma logged." in page
    assert f'action="/leads/follow-ups/{touch.pk}/undo/"' in page
    assert "/outcome/" not in page  # a message asks for no call outcome


def test_a_call_from_the_queue_asks_for_its_outcome(client, lead, rep, pinned):
    client.force_login(rep)
    page = _htmx_tap(client, lead, "call", fragment="queue").content.decode()
    touch = Touch.objects.get(lead=lead)
    assert f'id="queue-lead-{lead.pk}"' in page
    assert f'action="/leads/follow-ups/{touch.pk}/undo/"' in page
    assert f'action="/leads/follow-ups/{touch.pk}/outcome/"' in page
    assert 'name="outcome" value="voicemail"' in page


def test_the_lead_page_offers_the_taps_only_for_a_lead_with_a_phone(client, users, sales_team, lead, rep, pinned):
    silent = LeadFactory(name="No Phone", phone="", team=sales_team, owner=rep)
    client.force_login(rep)
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert f'formaction="/leads/{lead.pk}/tap/call/"' in page
    assert f'formaction="/leads/{lead.pk}/tap/whatsapp/"' in page
    other = client.get(f"/leads/{silent.pk}/").content.decode()
    assert "/tap/" not in other


def test_a_plain_tap_on_a_lead_without_a_phone_says_why_and_logs_nothing(client, sales_team, rep, pinned):
    lead = LeadFactory(name="No Phone", phone="", team=sales_team, owner=rep)
    client.force_login(rep)
    response = _tap(client, lead, "call")
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    assert "This lead has no phone number." in client.get(response["Location"]).content.decode()
    assert not Touch.objects.exists()
    assert Lead.objects.get(pk=lead.pk).status == "new"


def test_an_htmx_tap_on_a_lead_without_a_phone_answers_422_in_the_flash_area(client, sales_team, rep, pinned):
    lead = LeadFactory(name="No Phone", phone="", team=sales_team, owner=rep)
    client.force_login(rep)
    response = _htmx_tap(client, lead, "whatsapp")
    assert response.status_code == 422
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#flash-area", "innerHTML")
    assert "HX-Trigger" not in response
    assert "This lead has no phone number." in response.content.decode()
    assert not Touch.objects.exists()


@pytest.mark.parametrize("htmx,status", [(False, 302), (True, 422)])
def test_an_unknown_channel_is_refused_and_logs_nothing(client, lead, rep, pinned, htmx, status):
    client.force_login(rep)
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.post(f"/leads/{lead.pk}/tap/fax/", **extra)
    assert response.status_code == status
    if htmx:
        assert "Choose a call or WhatsApp." in response.content.decode()
    else:
        assert response["Location"] == f"/leads/{lead.pk}/"
    assert not Touch.objects.exists()
    assert Lead.objects.get(pk=lead.pk).status == "new"


# -- the view: who may tap ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "who,status",
    [
        ("other_rep", 404),  # another rep's lead: not theirs to see
        ("other_team_rep", 404),  # another team's lead
        ("other_manager", 404),
        ("marketer", 403),  # sees every lead, works none
        ("marketing_manager", 403),
    ],
)
def test_only_who_works_the_lead_may_tap_it(client, users, lead, rep, pinned, who, status):
    client.force_login(users[who])
    assert _tap(client, lead, "call").status_code == status
    assert not Touch.objects.exists()
    assert Lead.objects.get(pk=lead.pk).status == "new"
    client.force_login(rep)  # the same tap by the lead's rep goes through
    assert _tap(client, lead, "call").status_code == 302
    assert Touch.objects.get().user == rep


@pytest.mark.parametrize("phone,channel", [("", "call"), (PHONE, "fax")])
def test_a_marketer_is_refused_with_403_whatever_the_lead_or_channel(
    client, users, sales_team, rep, pinned, phone, channel
):
    lead = LeadFactory(phone=phone, team=sales_team, owner=rep)
    client.force_login(users["marketer"])
    assert _tap(client, lead, channel).status_code == 403
    assert not Touch.objects.exists()


def test_a_rep_may_not_tap_the_teams_unassigned_lead(client, sales_team, rep, pinned):
    lead = LeadFactory(phone=PHONE, team=sales_team)
    client.force_login(rep)
    assert _tap(client, lead, "whatsapp").status_code == 403
    assert not Touch.objects.exists()


def test_the_teams_manager_may_tap(client, users, lead, pinned):
    manager = users["sales_manager"]
    client.force_login(manager)
    response = _tap(client, lead, "call")
    assert response.status_code == 302 and response["Location"] == f"tel:{PHONE}"
    touch = Touch.objects.get(lead=lead)
    assert (touch.user, touch.origin, touch.kind) == (manager, "click", "call")


def test_a_tap_needs_a_login(client, lead, pinned):
    response = _tap(client, lead, "call")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Touch.objects.exists()


@pytest.mark.parametrize("path", ["/leads/{lead}/tap/call/", "/leads/follow-ups/{touch}/undo/"])
def test_the_follow_up_actions_need_a_login(client, lead, rep, path):
    touch = services.touch_tap(lead=lead, by=rep, channel="call", now=NOW)
    response = client.post(path.format(lead=lead.pk, touch=touch.pk))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Touch.objects.filter(pk=touch.pk).exists()


@pytest.mark.parametrize(
    "path", ["/leads/{lead}/tap/call/", "/leads/follow-ups/{touch}/undo/", "/leads/follow-ups/{touch}/outcome/"]
)
def test_the_follow_up_actions_answer_only_posts(client, lead, rep, pinned, path):
    touch = services.touch_tap(lead=lead, by=rep, channel="call", now=NOW)
    client.force_login(rep)
    assert client.get(path.format(lead=lead.pk, touch=touch.pk)).status_code == 405
    assert list(Touch.objects.values_list("pk", "outcome")) == [(touch.pk, "")]


# -- undo: the service ----------------------------------------------------------------------------
def test_undoing_a_tap_takes_it_off_the_record_with_its_history(lead, rep):
    touch = services.touch_tap(lead=lead, by=rep, channel="call", now=NOW)
    touch_id = touch.pk
    services.touch_undo(touch=touch, by=rep, now=NOW + timedelta(minutes=2))
    assert not Touch.objects.filter(pk=touch_id).exists()
    records = Touch.history.filter(id=touch_id).order_by("history_date", "history_id")
    assert [(r.history_type, r.history_user) for r in records] == [("+", rep), ("-", rep)]
    # The follow-up never happened: the response clock runs again.
    clock = _response_clock(lead)
    assert (clock.state, clock.satisfied_at) == ("running", None)


@pytest.mark.parametrize(
    "after,allowed",
    [(timedelta(minutes=5), True), (timedelta(minutes=5, seconds=1), False), (timedelta(hours=1), False)],
)
def test_a_tap_may_be_undone_for_five_minutes(lead, rep, after, allowed):
    touch = services.touch_tap(lead=lead, by=rep, channel="whatsapp", now=NOW)
    if allowed:
        services.touch_undo(touch=touch, by=rep, now=NOW + after)
        assert not Touch.objects.exists()
    else:
        with pytest.raises(ValidationError) as excinfo:
            services.touch_undo(touch=touch, by=rep, now=NOW + after)
        assert excinfo.value.messages == ["This follow-up can no longer be undone."]
        assert Touch.objects.filter(pk=touch.pk).exists()
        assert [r.history_type for r in Touch.history.filter(id=touch.pk)] == ["+"]


def test_only_who_tapped_may_undo_it(users, lead, rep):
    touch = services.touch_tap(lead=lead, by=rep, channel="call", now=NOW)
    with pytest.raises(PermissionDenied):  # not even the manager, who may delete it by other means
        services.touch_undo(touch=touch, by=users["sales_manager"], now=NOW + timedelta(minutes=1))
    mine = services.touch_tap(lead=lead, by=users["sales_manager"], channel="call", now=NOW)
    with pytest.raises(PermissionDenied):
        services.touch_undo(touch=mine, by=rep, now=NOW + timedelta(minutes=1))
    assert Touch.objects.count() == 2


@pytest.mark.parametrize("origin", ["manual", "email", "api"])
def test_only_a_tap_is_undone(lead, rep, origin):
    touch = services.touch_log(lead=lead, by=rep, kind="call", origin=origin, now=NOW)
    with pytest.raises(ValidationError, match="can no longer be undone"):
        services.touch_undo(touch=touch, by=rep, now=NOW + timedelta(minutes=1))
    assert Touch.objects.filter(pk=touch.pk).exists()


# -- undo: the view and the timeline --------------------------------------------------------------
def test_undo_within_five_minutes_from_the_lead_page(client, lead, rep, pinned):
    client.force_login(rep)
    _tap(client, lead, "call")
    touch = Touch.objects.get(lead=lead)
    pinned.shift(timedelta(minutes=4))
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert f'action="/leads/follow-ups/{touch.pk}/undo/"' in page
    response = client.post(f"/leads/follow-ups/{touch.pk}/undo/", {"next": f"/leads/{lead.pk}/"})
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    assert not Touch.objects.exists()
    assert [r.history_type for r in Touch.history.filter(id=touch.pk).order_by("history_date")] == ["+", "-"]
    assert "Undone" in client.get(response["Location"]).content.decode()


def test_undo_with_htmx_answers_the_activity_without_the_touch(client, lead, rep, pinned):
    client.force_login(rep)
    _htmx_tap(client, lead, "call")
    touch = Touch.objects.get(lead=lead)
    pinned.shift(timedelta(minutes=5))  # exactly at the end of the window
    response = client.post(f"/leads/follow-ups/{touch.pk}/undo/", {"fragment": "timeline"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="lead-activity"' in page and "Undone" in page and "Logged by a tap" not in page
    assert not Touch.objects.exists()


@pytest.mark.parametrize("htmx,status", [(False, 302), (True, 422)])
def test_undo_after_five_minutes_is_refused(client, lead, rep, pinned, htmx, status):
    client.force_login(rep)
    _tap(client, lead, "call")
    touch = Touch.objects.get(lead=lead)
    pinned.shift(timedelta(minutes=5, seconds=1))
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "/undo/" not in page and "Logged by a tap" in page
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.post(f"/leads/follow-ups/{touch.pk}/undo/", **extra)
    assert response.status_code == status
    assert Touch.objects.filter(pk=touch.pk).exists()
    shown = response.content.decode() if htmx else client.get(response["Location"]).content.decode()
    assert "This follow-up can no longer be undone." in shown


def test_the_undo_is_offered_only_to_who_tapped(client, users, lead, rep, pinned):
    touch = services.touch_tap(lead=lead, by=rep, channel="call")
    client.force_login(users["sales_manager"])
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "Logged by a tap" in page and "/undo/" not in page
    assert client.post(f"/leads/follow-ups/{touch.pk}/undo/").status_code == 403
    client.force_login(users["other_rep"])
    assert client.post(f"/leads/follow-ups/{touch.pk}/undo/").status_code == 404
    client.force_login(users["other_team_rep"])
    assert client.post(f"/leads/follow-ups/{touch.pk}/undo/").status_code == 404
    assert Touch.objects.filter(pk=touch.pk).exists()


def test_a_manual_touch_offers_no_undo_and_refuses_one(client, lead, rep, pinned):
    touch = services.touch_log(lead=lead, by=rep, kind="call")
    client.force_login(rep)
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "Entered by hand" in page and "/undo/" not in page
    response = client.post(f"/leads/follow-ups/{touch.pk}/undo/", HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert Touch.objects.filter(pk=touch.pk).exists()


# -- a call's outcome -----------------------------------------------------------------------------
@pytest.mark.parametrize("outcome", ["connected", "no_answer", "voicemail"])
def test_the_outcome_of_a_tapped_call(client, lead, rep, pinned, outcome):
    touch = services.touch_tap(lead=lead, by=rep, channel="call")
    client.force_login(rep)
    response = client.post(f"/leads/follow-ups/{touch.pk}/outcome/", {"outcome": outcome})
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    touch.refresh_from_db()
    assert (touch.outcome, touch.kind, touch.origin, touch.occurred_at) == (outcome, "call", "click", NOW)
    records = Touch.history.filter(id=touch.pk).order_by("history_date", "history_id")
    assert [(r.history_type, r.outcome) for r in records] == [("+", ""), ("~", outcome)]


def test_the_outcome_with_htmx_answers_the_card_without_asking_again(client, lead, rep, pinned):
    touch = services.touch_tap(lead=lead, by=rep, channel="call")
    client.force_login(rep)
    response = client.post(
        f"/leads/follow-ups/{touch.pk}/outcome/", {"outcome": "no_answer", "fragment": "queue"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="queue-lead-{lead.pk}"' in page and "Call with Siti Rahma: No answer." in page
    assert "/outcome/" not in page  # answered
    assert f'action="/leads/follow-ups/{touch.pk}/undo/"' in page  # still within the five minutes
    assert Touch.objects.get(pk=touch.pk).outcome == "no_answer"


@pytest.mark.parametrize("outcome", ["", "maybe", "meeting_booked"])
@pytest.mark.parametrize("htmx,status", [(False, 302), (True, 422)])
def test_a_bad_outcome_is_refused_and_changes_nothing(client, lead, rep, pinned, outcome, htmx, status):
    touch = services.touch_tap(lead=lead, by=rep, channel="call")
    client.force_login(rep)
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.post(f"/leads/follow-ups/{touch.pk}/outcome/", {"outcome": outcome}, **extra)
    assert response.status_code == status
    assert Touch.objects.get(pk=touch.pk).outcome == ""
    assert Touch.history.filter(id=touch.pk).count() == 1


@pytest.mark.parametrize("who,status", [("other_rep", 404), ("other_team_rep", 404), ("marketer", 403)])
def test_another_user_may_not_set_the_outcome(client, users, lead, rep, pinned, who, status):
    touch = services.touch_tap(lead=lead, by=rep, channel="call")
    client.force_login(users[who])
    assert client.post(f"/leads/follow-ups/{touch.pk}/outcome/", {"outcome": "connected"}).status_code == status
    assert Touch.objects.get(pk=touch.pk).outcome == ""


# -- corrections of a captured touch --------------------------------------------------------------
@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "meeting"},
        {"occurred_at": NOW - timedelta(minutes=10)},
        {"kind": "email", "outcome": "connected"},
    ],
)
def test_a_captured_touch_keeps_its_kind_and_time(lead, rep, fields):
    touch = services.touch_tap(lead=lead, by=rep, channel="call", now=NOW)
    with pytest.raises(ValidationError) as excinfo:
        services.touch_update(touch=touch, by=rep, now=NOW, **fields)
    refused = {name for name in fields if name in ("kind", "occurred_at")}
    assert set(excinfo.value.message_dict) == refused
    for name in refused:
        assert excinfo.value.message_dict[name] == ["A captured follow-up keeps this as it was captured."]
    stored = Touch.objects.get(pk=touch.pk)
    assert (stored.kind, stored.occurred_at, stored.outcome) == ("call", NOW, "")
    assert Touch.history.filter(id=touch.pk).count() == 1


def test_a_captured_touch_takes_an_outcome_and_notes_with_history(users, lead, rep):
    touch = services.touch_log(lead=lead, by=rep, kind="email", origin="email", external_id="<m1@x>", now=NOW)
    services.touch_update(touch=touch, by=rep, outcome="replied", now=NOW + timedelta(hours=1))
    services.touch_update(touch=touch, by=users["sales_manager"], notes="Asked for a quote", now=NOW)
    stored = Touch.objects.get(pk=touch.pk)
    assert (stored.kind, stored.occurred_at, stored.outcome, stored.notes) == (
        "email",
        NOW,
        "replied",
        "Asked for a quote",
    )
    records = Touch.history.filter(id=touch.pk).order_by("history_date", "history_id")
    assert [(r.history_type, r.history_user, r.outcome, r.notes) for r in records] == [
        ("+", rep, "", ""),
        ("~", rep, "replied", ""),
        ("~", users["sales_manager"], "replied", "Asked for a quote"),
    ]


@pytest.mark.parametrize("origin", [origin for origin, _label in Touch.Origin.choices])
def test_only_a_touch_entered_by_hand_changes_its_kind_and_time(lead, rep, origin):
    touch = services.touch_log(lead=lead, by=rep, kind="call", origin=origin, now=NOW)
    earlier = NOW - timedelta(minutes=10)
    if origin == "manual":
        services.touch_update(touch=touch, by=rep, kind="meeting", occurred_at=earlier, now=NOW)
        assert Touch.objects.filter(pk=touch.pk).values_list("kind", "occurred_at").get() == ("meeting", earlier)
    else:
        with pytest.raises(ValidationError) as excinfo:
            services.touch_update(touch=touch, by=rep, kind="meeting", occurred_at=earlier, now=NOW)
        assert set(excinfo.value.message_dict) == {"kind", "occurred_at"}
        assert Touch.objects.filter(pk=touch.pk).values_list("kind", "occurred_at").get() == ("call", NOW)
