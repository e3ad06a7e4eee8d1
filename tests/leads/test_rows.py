"""The lead list's pre-formatted rows say what the template's tags and filters said: the
lead's URL, its status and source in the user's language, names, the value with the
team's currency and the language's grouping, the creation date in the user's zone; the
table escapes every value; the filter's selects keep what was chosen."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html

from leads.filters import LeadFilter
from leads.models import Lead, Status
from leads.rows import lead_rows, lead_rows_html, owner_options, select_options
from teams.models import User
from tests.factories import CampaignFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

# 23:30 in Jakarta on 31 January is already 1 February in Jayapura.
LATE = datetime(2026, 1, 31, 23, 30, tzinfo=ZoneInfo("Asia/Jakarta"))


@pytest.fixture
def leads(users):
    team = users["sales_rep"].team
    campaign = CampaignFactory(team=users["marketer"].team, name="Promo Ramadan")
    LeadFactory(team=team, name="Budi", company="", created_at=LATE)
    LeadFactory(
        team=team,
        name="<b>Siti</b>",
        company="PT Maju & Co",
        owner=users["sales_rep"],
        campaign=campaign,
        value=Decimal("1500000"),
        status=Status.QUALIFIED,
        created_at=LATE,
    )
    return Lead.objects.order_by("pk")


def test_rows_in_english_in_jakarta(leads, users):
    with translation.override("en"), timezone.override("Asia/Jakarta"):
        plain, full = lead_rows(leads, now=timezone.now())
    assert plain.url == reverse("leads:detail", args=[leads[0].pk])
    assert (plain.owner, plain.campaign, plain.value, plain.company) == ("", "", "", "")
    assert (plain.status, plain.status_class, plain.source) == ("New", "text-bg-info", "Website")
    assert (plain.created, plain.created_iso) == ("31/01/2026", "2026-01-31T23:30:00+07:00")
    assert full.owner == str(users["sales_rep"]) and full.team == leads[1].team.name
    assert (full.campaign, full.value, full.status) == ("Promo Ramadan", "IDR 1,500,000", "Qualified")
    assert full.select_label == "Select <b>Siti</b>"


def test_rows_in_indonesian_in_jayapura(leads):
    with translation.override("id"), timezone.override("Asia/Jayapura"):
        plain, full = lead_rows(leads, now=timezone.now())
        labels = (leads[0].get_status_display(), leads[0].get_source_display())
    assert (plain.status, plain.source) == labels == ("Baru", "Situs web")
    assert (plain.created, plain.created_iso) == ("01-02-2026", "2026-02-01T01:30:00+09:00")
    assert full.value == "IDR 1.500.000"
    assert full.select_label == "Pilih <b>Siti</b>"


def test_the_table_escapes_every_value(leads):
    with translation.override("en"):
        html = lead_rows_html(lead_rows(leads, now=timezone.now()), selectable=True)
    assert "<b>Siti</b>" not in html and "&lt;b&gt;Siti&lt;/b&gt;" in html
    assert "PT Maju &amp; Co" in html and 'aria-label="Select &lt;b&gt;Siti&lt;/b&gt;"' in html
    assert html.count("<tr>") == 2 and html.count('type="checkbox"') == 2
    assert 'type="checkbox"' not in lead_rows_html(lead_rows(leads, now=timezone.now()), selectable=False)


def test_the_list_page_shows_the_rows_and_keeps_the_chosen_filters(client, users, leads):
    client.force_login(users["sales_manager"])
    rep = users["sales_rep"]
    page = client.get("/leads/", {"owner": rep.pk, "ordering": "name"}).content.decode()
    assert f'<option value="{rep.pk}" selected>' in page and '<option value="name" selected>' in page
    assert f'href="{reverse("leads:detail", args=[leads[1].pk])}"' in page
    assert "Budi" not in page  # filtered out: not the rep's
    page = client.get("/leads/").content.decode()
    assert "Budi" in page and "Unassigned" in page


def test_rows_read_the_page_in_one_statement(leads, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = lead_rows(leads, now=timezone.now())
    assert [row.pk for row in rows] == [lead.pk for lead in leads]


def test_the_selects_options_are_djangos_choices_read_as_column_values(users, leads, django_assert_num_queries):
    """Owner, campaign and team options say what the form field's own choices say (the
    model's `__str__`), in its order, with the chosen ones selected, in one statement each."""
    UserFactory(team=users["sales_rep"].team, role=users["sales_rep"].role, first_name="", last_name="", username="nn")
    CampaignFactory(team=users["marketer"].team, name="<i>Flash</i> & sale")
    chosen = users["sales_rep"]
    filters = LeadFilter({"owner": chosen.pk, "status": ["new", "won"]}, queryset=Lead.objects.all(), user=chosen)
    form = filters.form
    selected = {"owner": {str(chosen.pk)}, "status": {"new", "won"}, "campaign": {""}, "team": {""}, "ordering": {""}}
    for name, picked in selected.items():
        expected = "".join(
            format_html('<option value="{}"{}>{}</option>', value, " selected" if str(value) in picked else "", label)
            for value, label in form.fields[name].choices
        )
        with django_assert_num_queries(1 if name in ("owner", "campaign", "team") else 0):
            assert select_options(form[name]) == expected, name
    assert f'<option value="{chosen.pk}" selected>{chosen}</option>' in select_options(form["owner"])
    assert '<option value="">Any</option>' in select_options(form["campaign"]).replace(" selected", "")
    assert ">nn</option>" in select_options(form["owner"])  # no name: the username, as str(user)
    assert "&lt;i&gt;Flash&lt;/i&gt; &amp; sale" in select_options(form["campaign"])
    assert '<option value="">' not in select_options(form["sla"], blank=False)
    assert select_options(form["sla"], blank=False).count("<option") == len(form.fields["sla"].choices) - 1


def test_bulk_owner_options_name_the_team_of_reps_from_elsewhere(users):
    rep, other = users["sales_rep"], users["other_team_rep"]
    owners = User.objects.filter(pk__in=[rep.pk, other.pk]).order_by("pk")
    html = owner_options(owners, home_team=rep.team_id)
    assert f'<option value="{rep.pk}">{rep}</option>' in html
    assert f'<option value="{other.pk}">{other} ({other.team})</option>' in html
