"""The sweep at scale, in one run (PostgreSQL):

  (a) the full sweep through the product's code (`sla_sweep(full=True)`), with the
      longest chunk transaction and the process' peak memory;
  (b) the floor: hand-written `INSERT … SELECT … ON CONFLICT DO NOTHING` statements that
      compute the same response and cadence breaches into a copy of the breach table
      (same indexes, constraints and foreign keys), best of two runs;
      and a check that (a) and (b) found exactly the same breaches; the ratio (a)/(b);
  (c) an incremental sweep over the next ~1,000 clocks to fall due, timed, with its
      statement count;
  (d) that statement count again on a small data set (`--small`), which must be equal;
  (e) a full run in another process killed with SIGKILL halfway, then resumed here: the
      resumed run does only what was left, and the result equals the floor's.

    # 1,000,000 leads (about 5 minutes to generate), then the bench:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/selaras_bench python bench/sweep.py --generate 1000000 --small 10000
    # on data already generated:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/selaras_bench python bench/sweep.py --small 10000

`--generate N` (re)creates and fills the database with `bench/generate.py`; `--small N`
fills `<database>_small` with N leads for (d). Exits 1 if the breaches differ from the
floor's or the statement counts differ; `.ci/run` runs it at 20,000 and 2,000 leads.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

from benchdb import PYTHON, ROOT, fill, migrate
from summary import append, row

KILL_CHUNK = 20_000  # clocks per chunk in the run that is killed: enough chunks to stop halfway


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the SLA sweep against its SQL floor.")
    parser.add_argument("--generate", type=int, metavar="N", help="first fill the database with N leads")
    parser.add_argument("--small", type=int, metavar="N", help="compare the incremental statement count at N leads")
    parser.add_argument("--summary", metavar="PATH", help="append the SPEC §10 lines to PATH (bench/summary.py)")
    parser.add_argument("--incremental-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (the floor is PostgreSQL SQL).")
    if args.generate:
        fill(url, args.generate)
    else:
        migrate(url)
    if args.small and not args.incremental_only:
        small = small_url(url)
        fill(small, args.small)
    setup_django()
    if args.incremental_only:
        reset_sweep_state()
        sweep_full()
        _execute("VACUUM ANALYZE slas_clock")
        _execute("VACUUM ANALYZE slas_breach")
        print(json.dumps(incremental()))
        return
    report = run_all()
    if args.small:
        out = subprocess.run(
            [PYTHON, __file__, "--incremental-only"],
            env={**os.environ, "DATABASE_URL": small_url(url)},
            capture_output=True,
            text=True,
            check=True,
        )
        report["small"] = json.loads(out.stdout.strip().splitlines()[-1])
    print_report(report)
    append(args.summary, summary_rows(report, small_leads=args.small))
    failures = []
    if not report["same_breaches"] or not report["resumed_same"]:
        failures.append("the sweep's breaches differ from the floor's")
    if args.small and report["small"]["statements"] != report["incremental"]["statements"]:
        failures.append("the incremental sweep's statement count grows with the data")
    if failures:
        sys.exit("FAILED: " + "; ".join(failures))


# -- databases ----------------------------------------------------------------------------------
def small_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path + "_small"))


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesmarketing.settings")
    import django

    django.setup()


# -- the runs ---------------------------------------------------------------------------------------
def run_all() -> dict:
    from django.db import connection

    from slas.models import Clock

    report: dict = {
        "clocks": Clock.objects.count(),
        "leads": _scalar("SELECT count(*) FROM leads_lead"),
        "touches": _scalar("SELECT count(*) FROM leads_touch"),
    }
    reset_sweep_state()
    now = _now()
    floors = [floor(now) for _ in range(2)]
    report["floor_seconds"] = min(floors)
    report["floor_runs"] = floors
    report.update(sweep_full(now=now))
    report["same_breaches"] = breaches("slas_breach") == breaches("bench_floor_breach")
    report["breaches"] = _scalar("SELECT count(*) FROM slas_breach WHERE clock_id IS NOT NULL")
    report["clocks_seconds"] = report.pop("chunk_seconds")
    report["ratio"] = report["clocks_seconds"] / report["floor_seconds"]
    report["ratio_with_volume"] = report["full_seconds"] / report["floor_seconds"]
    report.update(killed_and_resumed(now))
    report["resumed_same"] = breaches("slas_breach") == breaches("bench_floor_breach")
    # As autovacuum does after a burst of writes: clear the dead index entries the full runs
    # left in the running-clock index, and refresh the statistics the planner relies on.
    _execute("VACUUM ANALYZE slas_clock")
    _execute("VACUUM ANALYZE slas_breach")
    report["incremental"] = incremental()
    report["vendor"] = connection.vendor
    return report


def _now():
    from django.utils import timezone

    return timezone.now()


def _scalar(sql: str, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        row = cursor.fetchone()
        return row[0] if row else None


def _execute(sql: str, params=None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.rowcount


def reset_sweep_state() -> None:
    """As before any sweep: no breach (nor the notifications of one), no volume verdict, no
    breached clock, no resume point."""
    _execute("DELETE FROM notifications_notification WHERE breach_id IS NOT NULL")
    _execute("DELETE FROM slas_breach")
    _execute("DELETE FROM slas_volumeevaluation")
    _execute("UPDATE slas_clock SET state = 'running' WHERE state = 'breached'")
    _execute("UPDATE slas_sweeplease SET full_next = NULL, holder = '', until = NULL")
    _execute("VACUUM ANALYZE slas_breach")
    _execute("VACUUM ANALYZE slas_clock")


FLOOR_COLUMNS = (
    "sla_id, sla_version, kind, clock_id, lead_id, team_id, responsible_user_id, responsible_team_id, "
    "period_start, period_end, due_at, detected_at, expected, actual, resolved_at, acknowledged_by_id, "
    "acknowledged_at, note, waived, waived_by_id, waived_at, waived_reason"
)
FLOOR_RESPONSE = f"""
INSERT INTO bench_floor_breach ({FLOOR_COLUMNS})
SELECT c.sla_id, c.sla_version, c.kind, c.id, c.lead_id, c.team_id, c.owner_id, NULL, NULL, NULL, c.due_at, %(now)s,
       c.required, 0,
       LEAST((SELECT min(t.occurred_at) FROM leads_touch t WHERE t.lead_id = c.lead_id AND t.occurred_at > c.due_at),
             (SELECT min(r.at) FROM leads_rejection r WHERE r.lead_id = c.lead_id AND r.at > c.due_at)),
       NULL, NULL, '', false, NULL, NULL, ''
  FROM slas_clock c
 WHERE c.kind = 'response' AND c.state IN ('running', 'met') AND c.due_at <= %(now)s
   AND NOT EXISTS (SELECT 1 FROM leads_touch t
                    WHERE t.lead_id = c.lead_id AND t.occurred_at BETWEEN c.started_at AND c.due_at)
   AND NOT EXISTS (SELECT 1 FROM leads_rejection r
                    WHERE r.lead_id = c.lead_id AND r.at BETWEEN c.started_at AND c.due_at)
ON CONFLICT DO NOTHING
"""
FLOOR_CADENCE = f"""
INSERT INTO bench_floor_breach ({FLOOR_COLUMNS})
SELECT c.sla_id, c.sla_version, c.kind, c.id, c.lead_id, c.team_id, c.owner_id, NULL, NULL, NULL, c.due_at, %(now)s,
       c.required, n.counted, NULL, NULL, NULL, '', false, NULL, NULL, ''
  FROM slas_clock c
  JOIN leads_lead l ON l.id = c.lead_id
 CROSS JOIN LATERAL (SELECT count(*) AS counted FROM leads_touch t
                      WHERE t.lead_id = c.lead_id AND t.occurred_at >= c.started_at AND t.occurred_at < c.due_at) n
 WHERE c.kind = 'cadence' AND c.state IN ('running', 'met') AND c.due_at <= %(now)s AND n.counted < c.required
   AND NOT (l.status IN ('won', 'lost', 'rejected') AND l.closed_at IS NOT NULL AND l.closed_at < c.due_at)
ON CONFLICT DO NOTHING
"""


def floor(now) -> float:
    """The two hand-written statements into an empty copy of the breach table, with its
    indexes, constraints and foreign keys (checked when each statement commits, as the
    product's are when each chunk commits); seconds."""
    _execute("DROP TABLE IF EXISTS bench_floor_breach")
    _execute("CREATE TABLE bench_floor_breach (LIKE slas_breach INCLUDING ALL)")
    # LIKE copies no foreign key: add the breach table's, as they are (deferred to the commit).
    keys = _rows(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'slas_breach'::regclass AND contype = 'f'"
    )
    for index, (definition,) in enumerate(keys):
        _execute(f"ALTER TABLE bench_floor_breach ADD CONSTRAINT bench_floor_breach_fk_{index} {definition}")
    started = time.perf_counter()
    _execute(FLOOR_RESPONSE, {"now": now})
    _execute(FLOOR_CADENCE, {"now": now})
    return time.perf_counter() - started


def sweep_full(now=None) -> dict:
    """The product's full sweep, with each chunk's transaction timed."""
    from unittest import mock

    from slas.services import sweep

    now = now or _now()
    chunks: list[float] = []
    real = sweep.clocks_judge

    def timed(*, clocks, now, result):
        started = time.perf_counter()
        real(clocks=clocks, now=now, result=result)
        chunks.append(time.perf_counter() - started)

    started = time.perf_counter()
    with mock.patch.object(sweep, "clocks_judge", timed):
        result = sweep.sla_sweep(now=now, full=True)
    return {
        "full_seconds": time.perf_counter() - started,
        "chunks": result.chunks,
        "longest_chunk_seconds": max(chunks, default=0.0),
        "chunk_seconds": sum(chunks),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def breaches(table: str) -> set[tuple]:
    rows = _rows(
        f"SELECT clock_id, kind, due_at, expected, actual, resolved_at, responsible_user_id FROM {table} "
        "WHERE clock_id IS NOT NULL"
    )
    return set(rows)


def _rows(sql: str) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def incremental(size: int = 1000) -> dict:
    """The sweep as beat runs it, when `size` running clocks fell due in the last 5 minutes:
    the next `size` clocks to fall due are brought forward into that window, swept, then put back."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from slas.services import sla_sweep

    now = _now()
    moved = _rows(
        "SELECT id, due_at FROM slas_clock WHERE state = 'running' AND due_at > now() "
        f"ORDER BY due_at LIMIT {int(size)}"
    )
    ids = [pk for pk, _ in moved]
    _execute("UPDATE slas_clock SET due_at = %s - (id %% 300) * interval '1 second' WHERE id = ANY(%s)", [now, ids])
    try:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = sla_sweep(now=now)
            seconds = time.perf_counter() - started
    finally:
        with connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE slas_clock SET due_at = %s, state = 'running' WHERE id = %s", [(due, pk) for pk, due in moved]
            )
            cursor.execute(
                "DELETE FROM notifications_notification WHERE breach_id IN "
                "(SELECT id FROM slas_breach WHERE clock_id = ANY(%s))",
                [ids],
            )
            cursor.execute("DELETE FROM slas_breach WHERE clock_id = ANY(%s)", [ids])
    return {
        "clocks": len(ids),
        "seconds": seconds,
        "statements": len(queries),
        "breaches": result.response + result.cadence,
        "sql": [query["sql"][:120] for query in queries],
    }


def killed_and_resumed(now) -> dict:
    """A full run in another process, SIGKILLed once half the clocks are done; then resumed."""
    from slas.models import SweepLease
    from slas.services import sla_sweep

    reset_sweep_state()
    low, high = _rows("SELECT min(id), max(id) FROM slas_clock")[0]
    halfway = low + (high - low) // 2
    env = {**os.environ, "SLA_SWEEP_CHUNK": str(KILL_CHUNK)}
    child = subprocess.Popen(
        [PYTHON, "manage.py", "evaluate_slas", "--full", "--as-of", now.isoformat()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    while child.poll() is None:
        done = SweepLease.objects.filter(name="sweep").values_list("full_next", flat=True).first()
        if done and done >= halfway:
            os.killpg(child.pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    child.wait()
    killed = child.returncode == -signal.SIGKILL
    # The server ends the dead client's session (and its advisory lock) once it notices.
    _execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()")
    while _scalar("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"):
        time.sleep(0.05)
    before = _scalar("SELECT count(*) FROM slas_breach")
    resume_from = SweepLease.objects.get(name="sweep").full_next
    started = time.perf_counter()
    result = sla_sweep(now=now, full=True, chunk_size=KILL_CHUNK)
    if result.skipped:
        raise RuntimeError("the resumed sweep found another one running")
    return {
        "killed_halfway": killed,
        "breaches_at_kill": before,
        "resumed_from_clock": resume_from,
        "resumed_chunks": result.chunks,
        "total_chunks": (high - low) // KILL_CHUNK + 1,
        "resumed_seconds": time.perf_counter() - started,
    }


def print_report(r: dict) -> None:
    inc = r["incremental"]
    lines = [
        f"data: {r['leads']:,} leads, {r['touches']:,} touches, {r['clocks']:,} clocks ({r['vendor']})",
        f"(b) floor, 2 statements:           {r['floor_seconds']:8.2f} s  (runs: "
        + ", ".join(f"{s:.2f}" for s in r["floor_runs"])
        + ")",
        f"(a) full sweep, product code:      {r['clocks_seconds']:8.2f} s  in {r['chunks']} chunks, "
        f"longest chunk {r['longest_chunk_seconds']:.2f} s, peak memory {r['peak_rss_mb']:.0f} MB",
        f"    with the volume periods:       {r['full_seconds']:8.2f} s",
        f"    ratio (a)/(b):                 {r['ratio']:8.2f}  (with the volume periods {r['ratio_with_volume']:.2f})",
        f"    same breaches as the floor:    {r['same_breaches']} ({r['breaches']:,} breaches)",
        f"(c) incremental, {inc['clocks']:,} clocks due:  {inc['seconds']:8.3f} s, {inc['statements']} statements",
    ]
    if "small" in r:
        small = r["small"]
        lines.append(
            f"(d) incremental at the small size:  {small['statements']} statements "
            f"({small['clocks']:,} clocks due, {small['seconds']:.3f} s); "
            f"equal: {small['statements'] == inc['statements']}"
        )
    lines.append(
        f"(e) killed halfway: {r['killed_halfway']} with {r['breaches_at_kill']:,} breaches recorded; "
        f"resumed at clock {r['resumed_from_clock']} and did {r['resumed_chunks']} of {r['total_chunks']} chunks "
        f"in {r['resumed_seconds']:.2f} s; same breaches as the floor: {r['resumed_same']}"
    )
    print("\n".join(lines))


def summary_rows(r: dict, *, small_leads: int | None) -> list[dict]:
    """The full sweep against its floor, and the incremental sweep (no floor: its rule is
    absolute, and its statements are set against the small data set's)."""
    inc, small = r["incremental"], r.get("small")
    full_met = (
        r["ratio_with_volume"] <= 2
        and r["same_breaches"]
        and r["longest_chunk_seconds"] <= 10
        and r["peak_rss_mb"] < 512
        and r["killed_halfway"]
        and r["resumed_same"]
    )
    full = row(
        target="full sweep, volume periods included",
        figure=f"{r['full_seconds']:.2f} s",
        floor=f"{r['floor_seconds']:.2f} s",
        ratio=r["ratio_with_volume"],
        limit="≤ 2× the floor, same breaches, chunks ≤ 10 s, resumable, < 512 MB",
        met=full_met,
        notes=(
            f"{r['leads']:,} leads, {r['touches']:,} touches, {r['clocks']:,} clocks; the whole run: chunks, "
            f"their commits, volume periods and notifications; the chunks' statements alone "
            f"{r['clocks_seconds']:.2f} s ({r['ratio']:.2f}×); "
            f"{r['chunks']} chunks, longest {r['longest_chunk_seconds']:.2f} s; peak {r['peak_rss_mb']:.0f} MB; "
            f"same breaches: {_yes(r['same_breaches'])} ({r['breaches']:,}); "
            f"killed halfway: {_yes(r['killed_halfway'])}, resumed with the same breaches: {_yes(r['resumed_same'])}"
        ),
    )
    equal = small is not None and small["statements"] == inc["statements"]
    compared = (
        f"{small['statements']} at {small_leads:,} leads ({small['seconds']:.3f} s)"
        if small is not None
        else "not compared (no --small)"
    )
    incremental = row(
        target="incremental sweep",
        figure=f"{inc['seconds']:.3f} s",
        limit="< 0.5 s, the same statements at 10,000 and 1,000,000 leads",
        met=inc["seconds"] < 0.5 and equal,
        notes=f"{inc['clocks']:,} clocks due at {r['leads']:,} leads; {inc['statements']} statements, {compared}",
    )
    return [full, incremental]


def _yes(value: bool) -> str:
    return "yes" if value else "no"


if __name__ == "__main__":
    main()
