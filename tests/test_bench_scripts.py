"""The HTTP and import benchmarks measure what they claim: the sessions and tokens they
load the server with are signed in, the floor page lists 50 leads, and the CSV the
import benchmark writes is valid for the importer from its first row to its last."""

from __future__ import annotations

import importlib.util
import math
import re
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from leads.models import Assignment, Lead
from tests.factories import CampaignFactory, LeadFactory

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

pytestmark = pytest.mark.django_db
# What bench/http.lua reads from each line of a sessions file.
LINE = re.compile(r"^([^:]+): ([^\t]+)\t(\d+)$")


def _write_sessions(tmp_path, monkeypatch, reps: int) -> dict[str, list[tuple[str, str, int]]]:
    import http_sessions

    monkeypatch.setattr(sys, "argv", ["http_sessions.py", str(tmp_path), "--reps", str(reps)])
    http_sessions.main()
    files = {}
    for name in ("managers", "reps", "mixed", "tokens"):
        lines = (tmp_path / f"{name}.txt").read_text().splitlines()
        assert all(LINE.match(line) for line in lines), lines
        files[name] = [(m[1], m[2], int(m[3])) for m in map(LINE.match, lines)]
    return files


def test_the_sessions_and_tokens_are_signed_in_with_the_pages_each_user_has(users, tmp_path, monkeypatch):
    LeadFactory.create_batch(60, team=users["sales_rep"].team, owner=users["sales_rep"])
    files = _write_sessions(tmp_path, monkeypatch, reps=3)

    # rep1…rep3 and the managers of their two teams; a rep's pages are their queue's.
    assert [pages for _, _, pages in files["reps"]] == [2, 1, 1]
    assert sorted(pages for _, _, pages in files["managers"]) == [1, 2]
    assert len(files["mixed"]) == 5 and len(files["tokens"]) == 2
    for header, value, _ in files["reps"]:
        assert header == "Cookie"
        client = Client()
        name, _, key = value.partition("=")
        client.cookies[name] = key
        assert client.get("/leads/queue/").status_code == 200
    header, value, pages = max(files["tokens"], key=lambda line: line[2])
    response = Client().get("/api/v1/leads/", HTTP_AUTHORIZATION=value)
    assert header == "Authorization" and response.status_code == 200
    assert math.ceil(response.json()["count"] / 50) == pages == 2


def test_without_a_session_the_pages_would_only_redirect(users):
    # The check above is meaningful: a request that is not signed in is sent to the login page.
    assert Client().get("/leads/queue/").status_code == 302


def test_the_floor_page_lists_50_leads_of_the_managers_team(users, settings):
    from bench import settings as bench_settings

    settings.ROOT_URLCONF = "bench.urls"
    settings.TEMPLATES = bench_settings.TEMPLATES
    LeadFactory.create_batch(60, team=users["sales_manager"].team)
    LeadFactory.create_batch(5, team=users["other_manager"].team)
    client = Client()
    client.force_login(users["sales_manager"])

    first, second = client.get("/bench/floor/"), client.get("/bench/floor/?page=2")
    assert first.status_code == second.status_code == 200
    assert first.content.count(b"<tr>") == 51 and second.content.count(b"<tr>") == 11  # with the header row
    assert client.get("/bench/hello/").content == b"hello"


def test_the_import_benchmarks_csv_is_imported_whole(users, tmp_path):
    spec = importlib.util.spec_from_file_location("bench_import", BENCH / "import.py")
    bench_import = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_import)
    from leads.services import leads_import

    campaigns = [CampaignFactory().name for _ in range(3)]
    path = tmp_path / "leads.csv"
    bench_import.write_csv(path, 300, reps=["rep1", "rep2"], campaigns=campaigns)

    team, manager = users["sales_manager"].team, users["sales_manager"]
    with path.open("rb") as handle:
        report = leads_import(file=handle, team=team, by=manager)
    assert report.ok, report.errors[:3]
    assert report.rows == report.created == Lead.objects.filter(team=team).count() == 300
    assert Assignment.objects.filter(lead__team=team).count() == 150  # an owner on every other row
    assert Lead.objects.filter(team=team).exclude(campaign=None).exists()
    assert path.stat().st_size * 100_000 / 300 < django_settings.IMPORT_MAX_BYTES  # 100,000 rows fit the cap


def test_the_routing_benchmarks_checks_pass_on_routed_leads_and_catch_a_doubled_one(db):
    spec = importlib.util.spec_from_file_location("bench_routing", BENCH / "routed.py")
    bench_routing = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_routing)
    from leads import services

    team, _token, weights = bench_routing._world()
    # 900 by weight: a whole number of leads for each of the weights 1-4 of 40 reps.
    leads = Lead.objects.bulk_create(
        Lead(team=team, name=f"Lead {n}", source="event" if n % 10 == 0 else "web") for n in range(1000)
    )
    services.leads_route(leads=leads)
    assert bench_routing._check(team, weights, [lead.pk for lead in leads]) == []
    # A second owner for one lead (an earlier, ended assignment: one open one is all the table allows).
    at = leads[0].assigned_at
    Assignment.objects.create(lead=leads[0], owner=leads[1].owner, assigned_at=at, ended_at=at)
    failures = bench_routing._check(team, weights, [lead.pk for lead in leads])
    assert len(failures) == 1 and failures[0].startswith("assignments per lead")
