"""The SLA preview, timed (PostgreSQL; SPEC §10: 13 weeks at 100,000 leads in under 3 s).

    # 100,000 leads in one sales team (the hardest case: every lead is in the team
    # previewed), then the bench:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/selaras_pv \\
        python bench/preview.py --generate 100000 --sales-teams 1
    # on data already generated:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/selaras_pv python bench/preview.py

For the sales team with the most leads, the preview of its response SLA tightened to 4
business hours and of its cadence SLA loosened to 3 touches in 14 days, over the last 13
complete weeks of the generated data: best of `--runs`, with the SQL statements of one run.
The floor, in the same run: one hand-written statement that reads the same weeks'
assignments and each one's first follow-up after it (what any preview must read at the
least). The preview writes nothing; the script checks that too.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesmarketing.settings")

from benchdb import fill  # noqa: E402
from summary import append, row  # noqa: E402

FLOOR = """
SELECT a.id, MIN(t.occurred_at)
  FROM leads_assignment a
  JOIN leads_lead l ON l.id = a.lead_id
  LEFT JOIN leads_touch t ON t.lead_id = a.lead_id AND t.occurred_at >= a.assigned_at
 WHERE l.team_id = %s AND a.assigned_at >= %s AND a.assigned_at < %s
 GROUP BY a.id
"""


def main() -> None:
    parser = argparse.ArgumentParser(description="Time the SLA preview against its floor.")
    parser.add_argument("--generate", type=int, metavar="N", help="first fill the database with N leads")
    parser.add_argument("--sales-teams", type=int, default=20, help="with --generate: the number of sales teams")
    parser.add_argument("--runs", type=int, default=3, help="runs per case; the best is reported")
    parser.add_argument("--summary", metavar="PATH", help="append the SPEC §10 lines to PATH (bench/summary.py)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if args.generate:
        fill(url, args.generate, options=("--sales-teams", str(args.sales_teams)))
    import django

    django.setup()
    report(runs=args.runs, summary=args.summary)


def report(*, runs: int, summary: str | None = None) -> None:
    from django.db import connection
    from django.db.models import Count, Max

    from leads.models import Assignment, Lead
    from slas.models import Breach, Clock, Sla
    from slas.services.preview import _bounds, _weeks, sla_preview
    from teams.models import Role, User

    if connection.vendor != "postgresql":
        print("Note: not PostgreSQL; SPEC §10 is measured on PostgreSQL.", file=sys.stderr)
    busiest = Lead.objects.values("team").annotate(n=Count("pk")).order_by("-n").first()
    if busiest is None:
        sys.exit("No leads: run with --generate N first.")
    response = Sla.objects.get(team_id=busiest["team"], kind="response")
    cadence = Sla.objects.get(team_id=busiest["team"], kind="cadence")
    # The generated data ends at its own `now`: preview as of the last assignment.
    now = Assignment.objects.aggregate(last=Max("assigned_at"))["last"]
    manager = User.objects.filter(role=Role.ADMIN).first() or User.objects.filter(is_superuser=True).first()
    start, end = _bounds(response.team, _weeks(response.team, now, 13))
    assigned = Assignment.objects.filter(lead__team_id=busiest["team"], assigned_at__gte=start, assigned_at__lt=end)
    stored = (Sla.objects.count(), Clock.objects.count(), Breach.objects.count())
    print(f"{Lead.objects.count():,} leads; team {response.team} has {busiest['n']:,}, {assigned.count():,} of them")
    print(f"assigned in the 13 weeks before {now:%Y-%m-%d %H:%M %Z}\n")

    def floor() -> None:
        with connection.cursor() as cursor:
            cursor.execute(FLOOR, [busiest["team"], start, end])
            cursor.fetchall()

    cases = [
        ("floor: the weeks' assignments and their first follow-ups, one SQL statement", floor),
        (
            "preview: response SLA at 4 business hours",
            lambda: sla_preview(by=manager, now=now, sla=response, target_value=4, target_unit="business_hours"),
        ),
        (
            "preview: cadence SLA at 3 touches in 14 days",
            lambda: sla_preview(by=manager, now=now, sla=cadence, min_touches=3, window_days=14),
        ),
    ]
    rows = [(name, *_best(case, runs)) for name, case in cases]
    base = rows[0][1]
    print(f"| case | best of {runs} | statements | vs the floor |")
    print("|---|---:|---:|---:|")
    for name, seconds, statements in rows:
        print(f"| {name} | {seconds:.3f} s | {statements} | {seconds / base:.1f}× |")
    kept = (Sla.objects.count(), Clock.objects.count(), Breach.objects.count()) != stored
    facts = {
        "leads": Lead.objects.count(),
        "team": str(response.team),
        "team_leads": busiest["n"],
        "assigned": assigned.count(),
        "kept": kept,
    }
    append(summary, summary_rows(rows, **facts))
    if kept:
        sys.exit("FAILED: the preview left rows behind")
    slowest = max(seconds for _name, seconds, _n in rows[1:])
    print(f"\nslowest preview {slowest:.2f} s (target < 3 s); nothing stored")


def summary_rows(rows: list[tuple], *, leads: int, team: str, team_leads: int, assigned: int, kept: bool) -> list[dict]:
    """Each preview against the floor, the first of `rows`; met: under 3 s, nothing stored."""
    _name, base, _statements = rows[0]
    lines = []
    for kind, (_name, seconds, statements) in zip(("response", "cadence"), rows[1:], strict=True):
        lines.append(
            row(
                target=f"SLA preview, {kind} SLA, 13 weeks",
                figure=f"{seconds:.3f} s",
                floor=f"{base:.3f} s",
                ratio=seconds / base,
                limit="< 3 s at 100,000 leads",
                met=seconds < 3 and not kept,
                notes=(
                    f"{leads:,} leads; team {team} has {team_leads:,}, {assigned:,} assigned in the 13 weeks; "
                    f"{statements} statements; " + ("FAILED: rows left behind" if kept else "nothing stored")
                ),
            )
        )
    return lines


def _best(case, runs: int) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        case()
        times.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as queries:
        case()
    return min(times), len(queries)


if __name__ == "__main__":
    main()
