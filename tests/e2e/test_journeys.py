"""The main journeys of Selaras, as people do them, in headless Chromium."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads import services as leads
from leads.models import Lead
from slas.models import Breach, Sla
from slas.services import sla_sweep
from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_sales_manager_sets_the_three_slas_of_the_agreement(page, login, users, sales_team, marketing_team):
    login("sales.manager")
    page.goto("/slas/")
    page.get_by_role("link", name="New Response SLA").click()
    page.get_by_label("Name").fill("First follow-up within 1 business day")
    page.get_by_label("Target").fill("1")
    page.get_by_label("Unit").select_option("business_days")
    page.get_by_role("button", name="Save SLA").click()
    page.get_by_text("is in force from now on").wait_for()
    page.goto("/slas/")
    page.get_by_role("link", name="New Cadence SLA").click()
    page.get_by_label("Name").fill("5 follow-ups in 30 days")
    assert page.get_by_label("Follow-ups").input_value() == "5"
    page.get_by_role("button", name="Save SLA").click()
    page.get_by_text("is in force from now on").wait_for()
    page.goto("/slas/")
    page.get_by_role("link", name="New Volume SLA").click()
    page.get_by_label("Name").fill("50 leads per rep per month")
    page.get_by_label("Owed by (marketing team)").select_option(str(marketing_team.pk))
    page.get_by_role("button", name="Save SLA").click()
    page.get_by_text("is in force from now on").wait_for()
    kinds = dict(Sla.objects.values_list("kind", "name"))
    assert set(kinds) == {"response", "cadence", "volume"}
    response, cadence, volume = (Sla.objects.get(kind=kind) for kind in ("response", "cadence", "volume"))
    assert (response.target_value, response.target_unit) == (1, "business_days")
    assert (cadence.min_touches, cadence.window_days) == (5, 30)
    assert (volume.leads_per_rep, volume.period, volume.from_team) == (50, "month", marketing_team)


def test_a_marketer_imports_a_bad_file_then_a_good_one(page, login, users, sales_team, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("nama,email,sumber\nSiti,not-an-email,web\nAndi,andi@contoh.co.id,tv\n", encoding="utf-8")
    good = tmp_path / "good.csv"
    good.write_text(
        "nama,email,perusahaan,sumber,telepon\nSiti,siti@contoh.co.id,PT Maju,web,0812-3456-7890\n", encoding="utf-8"
    )
    login("marketer1")
    page.goto("/leads/import/")
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_label("Sales team").select_option(str(sales_team.pk))
    page.get_by_role("button", name="Check the file").click()
    problems = page.get_by_role("table").filter(has_text="Problem")
    expect(problems.get_by_role("row").filter(has_text="not a valid e-mail")).to_be_visible()
    expect(problems.get_by_role("row").filter(has_text="Unknown source")).to_be_visible()
    expect(page.get_by_text("nothing was created")).to_be_visible()
    assert not Lead.objects.exists()
    page.get_by_label("CSV file").set_input_files(str(good))
    page.get_by_label("Sales team").select_option(str(sales_team.pk))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("button", name=re.compile("Import 1 lead")).click()
    page.get_by_text("1 lead imported.").wait_for()
    assert (Lead.objects.get().company, Lead.objects.get().phone) == ("PT Maju", "+6281234567890")


def test_a_rep_sees_the_response_sla_turn_met_after_a_call(browser, live_server, users, sales_team, response_sla):
    now = timezone.now()
    lead = LeadFactory(team=sales_team, created_at=now - timedelta(minutes=5), name="Siti Rahma")
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=now - timedelta(minutes=1))
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 812}, is_mobile=True)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("rep1")
    page.get_by_label("Password").fill("correct-horse-battery-9")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
    page.goto(f"/leads/{lead.pk}/")
    sla_panel = page.get_by_role("region", name="SLA")
    expect(sla_panel.get_by_text("Pending")).to_be_visible()
    page.get_by_role("button", name="Log Call").click()
    page.get_by_text("Call logged for Siti Rahma.").wait_for()
    page.reload()
    expect(page.get_by_role("region", name="SLA").get_by_text("Met", exact=True)).to_be_visible()
    context.close()


def test_a_manager_acknowledges_one_breach_waives_another_and_opens_the_scorecard(
    page, login, users, sales_team, response_sla
):
    start = timezone.now() - timedelta(days=3)
    for name in ("Ack Me", "Waive Me"):
        lead = LeadFactory(team=sales_team, created_at=start, name=name)
        leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=start)
    sla_sweep(now=timezone.now())
    login("sales.manager")
    page.goto("/breaches/")
    row = page.get_by_role("row").filter(has_text="Ack Me")
    row.get_by_text("Act…").click()
    row.get_by_label("Note").fill("Talked it through")
    row.get_by_role("button", name="Acknowledge").click()
    page.get_by_text("Breach acknowledged.").wait_for()
    row = page.get_by_role("row").filter(has_text="Waive Me")
    row.get_by_text("Act…").click()
    row.get_by_label("Reason for waiving").fill("Test entry by Marketing")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Waive").click()
    page.get_by_text("Breach waived").wait_for()
    assert Breach.objects.get(lead__name="Ack Me").note == "Talked it through"
    assert Breach.objects.get(lead__name="Waive Me").waived_reason == "Test entry by Marketing"
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Scorecards").click()
    expect(page.get_by_role("heading", name="Scorecards", level=1)).to_be_visible()


def test_in_bahasa_indonesia_pages_use_indonesian_words_and_formats(page, login, users, sales_team):
    LeadFactory(team=sales_team, owner=users["sales_rep"], name="Siti Rahma", value=1500000, status="won")
    users["sales_manager"].language = "id"
    users["sales_manager"].save()
    login("sales.manager")
    page.goto("/leads/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Prospek")
    expect(page.get_by_text("IDR 1.500.000")).to_be_visible()  # Indonesian thousands separator
    expect(page.locator("td .badge", has_text="Menang")).to_be_visible()
    for path, english in [
        ("/leads/", "Search"),
        ("/slas/", "Service level"),
        ("/breaches/", "Export"),
        ("/scorecards/", "Period"),
    ]:
        page.goto(path)
        assert not re.search(rf"\b{english}\b", page.locator("main").inner_text()), path


def test_other_peoples_objects_are_simply_not_found(page, login, users, sales_team, other_sales_team):
    teammates = LeadFactory(team=sales_team, owner=users["other_rep"], name="Not Yours")
    far_away = LeadFactory(team=other_sales_team, owner=users["other_team_rep"], name="Papua Lead")
    login("rep1")
    page.goto(f"/leads/{teammates.pk}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Not found"
    assert page.get_by_text("Not Yours").count() == 0
    page.context.clear_cookies()
    login("sales.manager")
    page.goto(f"/leads/{far_away.pk}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Not found"
    assert page.get_by_text("Papua Lead").count() == 0


def test_the_pages_of_this_years_features_speak_indonesian(page, login, users, sales_team, marketing_team):
    """The dashboard (the tour, breach cost, capacity), disputes and rejections, routing,
    notifications, the SLA form's preview, lead capture and webhooks, opened in Indonesian:
    none of their English headings or buttons is left on the page."""
    from slas import services as slas

    response = slas.sla_create(
        by=users["sales_manager"], team=sales_team, kind="response", name="Respon", target_value=1,
        target_unit="business_days", now=timezone.now() - timedelta(days=120),
    )  # fmt: skip
    slas.sla_create(
        by=users["admin"], team=sales_team, kind="volume", name="Volume", from_team=marketing_team,
        now=timezone.now() - timedelta(days=120),
    )  # fmt: skip
    for who in ("sales_manager", "marketing_manager", "admin"):
        users[who].language = "id"
        users[who].save(update_fields=["language"])
    english = {
        ("sales.manager", "/"): ["A short tour", "Skip the tour", "What breaches cost", "Capacity ahead", "Warning"],
        ("sales.manager", "/leads/disputes/"): ["Disputes", "Open", "Rejections"],
        ("sales.manager", "/routing/"): ["Routing", "New rule"],
        ("sales.manager", "/notifications/"): ["Notifications", "Mark all read"],
        ("sales.manager", f"/slas/{response.pk}/edit/"): ["Preview the last 13 weeks", "Save"],
        ("marketing.manager", "/"): ["What breaches cost", "Capacity ahead", "Leads delivered"],
        ("marketing.manager", "/leads/rejections/"): ["Rejections", "Dispute"],
        ("marketing.manager", "/intake/"): ["Lead forms", "Inbound hooks", "New lead form"],
        ("admin", "/webhooks/"): ["Webhooks", "New webhook"],
    }
    signed_in = None
    for (username, path), words in english.items():
        if username != signed_in:
            page.context.clear_cookies()
            login(username)
            signed_in = username
        page.goto(path)
        assert page.locator("html").get_attribute("lang") == "id", path
        text = page.locator("main").inner_text()
        left = [word for word in words if re.search(rf"\b{re.escape(word)}\b", text)]
        assert not left, (path, left)
    page.goto(f"/slas/{response.pk}/edit/")
    page.get_by_role("button", name="Pratinjau 13 minggu terakhir").click()
    preview = page.locator("#preview-heading")
    expect(preview).to_be_visible()  # the answer swapped in, with no deadline in the weeks (an empty state)
    assert not re.search(r"\b(What these terms|Week by week|Rep by rep|deadline)\b", page.locator("main").inner_text())
