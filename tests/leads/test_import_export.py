"""CSV import (all or nothing, preview, encodings, limits, headers) and export (streamed, formula-safe)."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads import selectors, services
from leads.models import Assignment, ImportBatch, Lead
from tests.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 8, 5, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


def csv_file(text: str, encoding: str = "utf-8", name: str = "leads.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def run(users, team, text: str, *, dry_run: bool = False, by: str = "marketer", encoding: str = "utf-8"):
    return services.leads_import(file=csv_file(text, encoding), team=team, by=users[by], dry_run=dry_run, now=NOW)


GOOD = (
    "name,email,company,source,phone\n"
    "Siti Rahma,siti@contoh.co.id,PT Maju,web,+62 812 3456 7890\n"
    "Andi,andi@contoh.co.id,,event,\n"
)


def test_a_valid_file_creates_every_lead(users, sales_team):
    report = run(users, sales_team, GOOD)
    assert (report.ok, report.rows, report.created) == (True, 2, 2)
    siti = Lead.objects.get(email="siti@contoh.co.id")
    assert (siti.name, siti.company, siti.source, siti.phone, siti.team, siti.created_by) == (
        "Siti Rahma",
        "PT Maju",
        "web",
        "+6281234567890",  # stored in E.164
        sales_team,
        users["marketer"],
    )
    assert siti.history.count() == 1


def test_dry_run_reports_the_same_and_creates_nothing(users, sales_team):
    report = run(users, sales_team, GOOD, dry_run=True)
    assert (report.ok, report.rows, report.created, report.dry_run) == (True, 2, 0, True)
    assert [row["name"] for row in report.preview] == ["Siti Rahma", "Andi"]
    assert not Lead.objects.exists()


def test_one_bad_row_means_nothing_is_created_and_every_bad_row_is_reported(users, sales_team):
    text = (
        "name,email,source,value\n"
        "Siti,siti@contoh.co.id,web,1000\n"
        "Andi,not-an-email,web,\n"  # row 3
        ",x@contoh.co.id,tv,abc\n"  # row 4: three problems
    )
    report = run(users, sales_team, text)
    assert not report.ok and report.created == 0
    found = {(e.row, e.column) for e in report.errors}
    assert found == {(3, "email"), (4, "name"), (4, "source"), (4, "value")}
    assert "not a valid e-mail" in next(e.message for e in report.errors if e.row == 3)
    assert not Lead.objects.exists()


def test_indonesian_headers_in_any_case_with_a_bom(users, sales_team):
    text = "\ufeffNama;EMAIL;Perusahaan;Sumber;Telepon\nSiti;siti@contoh.co.id;PT Maju;Iklan;0812-3456-7890\n"
    report = run(users, sales_team, text)
    assert report.ok, report.errors
    lead = Lead.objects.get()
    assert (lead.name, lead.company, lead.source, lead.phone) == ("Siti", "PT Maju", "ads", "+6281234567890")


def test_a_file_that_is_not_utf8_gets_a_clear_error(users, sales_team):
    report = run(users, sales_team, "name,company\nJosé,Café Société\n", encoding="latin-1")
    assert not report.ok
    assert report.errors[0].row == 0 and "not UTF-8" in report.errors[0].message
    assert not Lead.objects.exists()


def test_a_missing_name_column_or_an_empty_file(users, sales_team):
    report = run(users, sales_team, "email,company\na@b.co,PT\n")
    assert [(e.row, e.column) for e in report.errors] == [(1, "name")]
    assert run(users, sales_team, "").errors[0].message.startswith("The file is empty")
    assert run(users, sales_team, "name,nama\nA,B\n").errors[0].message == "This column appears twice."


def test_the_size_limit_has_a_clear_message(users, sales_team, settings):
    settings.IMPORT_MAX_BYTES = 100
    report = run(users, sales_team, GOOD * 5)
    assert not report.ok and "files up to 100" in report.errors[0].message
    assert not Lead.objects.exists()


def test_oversized_fields_are_reported(users, sales_team):
    report = run(users, sales_team, f"name,company\n{'x' * 201},{'y' * 201}\n")
    assert {(e.row, e.column) for e in report.errors} == {(2, "name"), (2, "company")}


def test_campaigns_and_owners_by_name(users, sales_team):
    campaign = CampaignFactory(name="Pameran Jakarta")
    text = "name,campaign,owner,value\nSiti,pameran jakarta,rep1,15000000\nAndi,Nope,rep3,\n"
    report = run(users, sales_team, text, by="sales_manager")
    assert {(e.row, e.column) for e in report.errors} == {(3, "campaign"), (3, "owner")}
    report = run(users, sales_team, "name,campaign,owner\nSiti,Pameran Jakarta,REP1\n", by="sales_manager")
    assert report.ok
    lead = Lead.objects.get()
    assert (lead.campaign, lead.owner, lead.status) == (campaign, users["sales_rep"], "new")
    assert Assignment.objects.get(lead=lead).owner == users["sales_rep"]


def test_duplicates_are_warnings_not_errors(users, sales_team):
    LeadFactory(team=sales_team, email="siti@contoh.co.id")
    text = "name,email\nSiti,SITI@contoh.co.id\nAndi,andi@contoh.co.id\nAndi again,andi@contoh.co.id\n"
    report = run(users, sales_team, text)
    assert report.ok and report.created == 3
    assert [(w.row, w.message) for w in report.duplicates] == [
        (2, "A lead with this e-mail already exists in the team."),
        (4, "Same e-mail as row 3."),
    ]


def test_unknown_columns_are_ignored_and_named(users, sales_team):
    report = run(users, sales_team, "name,favourite colour\nSiti,blue\n")
    assert report.ok and report.ignored_columns == ["favourite colour"]


def test_quoted_cells_with_commas_and_newlines(users, sales_team):
    report = run(users, sales_team, 'name,company,notes\n"Rahma, Siti","PT Maju, Tbk","line one\nline two"\n')
    assert report.ok
    lead = Lead.objects.get()
    assert (lead.name, lead.company, lead.notes) == ("Rahma, Siti", "PT Maju, Tbk", "line one\nline two")


def test_blank_lines_are_skipped_and_rows_keep_spreadsheet_numbers(users, sales_team):
    report = run(users, sales_team, "name,email\n\nSiti,bad\n")
    assert [(e.row, e.column) for e in report.errors] == [(3, "email")]


def test_import_permissions(users, sales_team, other_sales_team, marketing_team):
    with pytest.raises(PermissionDenied):
        run(users, other_sales_team, GOOD, by="sales_rep")
    report = run(users, marketing_team, GOOD, by="admin")
    assert not report.ok and report.errors[0].column == "team"


def test_many_rows_in_batches_and_bounded_queries(users, sales_team, django_assert_max_num_queries):
    from django.db import connection

    rows = "".join(f"Lead {i},lead{i}@contoh.co.id\n" for i in range(4500))
    # PostgreSQL takes a batch of 2,000 rows per INSERT; SQLite caps the parameters of one
    # statement, so Django splits each batch further there (about rows / 20 for the lead and
    # its history row, with their 30-odd columns; never a row each).
    limit = 20 if connection.vendor == "postgresql" else 4500 // 18
    with django_assert_max_num_queries(limit):
        report = run(users, sales_team, "name,email\n" + rows)
    assert report.created == 4500
    assert Lead.objects.count() == 4500


def test_preview_then_confirm_imports_exactly_once(users, sales_team):
    upload = csv_file(GOOD)
    batch, report = services.import_preview(upload=upload, filename="leads.csv", team=sales_team, by=users["marketer"])
    assert report.ok and batch is not None and not Lead.objects.exists()
    assert services.import_commit(batch=batch, by=users["marketer"]).created == 2
    with pytest.raises(ValidationError, match="already imported"):
        services.import_commit(batch=batch, by=users["marketer"])
    with pytest.raises(PermissionDenied):
        services.import_commit(batch=batch, by=users["marketing_manager"])
    assert Lead.objects.count() == 2
    assert ImportBatch.objects.get().created == 2


def test_a_bad_preview_keeps_no_upload(users, sales_team):
    batch, report = services.import_preview(
        upload=csv_file("name,email\nSiti,bad\n"), filename="x.csv", team=sales_team, by=users["marketer"]
    )
    assert batch is None and not report.ok
    assert not ImportBatch.objects.exists()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.text(min_size=1, max_size=60).filter(lambda s: s.strip()), min_size=1, max_size=5))
def test_any_text_either_imports_faithfully_or_creates_nothing(users, sales_team, names):
    buffer = io.StringIO()
    import csv

    writer = csv.writer(buffer)
    writer.writerow(["name"])
    for name in names:
        writer.writerow([name])
    before = Lead.objects.count()
    report = run(users, sales_team, buffer.getvalue())
    created = Lead.objects.count() - before
    assert created == (report.rows if report.ok else 0)
    if report.ok:
        assert report.rows == len([n for n in names if n.strip()])


# -- export ---------------------------------------------------------------------------------
def test_export_escapes_formula_cells_and_streams(users, sales_team):
    LeadFactory(team=sales_team, name='=HYPERLINK("http://x")', company="+62 Corp", email="a@b.co")
    LeadFactory(team=sales_team, name="@SUM(A1)", company="-minus")
    LeadFactory(team=sales_team, name="\tTabbed", company="\rReturn")
    lines = selectors.lead_export_lines(leads=Lead.objects.all())
    assert not isinstance(lines, list)  # a generator: rows are produced as they are read
    text = "".join(lines)
    assert text.startswith("\ufeffid,name,email")
    for dangerous in ['"=HYPERLINK', ",+62 Corp", ",@SUM", ",-minus"]:
        assert dangerous not in text
    for safe in ["'=HYPERLINK", "'+62 Corp", "'@SUM(A1)", "'-minus", "'\tTabbed", "'\rReturn"]:
        assert safe in text


def test_export_reads_in_chunks(users, sales_team, django_assert_max_num_queries):
    for i in range(30):
        LeadFactory(team=sales_team, name=f"Lead {i}")
    with django_assert_max_num_queries(3):
        lines = list(selectors.lead_export_lines(leads=Lead.objects.all(), chunk_size=10))
    assert len(lines) == 31
