"""HTML/JS escaping: script-like text in every field a user can set never reaches a page,
an htmx fragment, a chart's data or an e-mail as markup.

Each field gets its own payload (the same markup with a tag naming the field), so a test
can tell which field a page shows: its escaped form must be there, and no page may hold
the payload's tags raw.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape

from intake.models import LeadForm
from kpis import services as kpis
from kpis.scorecards import scorecards_compute
from leads import services as leads
from leads.models import Inquiry, Lead, Touch
from notifications.models import Notification
from slas import services as slas
from slas.models import Breach, Clock, Delivery
from slas.services import notifications
from teams import services as teams

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 8, 12, 10, tzinfo=JAKARTA)  # a Wednesday
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror"
RAW = (SCRIPT, IMG)


def payload(tag: str) -> str:
    """Markup that runs if it is ever rendered raw, ending with a tag naming the field."""
    return f"{SCRIPT}<img src=x onerror=alert(2)>\"'{tag}"


def shown(tag: str) -> str:
    """How a field's payload must appear in HTML: escaped, quotes included."""
    return escape(payload(tag))


def page_text(response) -> str:
    """A response's HTML with quotes as Django escapes them: the Jinja2 templates of the hot
    pages (MarkupSafe) write the same characters as `&#34;` and `&#39;`."""
    return response.content.decode().replace("&#34;", "&quot;").replace("&#39;", "&#x27;")


JSON_DATA = re.compile(r'<script id="[^"]*" type="application/json">.*?</script>', re.S)


def assert_no_markup(text: str, where: str) -> None:
    for raw in RAW:
        assert raw not in text, f"{raw!r} rendered unescaped on {where}"
    # Quotes that would end an attribute; chart data (JSON, not HTML) keeps its quotes escaped its own way.
    assert "\"'" not in JSON_DATA.sub("", text), f"a raw quote from user text on {where}"


@pytest.fixture
def pinned():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def world(pinned, users, sales_team, marketing_team) -> dict:
    """Every free-text field a user can set, filled with its own payload through the services."""
    manager, rep = users["sales_manager"], users["sales_rep"]
    teams.team_update(team=sales_team, name=payload("sales-team"))
    teams.team_update(team=marketing_team, name=payload("marketing-team"))
    teams.user_update(user=rep, first_name=payload("rep-first"), last_name=payload("rep-last"))
    teams.user_update(user=manager, first_name=payload("manager-first"))
    teams.closed_date_add(team=sales_team, day=date(2026, 8, 20), name=payload("closed-date"))
    campaign = leads.campaign_create(
        by=users["marketing_manager"],
        team=marketing_team,
        name=payload("campaign"),
        channel="events",
        start_date=date(2026, 7, 1),
        spend=Decimal(1_000_000),
    )
    month_ago = NOW - timedelta(days=30)
    response = slas.sla_create(
        by=manager,
        team=sales_team,
        kind="response",
        name=payload("sla"),
        target_value=1,
        target_unit="hours",
        now=month_ago,
    )
    volume = slas.sla_create(
        by=manager, team=sales_team, kind="volume", name=payload("volume-sla"), from_team=marketing_team, now=month_ago
    )
    main = leads.lead_create(
        by=manager,
        team=sales_team,
        name=payload("lead-name"),
        email=f'"{SCRIPT}"@example.com',  # a valid address: a quoted local part
        phone="0812-3456-7890",
        company=payload("lead-company"),
        source="event",
        campaign=campaign,
        notes=payload("lead-notes"),
        owner=rep,
        now=NOW - timedelta(days=1),
    )
    # A number typed before phones were kept in E.164, which the migration could not read, stays as typed.
    Lead.objects.filter(pk=main.pk).update(phone="<img src=x onerror=alert(2)>", phone_unreadable=True)
    main.refresh_from_db()
    acknowledged, waived = (
        leads.lead_create(
            by=manager, team=sales_team, name=f"Lead {i}", owner=rep, now=NOW - timedelta(days=2, hours=i)
        )
        for i in (1, 2)
    )
    slas.sla_sweep(now=NOW - timedelta(hours=1))
    leads.touch_log(lead=main, by=rep, kind="call", notes=payload("touch-notes"), now=NOW - timedelta(minutes=30))
    slas.breach_acknowledge(breach=Breach.objects.get(lead=acknowledged), by=manager, note=payload("ack-note"), now=NOW)
    slas.breach_waive(breach=Breach.objects.get(lead=waived), by=manager, reason=payload("waive-reason"), now=NOW)
    rejected = leads.lead_create(by=manager, team=sales_team, name="Rejected lead", now=NOW - timedelta(hours=3))
    leads.lead_reject(lead=rejected, by=manager, reason="not_icp", note=payload("reject-note"), now=NOW)
    kpi = kpis.kpi_create(by=manager, name=payload("kpi"), metric="leads_created", unit=SCRIPT, team=sales_team)
    kpis.target_create(
        by=manager, kpi=kpi, target=Decimal(10), period_start=date(2026, 8, 1), period="month", team=sales_team
    )
    scorecards_compute(now=NOW)
    return {
        "lead": main,
        "campaign": campaign,
        "response": response,
        "volume": volume,
        "acknowledged": acknowledged,
        "rejected": rejected,
    }


def page_paths(world: dict, team_id: int) -> dict[str, str]:
    lead, campaign, response, volume = world["lead"], world["campaign"], world["response"], world["volume"]
    return {
        "dashboard": "/",
        "lead list": "/leads/",
        "queue": "/leads/queue/",
        "lead": f"/leads/{lead.pk}/",
        "lead edit": f"/leads/{lead.pk}/edit/",
        "rejected lead": f"/leads/{world['rejected'].pk}/",
        "campaigns": "/leads/campaigns/",
        "campaign": f"/leads/campaigns/{campaign.pk}/",
        "campaign edit": f"/leads/campaigns/{campaign.pk}/edit/",
        "slas": "/slas/",
        "sla": f"/slas/{response.pk}/",
        "sla edit": f"/slas/{response.pk}/edit/",
        "volume sla": f"/slas/{volume.pk}/",
        "breaches": "/breaches/",
        "kpis": "/kpis/",
        "scorecards": "/scorecards/",
        "insights": "/insights/",
        "teams": "/teams/",
        "team": f"/teams/{team_id}/",
        "team edit": f"/teams/{team_id}/edit/",
    }


# Where each field is shown: (role, page) → payload tags whose escaped form must be there.
SHOWN = {
    ("admin", "lead list"): {"lead-name", "lead-company", "rep-first", "rep-last", "campaign", "sales-team"},
    ("admin", "lead"): {"lead-name", "lead-company", "lead-notes", "touch-notes", "sla", "campaign", "rep-first"},
    ("admin", "lead edit"): {"lead-name", "lead-company", "lead-notes", "campaign"},
    ("admin", "rejected lead"): {"reject-note", "manager-first"},
    ("admin", "campaigns"): {"campaign", "marketing-team"},
    ("admin", "campaign"): {"campaign", "lead-name"},
    ("admin", "campaign edit"): {"campaign", "marketing-team"},
    ("admin", "slas"): {"sla", "volume-sla", "sales-team", "marketing-team"},
    ("admin", "sla"): {"sla", "lead-name", "ack-note", "waive-reason", "rep-first", "manager-first"},
    ("admin", "sla edit"): {"sla", "sales-team"},
    ("admin", "volume sla"): {"volume-sla", "marketing-team"},
    ("admin", "breaches"): {"sla", "volume-sla", "lead-name", "ack-note", "waive-reason", "rep-first", "rep-last"},
    ("admin", "kpis"): {"kpi", "rep-first"},
    ("admin", "scorecards"): {"sales-team", "marketing-team", "rep-first"},
    ("admin", "insights"): {"campaign"},
    ("admin", "teams"): {"sales-team", "marketing-team"},
    ("admin", "team"): {"sales-team", "closed-date", "rep-first", "manager-first"},
    ("admin", "team edit"): {"sales-team"},
    ("sales_manager", "dashboard"): {"manager-first", "sales-team", "sla", "lead-name", "kpi", "rep-first"},
    ("sales_rep", "dashboard"): {"rep-first", "lead-name"},
    ("sales_rep", "queue"): {"lead-name", "lead-company"},
    ("marketing_manager", "dashboard"): {"marketing-team", "volume-sla"},
    ("marketer", "dashboard"): {"marketing-team", "volume-sla"},
}
ROLES = ["admin", "sales_manager", "sales_rep", "marketing_manager", "marketer"]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_shows_user_text_escaped_for_every_role(client, users, world, sales_team, role):
    client.force_login(users[role])
    for page, path in page_paths(world, sales_team.pk).items():
        response = client.get(path)
        assert response.status_code in (200, 403), (role, page, response.status_code)
        text = page_text(response)
        assert_no_markup(text, f"{page} as {role}")
        missing = {tag for tag in SHOWN.get((role, page), ()) if shown(tag) not in text}
        assert not missing, f"{page} as {role} does not show {sorted(missing)} (escaped)"


def test_contact_details_are_escaped_in_text_and_links(client, users, world):
    client.force_login(users["sales_manager"])
    text = client.get(f"/leads/{world['lead'].pk}/").content.decode()
    assert f'href="mailto:{escape(world["lead"].email)}"' in text
    assert 'href="tel:&lt;img src=x onerror=alert(2)&gt;"' in text
    assert_no_markup(text, "the lead page")


def test_chart_data_escapes_names_in_json_script(client, users, world):
    """Team names label the scorecards' trend chart; json_script must keep `<` out of the script."""
    client.force_login(users["admin"])
    text = client.get("/scorecards/").content.decode()
    found = re.search(r'<script id="trend-data" type="application/json">(.*?)</script>', text, re.S)
    assert found, "the trend chart's data is missing"
    assert "<" not in found.group(1) and "\\u003C" in found.group(1)
    series = json.loads(found.group(1))["series"]
    assert {payload("sales-team"), payload("marketing-team")} <= set(series)
    assert_no_markup(text, "the scorecards page")


@pytest.mark.parametrize("fragment", ["timeline", "queue"])
def test_htmx_fragments_escape_notes_names_and_errors(client, users, world, fragment):
    client.force_login(users["sales_rep"])
    url = f"/leads/{world['lead'].pk}/touch/"
    data = {"kind": "call", "notes": payload("htmx-touch"), "fragment": fragment}
    response = client.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    text = page_text(response)
    assert_no_markup(text, f"the {fragment} fragment")
    assert shown("lead-name") in text  # in the "Call logged for …" flash
    if fragment == "timeline":
        assert shown("htmx-touch") in text
    assert Touch.objects.filter(notes=payload("htmx-touch")).exists()

    response = client.post(url, {"kind": payload("bad-kind")}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert_no_markup(response.content.decode(), "the touch error fragment")
    assert shown("bad-kind") in response.content.decode()  # the choice error repeats the value


def test_messages_and_reflected_input_are_escaped(client, users, world, sales_team):
    client.force_login(users["sales_manager"])
    response = client.post(f"/leads/{world['lead'].pk}/status/", {"status": payload("status")}, follow=True)
    text = page_text(response)  # messages are printed by the layout's Jinja2 piece
    assert shown("status") in text  # the choice error, as a flash message
    assert_no_markup(text, "the status error message")

    data = {"name": payload("new-lead"), "team": sales_team.pk, "source": "web"}
    response = client.post("/leads/new/", data, follow=True)
    text = page_text(response)
    assert Lead.objects.filter(name=payload("new-lead")).exists()
    assert escape(f"Lead “{payload('new-lead')}” created.") in text
    assert_no_markup(text, "the lead created message")

    for path in ("/leads/", "/leads/campaigns/", "/breaches/"):
        text = client.get(path, {"q": payload("search")}).content.decode()
        assert_no_markup(text, f"{path} searched")
    assert f'value="{shown("search")}"' in page_text(client.get("/leads/", {"q": payload("search")}))


def test_import_preview_and_row_errors_are_escaped(client, users, world, sales_team):
    client.force_login(users["sales_manager"])

    def upload(text: str):
        file = SimpleUploadedFile("leads.csv", text.encode(), content_type="text/csv")
        return client.post("/leads/import/", {"file": file, "team": sales_team.pk})

    good = f'name,company\n"{payload("csv-name").replace(chr(34), chr(34) * 2)}",{SCRIPT}\n'
    response = upload(good)
    assert response.status_code == 200
    text = response.content.decode()
    assert shown("csv-name") in text and escape(SCRIPT) in text
    assert_no_markup(text, "the import preview")

    response = upload(f"name,email\nSiti,{SCRIPT}\n")
    assert response.status_code == 400
    text = response.content.decode()
    assert escape(f"“{SCRIPT.lower()}” is not a valid e-mail address.") in text
    assert_no_markup(text, "the import errors")


# -- e-mails --------------------------------------------------------------------------------------
def digest(users, manager: str = "sales_manager"):
    recipient = users[manager]
    recipient.digest_when_empty = True  # Marketing owed nothing this week: show its side all the same
    delivery = Delivery(kind=Delivery.Kind.DIGEST, recipient=recipient, week_start=date(2026, 8, 10))
    message = notifications.build_message(delivery, now=NOW)
    assert message is not None
    return message


def reminder(users, world):
    """The e-mail of a rep's notification that a clock of theirs is at risk."""
    rep = users["sales_rep"]
    clock = Clock.objects.get(lead=world["lead"])
    delivery = Delivery.objects.create(kind=Delivery.Kind.NOTICES, recipient=rep)
    Notification.objects.create(
        user=rep, kind="clock_at_risk", lead=world["lead"], clock=clock, delivery=delivery, emailed_at=NOW
    )
    return notifications.build_message(delivery, now=NOW)


def test_the_digest_escapes_html_and_keeps_the_text_part_plain(users, world):
    message = digest(users)
    html = message.alternatives[0][0]
    assert_no_markup(html, "the digest (HTML)")
    for tag in ("manager-first", "sales-team", "marketing-team", "sla", "volume-sla", "lead-name", "rep-first"):
        assert shown(tag) in html, tag
        assert payload(tag) in message.body, tag  # the text part is text: no entities
    assert "&lt;" not in message.body and "&#x27;" not in message.body


def test_the_marketing_digest_escapes_html(users, world):
    message = digest(users, "marketing_manager")
    html = message.alternatives[0][0]
    assert_no_markup(html, "the marketing digest (HTML)")
    assert shown("marketing-team") in html and shown("volume-sla") in html


def test_the_reminder_escapes_html_and_keeps_the_text_part_plain(users, world):
    message = reminder(users, world)
    html = message.alternatives[0][0]
    assert_no_markup(html, "the reminder (HTML)")
    assert shown("lead-name") in html and shown("sla") in html
    assert payload("lead-name") in message.body and payload("sla") in message.body
    assert "&lt;" not in message.body


def test_subjects_are_plain_text_not_html(users, world):
    """A subject is a header, not HTML: `&`, quotes and `<` stay as typed (no `&amp;`)."""
    assert payload("sales-team") in digest(users).subject
    assert payload("lead-name") in reminder(users, world).subject


def test_an_inquiry_from_a_lead_form_is_escaped_on_the_timeline_and_in_its_email(client, users, world, sales_team):
    """A person who writes again through a lead form chooses every word of it: the inquiry on
    the timeline and the owner's e-mail show it as text."""
    lead = world["lead"]
    form = LeadForm.objects.create(name=payload("form-name"), team=sales_team, fields=["email", "notes"])
    client.post(f"/f/{form.key}/", {"name": payload("person"), "email": lead.email, "notes": payload("message")})
    inquiry = Inquiry.objects.get(lead=lead)
    assert inquiry.message == payload("message")
    client.force_login(users["sales_manager"])
    text = page_text(client.get(f"/leads/{lead.pk}/"))
    assert_no_markup(text, "the lead page with an inquiry")
    assert shown("message") in text
    rep = lead.owner
    delivery = Delivery.objects.create(kind=Delivery.Kind.NOTICES, recipient=rep)
    Notification.objects.filter(user=rep, kind="inquiry").update(delivery=delivery, emailed_at=NOW)
    message = notifications.build_message(delivery, now=NOW)
    assert_no_markup(message.alternatives[0][0], "the inquiry e-mail (HTML)")
    assert shown("lead-name") in message.alternatives[0][0] and payload("lead-name") in message.body
