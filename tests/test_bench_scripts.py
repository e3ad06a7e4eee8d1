"""The HTTP and import benchmarks measure what they claim: the sessions and tokens they
load the server with are signed in, the floor page lists 50 leads, and the CSV the
import benchmark writes is valid for the importer from its first row to its last. Each
benchmark's summary lines are well formed and judged by the SPEC's rule, and
bench/summary.py makes the README's table of them."""

from __future__ import annotations

import importlib.util
import io
import json
import math
import re
import sys
from pathlib import Path
from types import SimpleNamespace

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
    # The same rows in the same order, read with the product's deferred join.
    deferred, jinja = client.get("/bench/deferred/?page=2"), client.get("/bench/jinja/?page=2")
    assert deferred.content == second.content
    assert jinja.content.decode().split() == second.content.decode().split()  # Jinja2's blank lines aside
    listed = client.get("/bench/json/?page=2").json()
    assert listed["count"] == 60 and len(listed["results"]) == 10
    # The leads API's fields in a list, its relations as ids.
    api_row = client.get("/api/v1/leads/").json()["results"][0]
    assert {key.removesuffix("_id") for key in listed["results"][0]} == set(api_row) - {
        "sla_status",
        "likely_duplicates",
    }
    assert {row["team_id"] for row in listed["results"]} == {users["sales_manager"].team_id}


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


def _bench(name: str):
    """A bench script as a module (by its path: `import` is not a module name)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _written(tmp_path, rows: list[dict]) -> list[dict]:
    """`rows` appended to a summary file and read back, each line checked."""
    import summary

    path = tmp_path / "summary.jsonl"
    path.unlink(missing_ok=True)
    summary.append(str(path), rows)
    targets, _benches, _run = summary.read(path)
    assert len(targets) == len(rows) == len(path.read_text().splitlines())
    return targets


RUN = [
    {"run": "start", "date": "2026-12-08T09:30:00+07:00", "cores": 2, "smoke": False, "idle": 196},
    {
        "target": "full sweep",
        "figure": "38.00 s",
        "floor": "15.40 s",
        "ratio": 2.4675,
        "limit": "≤ 2× the floor",
        "met": False,
        "notes": "1,000,000 leads",
    },
    {"bench": "sweep", "idle": 190, "exit": 0, "seconds": 300},
    {
        "target": "scorecards, all teams, a month",
        "figure": "1.30 s",
        "floor": None,
        "ratio": None,
        "limit": "< 2 s | at 1,000,000 leads",
        "met": True,
        "notes": "",
    },
    {"bench": "scorecards", "idle": 187, "exit": 1, "seconds": 30},
    {"bench": "pages", "idle": None, "exit": 1, "seconds": 0},
    {"run": "end", "seconds": 4000},
]
TABLE = """## SPEC §10 benchmarks, 2026-12-08

2 cores; idle CPU 196 % at the start, 187–190 % before each benchmark (200 % = every core idle); 1 h 7 min in all. \
Idle before: sweep 190 %, scorecards 187 %.

| target | figure | floor | ratio | limit | met |
|---|---|---|---|---|---|
| full sweep | 38.00 s | 15.40 s | 2.47× | ≤ 2× the floor | **no** |
| scorecards, all teams, a month | 1.30 s | — | — | < 2 s \\| at 1,000,000 leads | yes |

- full sweep: 1,000,000 leads

Exited with an error or a failed check: scorecards (exit 1), pages (exit 1)."""


def test_the_summary_prints_the_runs_lines_as_the_readmes_table(tmp_path, capsys, monkeypatch):
    import summary

    path = tmp_path / "run.jsonl"
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in RUN), encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["summary.py", str(path)])
    summary.main()
    assert capsys.readouterr().out == TABLE + "\n"

    smoke = {**RUN[0], "smoke": True}
    assert "**Smoke run**" in summary.render(*summary.read(_lines(tmp_path, [smoke, RUN[1]])))


def _lines(tmp_path, lines: list[dict]) -> Path:
    path = tmp_path / "lines.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_the_summary_refuses_a_malformed_line(tmp_path):
    import summary

    floor_without_ratio = {**RUN[1], "ratio": None}
    with pytest.raises(ValueError, match="floor and ratio go together"):
        summary.read(_lines(tmp_path, [floor_without_ratio]))
    with pytest.raises(ValueError, match="keys"):
        summary.append(str(tmp_path / "x.jsonl"), [{"target": "x", "figure": "1 s"}])
    assert not (tmp_path / "x.jsonl").exists()


def test_the_sweeps_summary_judges_the_full_and_the_incremental_sweep(tmp_path):
    sweep = _bench("sweep")
    incremental = {"clocks": 1000, "seconds": 0.5, "statements": 24, "breaches": 10, "sql": []}
    report = {
        "leads": 1_000_000,
        "touches": 9_000_000,
        "clocks": 2_000_000,
        "floor_seconds": 15.4,
        "floor_runs": [15.4, 16.0],
        "clocks_seconds": 30.8,
        "full_seconds": 60.0,
        "ratio": 2.0,
        "ratio_with_volume": 3.9,
        "chunks": 42,
        "longest_chunk_seconds": 1.4,
        "peak_rss_mb": 66.0,
        "same_breaches": True,
        "breaches": 385_000,
        "killed_halfway": True,
        "resumed_same": True,
        "incremental": incremental,
        "small": {**incremental, "seconds": 0.2},
    }
    full, inc = _written(tmp_path, sweep.summary_rows(report, small_leads=10_000))
    # Judged on the whole run, volume periods included, not on the chunks' statements alone.
    assert (full["figure"], full["floor"], full["ratio"], full["met"]) == ("60.00 s", "15.40 s", 3.9, False)
    assert "the chunks' statements alone 30.80 s (2.00×)" in full["notes"]
    report = {**report, "full_seconds": 30.8, "ratio_with_volume": 2.0}
    full, inc = _written(tmp_path, sweep.summary_rows(report, small_leads=10_000))
    assert (full["figure"], full["floor"], full["ratio"], full["met"]) == ("30.80 s", "15.40 s", 2.0, True)
    assert (inc["figure"], inc["floor"], inc["ratio"], inc["met"]) == ("0.500 s", None, None, False)  # < 0.5 s
    assert "24 statements, 24 at 10,000 leads" in inc["notes"]
    killed_late = {**report, "killed_halfway": False, "incremental": {**incremental, "seconds": 0.3}}
    full, inc = sweep.summary_rows(killed_late, small_leads=10_000)
    assert not full["met"] and inc["met"]


def test_the_scorecards_and_previews_summaries(tmp_path):
    periods = [
        ("month", ("month 2026-11-01…2026-11-30", 24, 1.3, 6, [1.3, 1.4])),
        ("quarter", ("quarter 2026-07-01…2026-09-30", 24, 2.19, 6, [2.19, 2.3])),
    ]
    month, quarter = _written(tmp_path, _bench("scorecards").summary_rows(periods, leads=1_000_000, runs=2))
    assert (month["target"], month["met"], quarter["met"]) == ("scorecards, all teams, a month", True, False)

    rows = [("floor", 0.021, 1), ("response", 0.398, 23), ("cadence", 3.0, 23)]
    facts = {"leads": 100_000, "team": "Sales 1", "team_leads": 5_086, "assigned": 2_327}
    response, cadence = _written(tmp_path, _bench("preview").summary_rows(rows, **facts, kept=False))
    assert (response["floor"], round(response["ratio"], 1), response["met"]) == ("0.021 s", 19.0, True)
    assert not cadence["met"]  # 3 s is not under 3 s
    assert not any(line["met"] for line in _bench("preview").summary_rows(rows, **facts, kept=True))


RESULTS = """RESULT list 49.1 149.0 291.0 370.0 1579 0 0 190
RESULT queue 41.1 219.0 373.0 438.0 1233 0 0 188
RESULT api 135.9 54.0 111.0 190.0 4089 0 0 195
RESULT floor 24.5 312.0 600.0 700.0 735 0 0 191
RESULT hello 489.8 15.0 30.0 42.0 14711 0 0 197
RESULT json 150.0 45.0 90.0 120.0 4500 0 0 196
RESULT deferred 40.0 200.0 400.0 500.0 1200 0 0 195
RESULT jinja 49.0 150.0 300.0 400.0 1470 0 0 195
"""


def test_the_pages_summary_sets_each_page_against_the_plain_list_of_the_same_run(tmp_path, monkeypatch):
    import http_summary
    import summary

    path = tmp_path / "summary.jsonl"
    monkeypatch.setattr(sys, "argv", ["http_summary.py", str(path), "100000", "60s", "8"])
    monkeypatch.setattr(sys, "stdin", io.StringIO(RESULTS))
    http_summary.main()  # as bench/http.sh calls it
    lines, _, _ = summary.read(path)
    assert [(line["target"], line["met"]) for line in lines] == [
        ("pages: lead list", True),  # 2.00× the req/s, p95 0.49×
        ("pages: rep's queue", False),
        ("pages: leads API", True),  # 5.5×
    ]
    assert lines[0]["floor"] == "24.5 req/s, p95 600 ms" and "bare response 489.8 req/s" in lines[0]["notes"]
    # The API beside the bare JSON list of the same rows: 135.9 / 150.0, which is 6.12× the plain list.
    beside = "the bare JSON list of the same rows 150.0 req/s (6.12× the plain list), this 0.91× it"
    assert beside in lines[2]["notes"] and "JSON list" not in lines[0]["notes"]
    deferred = "the plain list read with the product's deferred join 40.0 req/s (1.63× the plain list), this "
    assert f"{deferred}1.23× it" in lines[0]["notes"] and f"{deferred}1.03× it" in lines[1]["notes"]
    assert "the same in Jinja2 49.0 req/s (2.00× the plain list), this 1.00× it" in lines[0]["notes"]

    with_errors = http_summary.parse(RESULTS.replace("1579 0 0", "1579 0 3").splitlines())
    assert not http_summary.summary_rows(with_errors, leads=100_000, duration="60s", connections=8)[0]["met"]
    without_floor = http_summary.parse(RESULTS.splitlines()[:3])
    assert http_summary.summary_rows(without_floor, leads=100_000, duration="60s", connections=8) == []


def test_the_import_intake_and_routing_summaries(tmp_path):
    imported = {
        "vendor": "postgresql",
        "rows": 100_000,
        "file_mb": 11.6,
        "preview_seconds": 1.2,
        "commit_seconds": 35.4,
        "total_seconds": 36.7,
        "rss_before_mb": 64.0,
        "rss_peak_mb": 178.0,
        "traced_peak_mb": 62.6,
        "traced_seconds": 120.0,
    }
    (line,) = _written(tmp_path, _bench("import").summary_rows([imported], route=False))
    assert (line["target"], line["figure"], line["floor"], line["met"]) == (
        "CSV import, postgresql",
        "36.7 s",
        None,
        True,
    )

    def rate(rps: float, p95: float) -> dict:
        return {"rps": rps, "p50": p95 / 2, "p95": p95, "requests": int(rps * 20), "statuses": {201: int(rps * 20)}}

    results = {"floor": rate(100, 10), "api": rate(21.3, 485), "form": rate(50, 49), "hook": rate(50, 50)}
    results["whatsapp"] = rate(49, 20)
    lines = _written(tmp_path, _bench("intake").summary_rows(results, burst=10_000, elapsed=432, failures=[]))
    assert [line["met"] for line in lines] == [True, False, False, True]  # p95 < 50 ms, rate ≥ 0.5×; the burst
    assert lines[3]["floor"] is None
    (burst,) = _bench("intake").summary_rows(results, burst=10, elapsed=1, failures=["a lead was not routed"])[3:]
    assert not burst["met"] and burst["notes"] == "a lead was not routed"

    routed = _bench("routed")
    (line,) = _written(
        tmp_path, routed.summary_rows({"floor": 7.5, "routed": 33.66}, leads=10_000, clients=4, failures=[])
    )
    assert (line["ratio"], line["met"]) == (4.488, True)
    assert not routed.summary_rows({"floor": 1, "routed": 2}, leads=10, clients=4, failures=["x"])[0]["met"]


def test_the_mail_capture_and_webhooks_summaries(tmp_path):
    mail = _bench("mailcapture")
    measured = {"messages": 10_000, "floor": 0.28, "capture": 20.6, "idle_time": 0.0137, "noop": 0.0086}
    result = SimpleNamespace(touches=11_601, inquiries=225, skipped=474)
    capture, poll = _written(
        tmp_path,
        mail.summary_rows(
            **measured,
            result=result,
            idle=SimpleNamespace(commands=1, read=0),
            capture_failures=[],
            idle_failures=[],
        ),
    )
    assert (capture["ratio"], capture["met"], poll["met"]) == (73.5714, True, True)
    assert poll["figure"] == "1 IMAP command(s) after login, 13.7 ms"

    webhooks = _bench("webhooks")
    rows = webhooks.summary_rows(events=10_000, floor=5.2, product=28.7, failures=[])
    rows += webhooks.outage_summary_rows(seconds=600, events=11_047, after_return=28.7, failures=[])
    delivered, outage = _written(tmp_path, rows)
    assert (delivered["floor"], delivered["met"], outage["floor"], outage["met"]) == (
        "5.2 s (bare signed POSTs)",
        True,
        None,
        True,
    )
    assert not webhooks.summary_rows(events=10, floor=1, product=60, failures=[])[0]["met"]
