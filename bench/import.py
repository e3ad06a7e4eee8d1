"""CSV import of 100,000 valid rows (SPEC §10: under 60 s, in bounded memory).

    .venv/bin/python bench/import.py [--rows 100000] [--backends postgresql,sqlite]

For each backend (PostgreSQL: the database `selaras_import`, created if needed, or
`--database-url`; SQLite: a file in a temporary directory) it migrates, loads the teams,
people, campaigns and SLAs of bench/generate.py (no leads), then, in a subprocess of its
own so that its peak resident memory is the import's:

- writes a CSV of `--rows` valid rows with every column the importer reads (name,
  e-mail, phone, company, source, campaign on 60 % of rows, value on 30 %, owner on
  half of them, which starts their SLA clocks, notes on 20 %), about 11 MB for 100,000;
- runs the import page's path: `import_preview` (validates the whole file, keeps it)
  then `import_commit` (validates again and writes, one transaction), as the sales
  manager of the team, and checks that every row was created.

The import runs twice per backend, into two teams: once plain, for the wall time and
the process' peak RSS (`ru_maxrss`, with the RSS before the import for comparison), once
under `tracemalloc` for the peak of Python allocations (several times slower: its time
is not the figure; `--no-trace` skips it). Both run with DEBUG off, as in production.
With `--auto-route` the team routes new leads (SPEC §11): the half of the rows without an
owner go through routing in the import's transaction, and every row must end with an owner.
Prints a table; exits 1 when an import takes 60 s or more.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchdb import PYTHON, ROOT, fill
from summary import append, row

SOURCES = ["web", "Website", "event", "acara", "referral", "rujukan", "ads", "content", "outbound", "other", ""]
FIRST = ["Budi", "Siti", "Agus", "Dewi", "Rina", "Joko", "Putri", "Andi", "Wahyu", "Ayu", "Hendra", "Lestari"]
LAST = ["Santoso", "Wijaya", "Hartono", "Kusuma", "Saputra", "Halim", "Nugroho", "Pratama", "Sari", "Gunawan"]


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the CSV import of leads.")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/selaras_import")
    parser.add_argument("--no-trace", action="store_true", help="skip the (slow) tracemalloc run")
    parser.add_argument(
        "--auto-route", action="store_true", help="the team routes new leads: the rows without an owner are routed"
    )
    parser.add_argument("--summary", metavar="PATH", help="append the SPEC §10 lines to PATH (bench/summary.py)")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # JSON: one measured import, in this process
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(**json.loads(args.child))))
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="selaras-import-") as tmp:
        for backend in args.backends.split(","):
            url = args.database_url if backend == "postgresql" else f"sqlite:///{tmp}/import.sqlite3"
            fill(url, 0, quiet=True)
            plain = measure(
                url, team="Sales 1", rows=args.rows, csv_path=f"{tmp}/sales1.csv", trace=False, route=args.auto_route
            )
            results.append({"backend": backend, **plain, "traced_seconds": None})
            if not args.no_trace:
                traced = measure(
                    url, team="Sales 2", rows=args.rows, csv_path=f"{tmp}/sales2.csv", trace=True, route=args.auto_route
                )
                results[-1].update(traced_peak_mb=traced["traced_peak_mb"], traced_seconds=traced["total_seconds"])
    print_table(results)
    append(args.summary, summary_rows(results, route=args.auto_route))
    slow = [r["backend"] for r in results if r["total_seconds"] >= 60]
    if slow:
        sys.exit(f"Over 60 s on {', '.join(slow)}.")


# The production settings that matter here: with DEBUG on, Django would keep the text of
# every statement (each bulk INSERT is about a megabyte) and the memory figure would be its.
PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "bench-import-only-key-0123456789abcdefghijklmnopqrstuvwxyz"}


def measure(url: str, **spec) -> dict:
    out = subprocess.run(
        [PYTHON, __file__, "--child", json.dumps(spec)],
        cwd=ROOT,
        env={**os.environ, **PRODUCTION, "DATABASE_URL": url},
        capture_output=True,
        text=True,
    )
    if out.returncode:
        sys.exit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- the measured process ---------------------------------------------------------------------------
def child(*, team: str, rows: int, csv_path: str, trace: bool, route: bool = False) -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesmarketing.settings")
    import django

    django.setup()
    from django.core.files.uploadedfile import UploadedFile
    from django.db import connection

    from leads.models import Campaign, ImportBatch, Lead
    from leads.services import import_commit, import_preview
    from teams.models import Role, Team, User
    from teams.selectors import team_reps

    sales = Team.objects.get(name=team)
    manager = User.objects.get(team=sales, role=Role.SALES_MANAGER)
    if route:
        Team.objects.filter(pk=sales.pk).update(auto_route=True)
        sales.refresh_from_db()
    reps = [rep.username for rep in team_reps(team=sales)]
    campaigns = list(Campaign.objects.values_list("name", flat=True))
    write_csv(Path(csv_path), rows, reps=reps, campaigns=campaigns)
    size = Path(csv_path).stat().st_size

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        import tracemalloc

        tracemalloc.start()
    started = time.perf_counter()
    with Path(csv_path).open("rb") as handle:  # what the upload handler gives the view
        upload = UploadedFile(file=handle, name="leads.csv", content_type="text/csv", size=size)
        batch, preview = import_preview(upload=upload, filename=upload.name, team=sales, by=manager)
    previewed = time.perf_counter()
    if batch is None:
        raise SystemExit(f"preview refused the file: {preview.errors[:5]}")
    # The confirmation is another request: the view loads the kept upload by its id.
    batch_id, batch, upload = batch.pk, None, None
    batch = ImportBatch.objects.get(pk=batch_id, created_by=manager)
    report = import_commit(batch=batch, by=manager)
    finished = time.perf_counter()
    traced_peak = None
    if trace:
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    created = Lead.objects.filter(team=sales).count()
    if not report.ok or report.created != rows or created != rows:
        raise SystemExit(f"imported {report.created} of {rows} rows ({created} in the team): {report.errors[:5]}")
    unrouted = Lead.objects.filter(team=sales, owner__isnull=True).count()
    if route and unrouted:
        raise SystemExit(f"{unrouted} rows of an auto-routed team were left without an owner")
    return {
        "vendor": connection.vendor,
        "rows": rows,
        "file_mb": size / 2**20,
        "preview_seconds": previewed - started,
        "commit_seconds": finished - previewed,
        "total_seconds": finished - started,
        "rss_before_mb": rss_before / 1024,
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "traced_peak_mb": traced_peak / 2**20 if traced_peak is not None else None,
    }


def write_csv(path: Path, rows: int, *, reps: list[str], campaigns: list[str]) -> None:
    """Valid rows as a marketing team would export them: every column, some cells empty."""
    rng = random.Random(rows)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "email", "phone", "company", "source", "campaign", "value", "owner", "notes"])
        for n in range(1, rows + 1):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            writer.writerow(
                [
                    f"{first} {last} {n}",
                    f"{first.lower()}.{last.lower()}.{n}@contoh.co.id",
                    f"+62 812 {n:07d}",
                    f"PT {last} {rng.choice(['Abadi', 'Jaya', 'Makmur', 'Sejahtera'])} {n % 3000}",
                    rng.choice(SOURCES),
                    rng.choice(campaigns) if rng.random() < 0.6 else "",
                    rng.randrange(5_000_000, 500_000_000, 500_000) if rng.random() < 0.3 else "",
                    rng.choice(reps) if n % 2 else "",
                    "Minta penawaran harga, hubungi setelah jam 10" if rng.random() < 0.2 else "",
                ]
            )


def print_table(results: list[dict]) -> None:
    print()
    print(
        f"{'backend':<11} {'rows':>8} {'file':>7} {'preview':>8} {'confirm':>8} {'total':>8} "
        f"{'RSS before':>10} {'RSS peak':>9} {'traced peak':>11} {'(traced run)':>12}"
    )
    for r in results:
        traced = (
            f"{r['traced_peak_mb']:>9.1f}MB {r['traced_seconds']:>11.1f}s" if r["traced_seconds"] is not None else ""
        )
        print(
            f"{r['vendor']:<11} {r['rows']:>8,} {r['file_mb']:>5.1f}MB {r['preview_seconds']:>7.1f}s "
            f"{r['commit_seconds']:>7.1f}s {r['total_seconds']:>7.1f}s {r['rss_before_mb']:>8.0f}MB "
            f"{r['rss_peak_mb']:>7.0f}MB {traced}"
        )


def summary_rows(results: list[dict], *, route: bool) -> list[dict]:
    """One line per backend: the import's time against the SPEC's 60 s (no floor measured);
    memory is reported, not judged: one size cannot tell bounded from growing."""
    lines = []
    for r in results:
        traced = f"; tracemalloc peak {r['traced_peak_mb']:.1f} MB" if r.get("traced_seconds") is not None else ""
        lines.append(
            row(
                target=f"CSV import, {r['vendor']}" + (", auto-routed" if route else ""),
                figure=f"{r['total_seconds']:.1f} s",
                limit="< 60 s for 100,000 rows, bounded memory",
                met=r["total_seconds"] < 60,
                notes=(
                    f"{r['rows']:,} rows ({r['file_mb']:.1f} MB): preview {r['preview_seconds']:.1f} s, "
                    f"confirm {r['commit_seconds']:.1f} s; peak RSS {r['rss_peak_mb']:.0f} MB "
                    f"({r['rss_before_mb']:.0f} MB before){traced}; memory not judged"
                ),
            )
        )
    return lines


if __name__ == "__main__":
    main()
