"""Leads that arrive on their own, under load (SPEC §10, §13), on PostgreSQL.

    .venv/bin/python bench/intake.py                  # rates, then a burst of 10,000 posts
    .venv/bin/python bench/intake.py --seconds 5 --burst 1000   # a smoke run

1. Creates (or empties) the database `selaras_intake` (BENCH_DATABASE_URL to change it) and
   makes a sales team that routes new leads at once to 10 reps, with a lead form, a signed
   JSON hook, a Google Ads hook and a WhatsApp number.
2. Starts gunicorn with the production settings (2 workers × 4 threads, as bench/http.sh),
   through bench/settings.py, which adds the floor `/bench/post/`: a bare answer to a POST.
3. Rates: for `--seconds` each, 8 client threads (keep-alive connections) POST as fast as
   they are answered: the floor, `POST /api/v1/leads/` (a lead made through the token API,
   routed the same way: the second floor), a lead form (JSON), a signed JSON hook, a
   WhatsApp message. Every post but the floor's is a new person: it is stored, then made a
   lead, routed to a rep and put on its SLA clocks before the answer, as SPEC §13 asks.
4. The burst: `--burst` posts (forms, JSON hooks, Google Ads hooks, WhatsApp messages, mixed),
   one in 20 a repeat of an earlier hook's or message's id, from 8 threads.

Checks, after the burst: every post answered 2xx; one inbound event per distinct sender's id,
none left waiting or failed; one lead per distinct person and none twice. Exits 1 if one fails.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from benchdb import recreate  # noqa: E402
from summary import append, row  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/selaras_intake")
APP_SECRET = "wa-" + secrets.token_hex(16)
CLIENTS = 8


def setup() -> dict:
    """The team, its reps and the four endpoints; their keys and secrets."""
    recreate(DATABASE_URL)
    os.environ.update(DATABASE_URL=DATABASE_URL, DJANGO_SETTINGS_MODULE="salesmarketing.settings")
    import django

    django.setup()
    from intake import services
    from teams import services as teams
    from teams.models import Role, Team

    team = teams.team_create(name="Sales Jakarta", kind=Team.Kind.SALES)
    teams.team_update(team=team, auto_route=True)
    admin = teams.user_create(username="admin", password=secrets.token_hex(12), role=Role.ADMIN)
    for n in range(10):
        teams.user_create(username=f"rep{n}", password=secrets.token_hex(12), role=Role.SALES_REP, team=team)
    form = services.lead_form_create(by=admin, name="Demo", team=team, language="en", fields=["email", "phone"])
    hook, secret = services.inbound_hook_create(by=admin, name="Zapier", team=team)
    google, google_key = services.inbound_hook_create(by=admin, name="Google Ads", team=team, kind="google_ads")
    number = services.whatsapp_number_create(by=admin, phone_number_id="1055500001", team=team)
    from rest_framework.authtoken.models import Token

    return {
        "team": team.pk,
        "token": Token.objects.create(user=admin).key,
        "form": form.key,
        "hook": hook.key,
        "secret": secret,
        "google": google.key,
        "google_key": google_key,
        "number": number.phone_number_id,
    }


class Posts:
    """Bodies of each kind: a new person each time (`n` numbers them), or a repeat."""

    def __init__(self, keys: dict) -> None:
        self.keys = keys

    def floor(self, n: int) -> tuple[str, bytes, dict]:
        return "/bench/post/", json.dumps({"name": f"Person {n}", "email": f"p{n}@example.com"}).encode(), {}

    def api(self, n: int) -> tuple[str, bytes, dict]:
        body = {"name": f"Person {n}", "email": f"p{n}@example.com", "team": self.keys["team"]}
        return "/api/v1/leads/", json.dumps(body).encode(), {"Authorization": f"Token {self.keys['token']}"}

    def form(self, n: int) -> tuple[str, bytes, dict]:
        body = {"name": f"Person {n}", "email": f"p{n}@example.com", "utm_source": "bench", "utm_campaign": "q4"}
        return f"/f/{self.keys['form']}/", json.dumps(body).encode(), {}

    def hook(self, n: int) -> tuple[str, bytes, dict]:
        body = json.dumps({"external_id": f"h{n}", "name": f"Person {n}", "email": f"p{n}@example.com"}).encode()
        signature = "sha256=" + hmac.new(self.keys["secret"].encode(), body, hashlib.sha256).hexdigest()
        return f"/hooks/{self.keys['hook']}/", body, {"X-Selaras-Signature": signature}

    def google(self, n: int) -> tuple[str, bytes, dict]:
        columns = [
            {"column_id": "FULL_NAME", "string_value": f"Person {n}"},
            {"column_id": "EMAIL", "string_value": f"p{n}@example.com"},
        ]
        body = {"lead_id": f"g{n}", "google_key": self.keys["google_key"], "user_column_data": columns, "gcl_id": "x"}
        return f"/hooks/{self.keys['google']}/", json.dumps(body).encode(), {}

    def whatsapp(self, n: int) -> tuple[str, bytes, dict]:
        wa_id = f"62811{n:08d}"
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "62215000123", "phone_number_id": self.keys["number"]},
            "contacts": [{"profile": {"name": f"Person {n}"}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": f"wamid.{n}", "type": "text", "text": {"body": "Halo"}}],
        }
        body = json.dumps({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": value}]}]}).encode()
        signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        return "/hooks/whatsapp/", body, {"X-Hub-Signature-256": signature}


def post(connection: http.client.HTTPConnection, request: tuple[str, bytes, dict]) -> int:
    path, body, headers = request
    connection.request("POST", path, body, {"Content-Type": "application/json", **headers})
    response = connection.getresponse()
    response.read()
    return response.status


def rate(port: int, make, seconds: float, first: int) -> dict:
    """CLIENTS threads posting `make(n)` for `seconds`: requests/s and latency percentiles."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    counter = iter(range(first, first + 10**7))

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, codes = [], {}
        while time.perf_counter() < deadline:
            with lock:
                n = next(counter)
            started = time.perf_counter()
            status = post(connection, make(n))
            mine.append(time.perf_counter() - started)
            codes[status] = codes.get(status, 0) + 1
        with lock:
            latencies.extend(mine)
            for code, count in codes.items():
                statuses[code] = statuses.get(code, 0) + count

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    quantiles = statistics.quantiles(latencies, n=100)
    return {
        "rps": len(latencies) / elapsed,
        "p50": quantiles[49] * 1000,
        "p95": quantiles[94] * 1000,
        "requests": len(latencies),
        "statuses": statuses,
    }


def burst(port: int, posts: Posts, count: int, first: int) -> tuple[dict, set, set]:
    """`count` mixed posts, one in 20 a repeat of an earlier hook's or message's id; returns
    the statuses, the distinct people and the distinct sender's ids posted."""
    rng = random.Random(7)
    kinds = [posts.form] * 4 + [posts.hook] * 3 + [posts.google] * 1 + [posts.whatsapp] * 2
    plan: list[tuple[str, bytes, dict]] = []
    people, ids, sent = set(), set(), []
    for i in range(count):
        if sent and rng.random() < 0.05:
            plan.append(rng.choice(sent))  # the same id again: nothing new may come of it
            continue
        n, make = first + i, rng.choice(kinds)
        request = make(n)
        plan.append(request)
        people.add(n)
        if make.__name__ != "form":  # a form post has no sender's id
            sent.append(request)
            ids.add((make.__name__, n))
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    queue = iter(plan)

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                request = next(queue, None)
            if request is None:
                return
            status = post(connection, request)
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses, people, ids


def check(people: set, ids: set) -> list[str]:
    """What the burst must have left: one event per distinct sender's id, none waiting or
    failed, one lead per person, none twice, every one routed."""
    from django.db.models import Count

    from intake.models import InboundEvent
    from leads.models import Lead

    failures = []
    external = {"hook": "h{}", "google": "g{}", "whatsapp": "wamid.{}"}
    posted = [external[kind].format(n) for kind, n in ids]
    events = InboundEvent.objects.filter(external_id__in=posted)
    if events.count() != len(ids):
        failures.append(f"{events.count()} hook and WhatsApp events for {len(ids)} distinct ids")
    left = InboundEvent.objects.filter(state__in=["pending", "failed"]).count()
    if left:
        failures.append(f"{left} events left waiting or failed")
    twice = Lead.objects.values("email", "phone").annotate(n=Count("pk")).filter(n__gt=1).count()
    if twice:
        failures.append(f"{twice} people made into two leads")
    burst_leads = Lead.objects.filter(name__in=[f"Person {n}" for n in people]).count()
    if burst_leads != len(people):
        failures.append(f"{burst_leads} leads for {len(people)} people")
    if Lead.objects.filter(owner__isnull=True).exists():
        failures.append("a lead was not routed")
    return failures


INTAKE = {"form": "lead form (JSON)", "hook": "JSON hook, signed", "whatsapp": "WhatsApp message, signed"}


def summary_rows(results: dict[str, dict], *, burst: int, elapsed: float, failures: list[str]) -> list[dict]:
    """Each intake endpoint against the bare POST of the same run; the burst (no floor)."""
    floor, api = results["floor"], results["api"]
    lines = []
    for kind, name in INTAKE.items():
        result = results[kind]
        ratio = result["rps"] / floor["rps"]
        answered = set(result["statuses"]) <= {200, 201}
        lines.append(
            row(
                target=f"intake: {name}",
                figure=f"{result['rps']:.1f} posts/s, p95 {result['p95']:.0f} ms",
                floor=f"{floor['rps']:.1f} req/s, p95 {floor['p95']:.0f} ms",
                ratio=ratio,
                limit=f"≥ 0.5× the bare response's req/s, p95 < 50 ms, {CLIENTS} clients",
                met=ratio >= 0.5 and result["p95"] < 50 and answered,
                notes=(
                    f"{result['rps'] / api['rps']:.2f}× `POST leads/`, the same routed lead without intake "
                    f"({api['rps']:.1f} posts/s); {result['requests']:,} posts, answers {result['statuses']}"
                ),
            )
        )
    lines.append(
        row(
            target="intake: burst",
            figure=f"{burst:,} posts in {elapsed:.1f} s",
            limit="none lost, no duplicate",
            met=not failures,
            notes="; ".join(failures) or "every post 2xx, one event per id, one lead per person, all routed",
        )
    )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="each rate's run (default 20)")
    parser.add_argument("--burst", type=int, default=10_000, help="posts in the burst (default 10,000)")
    parser.add_argument("--summary", metavar="PATH", help="append the SPEC §10 lines to PATH (bench/summary.py)")
    args = parser.parse_args()

    keys = setup()
    posts = Posts(keys)
    work = tempfile.mkdtemp()
    port_socket = socket.socket()
    port_socket.bind(("127.0.0.1", 0))
    port = port_socket.getsockname()[1]
    port_socket.close()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": DATABASE_URL,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": work,
        "LOG_LEVEL": "WARNING",
        "WHATSAPP_APP_SECRET": APP_SECRET,
        # Every post comes from 127.0.0.1: the per-address limit would stop the bench, not a person.
        "FORM_RATE_PER_MINUTE": "100000000",
    }
    env.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "salesmarketing.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "4", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/health/")
                break
            except OSError:
                time.sleep(0.2)
        rate(port, posts.floor, 2, 0)  # warm-up: every worker thread connects and imports
        rate(port, posts.form, 2, 9_000_000)
        results = {}
        for n, kind in enumerate(("floor", "api", "form", "hook", "whatsapp")):
            results[kind] = rate(port, getattr(posts, kind), args.seconds, (n + 1) * 1_000_000)
        print(
            f"\n{'endpoint':<10} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'requests':>9}"
            f"  {'vs floor':>8}  {'vs API':>7}  statuses"
        )
        for kind, result in results.items():
            floor, made = result["rps"] / results["floor"]["rps"], result["rps"] / results["api"]["rps"]
            print(
                f"{kind:<10} {result['rps']:>8.1f} {result['p50']:>8.1f} {result['p95']:>8.1f} "
                f"{result['requests']:>9}  {floor:>7.3f}×  {made:>6.2f}×  {result['statuses']}"
            )
        started = time.perf_counter()
        statuses, people, ids = burst(port, posts, args.burst, 20_000_000)
        elapsed = time.perf_counter() - started
        print(f"\nburst: {args.burst} posts in {elapsed:.1f} s ({args.burst / elapsed:.0f}/s): {statuses}")
    finally:
        server.terminate()
        server.wait()
    failures = [f"answers {statuses}"] if set(statuses) - {200, 201} else []
    failures += check(people, ids)
    append(args.summary, summary_rows(results, burst=args.burst, elapsed=elapsed, failures=failures))
    for failure in failures:
        print("FAILED:", failure)
    print("every check held" if not failures else "")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
