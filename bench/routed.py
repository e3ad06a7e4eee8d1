"""Routing under concurrent API clients (SPEC §10, §11), on PostgreSQL.

    .venv/bin/python bench/routed.py                 # 10,000 leads, 4 clients, 40 reps
    .venv/bin/python bench/routed.py --leads 2000    # a shorter run

1. Creates (or empties) the database `selaras_routing` (BENCH_DATABASE_URL to change it),
   migrates it and makes a sales team of 40 reps and a marketer with an API token. The team
   has two rules: "Events" (source event, in turn, at most 50 new leads a rep a day, for
   the first ten reps) and "Everyone" (weighted 1–4 in turn, at most 1,000 new and 1,000
   open leads a rep, for all forty).
2. Starts gunicorn with the production settings (2 workers × 4 threads) and has 4 client
   threads POST `leads/` as fast as the server answers, each with its own keep-alive
   connection: first with the team's automatic routing off (the floor: a plain create),
   then with it on, the same number of leads each time, a tenth of them from events.
3. Checks what routing did with the routed leads: each assigned exactly once, with one
   decision; no cap exceeded; each rep's share of the weighted rule within ±1 % of its
   weight. Prints both runs' leads/s and time per lead, and routing's as a ratio of the
   floor's. Exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from benchdb import recreate  # noqa: E402
from summary import append, row  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/selaras_routing")
REPS = 40
EVENT_REPS = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--summary", metavar="PATH", help="append the SPEC §10 lines to PATH (bench/summary.py)")
    args = parser.parse_args()
    recreate(DATABASE_URL)
    os.environ.update(DATABASE_URL=DATABASE_URL, DJANGO_SETTINGS_MODULE="salesmarketing.settings")
    import django

    django.setup()
    team, token, weights = _world()
    with _server() as port:
        floor = _run(port, token, team, args.leads, args.clients, routed=False)
        routed = _run(port, token, team, args.leads, args.clients, routed=True)
    failures = _check(team, weights, routed["ids"])
    per_lead = {name: run["seconds"] / args.leads * 1000 for name, run in (("floor", floor), ("routed", routed))}
    print(f"\n{args.leads} leads each run, {args.clients} clients, gunicorn 2×4, {os.cpu_count()} cores, {REPS} reps")
    print(f"{'run':<28}{'leads/s':>10}{'ms a lead':>12}")
    print(f"{'plain POST, routing off':<28}{args.leads / floor['seconds']:>10.1f}{per_lead['floor']:>12.2f}")
    print(f"{'POST, routed as created':<28}{args.leads / routed['seconds']:>10.1f}{per_lead['routed']:>12.2f}")
    print(f"routing costs {per_lead['routed'] / per_lead['floor']:.2f}× the plain create's time per lead")
    for line in failures:
        print(f"FAILED: {line}")
    print(
        "checks: every lead assigned once, no cap exceeded, shares within ±1 % of weight:", "no" if failures else "yes"
    )
    append(args.summary, summary_rows(per_lead, leads=args.leads, clients=args.clients, failures=failures))
    sys.exit(1 if failures else 0)


def summary_rows(per_lead: dict[str, float], *, leads: int, clients: int, failures: list[str]) -> list[dict]:
    """Routing's time per lead against the plain create's; met: the SPEC's checks (it sets no ratio)."""
    return [
        row(
            target=f"routing: {clients} concurrent API clients",
            figure=f"{per_lead['routed']:.2f} ms a lead",
            floor=f"{per_lead['floor']:.2f} ms a lead (plain `POST leads/`)",
            ratio=per_lead["routed"] / per_lead["floor"],
            limit="each lead assigned once, no cap exceeded, shares within ±1 % of weight (no ratio set)",
            met=not failures,
            notes=(
                f"{leads:,} leads a run, {REPS} reps, two rules with caps; "
                + ("; ".join(failures) if failures else "every check held")
                + "; the constant statements per lead are tests/routing/test_engine.py's"
            ),
        )
    ]


def _world():
    from rest_framework.authtoken.models import Token

    from routing import services as routing_services
    from teams import services
    from teams.models import Role, Team

    sales = services.team_create(name="Sales Bench", kind=Team.Kind.SALES)
    marketing = services.team_create(name="Marketing Bench", kind=Team.Kind.MARKETING)
    manager = services.user_create(
        username="bench.manager", password=secrets.token_urlsafe(), role=Role.SALES_MANAGER, team=sales
    )
    reps = [
        services.user_create(username=f"bench.rep{n}", password=secrets.token_urlsafe(), team=sales)
        for n in range(REPS)
    ]
    marketer = services.user_create(
        username="bench.marketer", password=secrets.token_urlsafe(), role=Role.MARKETER, team=marketing
    )
    weights = {rep.pk: 1 + n % 4 for n, rep in enumerate(reps)}
    routing_services.rule_create(
        by=manager,
        team=sales,
        name="Events",
        sources=["event"],
        members=[{"user": rep, "weight": 1} for rep in reps[:EVENT_REPS]],
        cap_per_day=50,
    )
    routing_services.rule_create(
        by=manager,
        team=sales,
        name="Everyone",
        method="weighted",
        members=[{"user": rep, "weight": weights[rep.pk]} for rep in reps],
        cap_per_day=1000,
        cap_open=1000,
    )
    return sales, Token.objects.create(user=marketer).key, weights


class _server:
    """gunicorn with the production settings on a free port of 127.0.0.1, for a `with`."""

    def __enter__(self) -> int:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.work = tempfile.TemporaryDirectory()
        env = {
            **os.environ,
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "AXES_ENABLED": "false",
            "STATIC_ROOT": self.work.name,
            "LOG_LEVEL": "WARNING",
        }
        gunicorn = [str(ROOT / ".venv/bin/gunicorn"), "salesmarketing.wsgi", "--bind", f"127.0.0.1:{self.port}"]
        self.process = subprocess.Popen(
            [*gunicorn, "--workers", "2", "--threads", "4", "--log-level", "warning"],
            env=env,
            cwd=ROOT,
        )
        for _ in range(100):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/health/")
                if connection.getresponse().status == 200:
                    return self.port
            except OSError:
                time.sleep(0.2)
        raise SystemExit("gunicorn did not start")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait()
        self.work.cleanup()


def _run(port: int, token: str, team, leads: int, clients: int, *, routed: bool) -> dict:
    from teams.models import Team

    Team.objects.filter(pk=team.pk).update(auto_route=routed)
    label = "routed" if routed else "plain"
    ids: list[int] = []
    errors: list[str] = []
    start = threading.Barrier(clients + 1)

    def client(numbers: range) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        start.wait()
        for n in numbers:
            body = {"name": f"{label} {n}", "team": team.pk, "source": "event" if n % 10 == 0 else "web"}
            connection.request("POST", "/api/v1/leads/", json.dumps(body), headers)
            answer = connection.getresponse()
            data = answer.read()
            if answer.status != 201:
                errors.append(f"{answer.status} {data[:200]!r}")
            else:
                ids.append(json.loads(data)["id"])

    threads = [threading.Thread(target=client, args=(range(n, leads, clients),)) for n in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if errors:
        raise SystemExit(f"{len(errors)} requests failed, e.g. {errors[0]}")
    print(f"{label}: {leads} leads in {seconds:.1f} s", file=sys.stderr)
    return {"seconds": seconds, "ids": ids}


def _check(team, weights: dict[int, int], ids: list[int]) -> list[str]:
    from django.db.models import Count

    from leads.models import Assignment, Lead
    from routing.models import Decision, Rule

    failures = []
    assignments = Counter(
        dict(Assignment.objects.filter(lead_id__in=ids).values_list("lead_id").annotate(n=Count("pk")))
    )
    decisions = Counter(dict(Decision.objects.filter(lead_id__in=ids).values_list("lead_id").annotate(n=Count("pk"))))
    if set(assignments.values()) != {1} or len(assignments) != len(ids):
        failures.append(f"assignments per lead: {Counter(assignments.values())}, {len(ids) - len(assignments)} without")
    if set(decisions.values()) != {1} or len(decisions) != len(ids):
        failures.append(f"decisions per lead: {Counter(decisions.values())}")
    routed = Lead.objects.filter(pk__in=ids)
    for rule in Rule.objects.filter(team=team):
        given = Counter(Decision.objects.filter(rule=rule).values_list("owner_id", flat=True))
        over = {rep: n for rep, n in given.items() if rule.cap_per_day and n > rule.cap_per_day}
        if over:
            failures.append(f"{rule.name}: over the daily cap of {rule.cap_per_day}: {over}")
        if rule.method == "weighted":
            total, weight_sum = sum(given.values()), sum(weights.values())
            for rep, weight in weights.items():
                expected = total * weight / weight_sum
                if abs(given.get(rep, 0) - expected) > 0.01 * expected:
                    failures.append(f"{rule.name}: rep {rep} got {given.get(rep, 0)}, {expected:.1f} expected")
    open_counts = Counter(routed.filter(status__in=["new", "working", "qualified"]).values_list("owner_id", flat=True))
    if any(n > 1000 for n in open_counts.values()):
        failures.append("a rep holds more open leads than the cap of 1,000")
    return failures


if __name__ == "__main__":
    main()
