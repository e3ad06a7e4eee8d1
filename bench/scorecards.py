"""Scorecards for all teams, timed (PostgreSQL; SPEC §10: a month and a quarter under 2 s).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/selaras_sc python bench/scorecards.py
    # on a database someone else is using: no sweep, nothing stored
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/selaras_bench python bench/scorecards.py --read-only

On a database filled by `bench/generate.py`. The generator records no breach, so unless
`--read-only` is given the full sweep runs once first (`sla_sweep(full=True)`) when there
is none, so that compliance and breach counts have something to count.

Then, for each period kind of `--periods` (default: month and quarter), the metrics of
every team's card for the last complete period (`--current`: the one in progress) are
computed, best of `--runs` (3), and the SQL statements of one run counted: the metrics
only, nothing is stored. Last, `scorecards_compute` as the nightly job runs it (the
current and previous month and quarter of every team): its metrics the same way, and,
unless `--read-only`, the whole job with the cards stored.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesmarketing.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from summary import append, row  # noqa: E402

from kpis.grouped import Card  # noqa: E402
from kpis.metrics import Scope  # noqa: E402
from kpis.scorecards import cards_metrics, scorecard_periods, scorecards_compute  # noqa: E402
from leads.models import Lead  # noqa: E402
from slas.models import Breach  # noqa: E402
from teams.calendar import period_bounds  # noqa: E402
from teams.models import Team  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description="Time the scorecards of all teams.")
    parser.add_argument("--periods", default="month,quarter", help="period kinds, comma-separated")
    parser.add_argument("--current", action="store_true", help="the periods in progress, not the last complete ones")
    parser.add_argument("--runs", type=int, default=3, help="runs per case; the best is reported")
    parser.add_argument("--as-of", help="the time of the run (ISO 8601; default: now)")
    parser.add_argument("--read-only", action="store_true", help="write nothing: no sweep, no stored cards")
    parser.add_argument("--summary", metavar="PATH", help="append the SPEC §10 lines to PATH (bench/summary.py)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("Note: not PostgreSQL; SPEC §10 is measured on PostgreSQL.", file=sys.stderr)
    now = datetime.fromisoformat(args.as_of) if args.as_of else timezone.now()
    teams = list(Team.objects.order_by("name"))
    leads = Lead.objects.count()
    if not args.read_only and not Breach.objects.exists():
        started = time.perf_counter()
        from slas.services import sla_sweep

        result = sla_sweep(now=now, full=True)
        print(f"Swept first: {result.total:,} breaches in {time.perf_counter() - started:.1f} s.")
    breaches = Breach.objects.count()
    print(f"{leads:,} leads, {len(teams)} teams, {breaches:,} breaches; as of {now.isoformat(timespec='seconds')}.")

    rows = []
    kinds = [kind.strip() for kind in args.periods.split(",") if kind.strip()]
    for kind in kinds:
        cards = [_card(team, kind, now, current=args.current) for team in teams]
        label = f"{kind} {cards[0].first:%Y-%m-%d}…{cards[0].last:%Y-%m-%d}"
        rows.append((label, len(cards), *_timed(lambda cards=cards: cards_metrics(cards=cards), args.runs)))
    cards = [card for _, _, card in scorecard_periods(teams=teams, now=now)]
    rows.append(("nightly job, metrics", len(cards), *_timed(lambda: cards_metrics(cards=cards), args.runs)))
    if not args.read_only:
        rows.append(("nightly job, stored", len(cards), *_timed(lambda: scorecards_compute(now=now), args.runs)))
    _print(rows, args.runs)
    append(args.summary, summary_rows(list(zip(kinds, rows[: len(kinds)], strict=True)), leads=leads, runs=args.runs))


def _card(team: Team, kind: str, now: datetime, *, current: bool) -> Card:
    """The team's last complete period of `kind` (or the one in progress, up to today)."""
    today = now.astimezone(Scope(team=team).zone).date()
    first, _ = period_bounds(today, kind)
    if current:
        return Card(team=team, first=first, last=today)
    previous, _ = period_bounds(first - timedelta(days=1), kind)
    return Card(team=team, first=previous, last=first - timedelta(days=1))


def _timed(run, runs: int) -> tuple[float, int, list[float]]:
    """Best of `runs` wall-clock seconds, and the SQL statements of one more run inside a
    transaction, where they all go through this connection (outside one, on PostgreSQL,
    some run on a second connection at the same time: `kpis.grouped._together`)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        run()
    return min(times), len(queries), times


def _print(rows: list[tuple], runs: int) -> None:
    print()
    print(f"| case | cards | seconds (best of {runs}) | statements | all runs |")
    print("|---|---|---|---|---|")
    for label, cards, best, statements, times in rows:
        print(f"| {label} | {cards} | {best:.3f} | {statements} | {', '.join(f'{t:.2f}' for t in times)} |")


def summary_rows(periods: list[tuple[str, tuple]], *, leads: int, runs: int) -> list[dict]:
    """One line per period kind: its best time against the SPEC's 2 s (no floor measured)."""
    lines = []
    for kind, (label, cards, best, statements, times) in periods:
        lines.append(
            row(
                target=f"scorecards, all teams, a {kind}",
                figure=f"{best:.2f} s",
                limit="< 2 s at 1,000,000 leads",
                met=best < 2,
                notes=(
                    f"{label}, {cards} cards at {leads:,} leads, {statements} statements; "
                    f"best of {runs}: {', '.join(f'{t:.2f}' for t in times)} s"
                ),
            )
        )
    return lines


if __name__ == "__main__":
    main()
