"""Outbound webhooks at scale (SPEC §10, §12), on PostgreSQL.

    .venv/bin/python bench/webhooks.py                    # 10,000 events to a local receiver
    .venv/bin/python bench/webhooks.py --outage 600       # and: the receiver down for 10 minutes

1. Creates (or empties) the database `selaras_webhooks` (BENCH_DATABASE_URL to change it),
   migrates it, and makes a sales team with `--events` leads and a webhook that wants
   `lead.created`, pointing at a receiver on this machine (a process of its own: an HTTP/1.1
   server with keep-alive, which answers 200 at once and counts each X-Selaras-Delivery).
2. The floor: the same number of signed POSTs of a body of the same size, from as many
   threads as the product uses (WEBHOOK_DELIVERY_THREADS), with nothing else: no database.
3. The product: the events written to the outbox (`webhooks.outbox`, as a change writes
   them), then delivered by the product's own worker settings: a Celery worker of 2 processes
   and beat (every WEBHOOK_DELIVER_EVERY_SECONDS), on the broker the settings name (Redis with
   REDIS_URL, else the filesystem). Timed from the first event written to the last delivered.
4. With `--outage S`: events keep coming (20 a second) while the receiver is down for S
   seconds, refusing connections for the first half and hanging past the timeout for the
   second; then it is back. Prints when the last event was delivered after its return.

Checks: every event delivered, each to the receiver exactly once (a repeat is allowed only
for a delivery whose 2xx was lost: none here). Exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import multiprocessing
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from benchdb import recreate  # noqa: E402
from summary import append, row  # noqa: E402

SECRET = "whsec_" + secrets.token_hex(16)
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/selaras_webhooks")


# -- the receiver: a process of its own -------------------------------------------------------
def receive(port: int, counts, mode) -> None:
    """Answer POSTs on `port`: 200 at once (mode 0) or hang past the sender's timeout (mode 1);
    count each delivery id answered 200."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if mode.value == 1:
                time.sleep(8)
                self.close_connection = True
                return
            delivery = self.headers.get("X-Selaras-Delivery", "")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            counts.put(delivery)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.request_queue_size = 128
    server.serve_forever()


class Receiver:
    def __init__(self) -> None:
        self.port = _free_port()
        self.queue = multiprocessing.Queue()
        self.mode = multiprocessing.Value("i", 0)
        self.process: multiprocessing.Process | None = None
        self.seen: dict[str, int] = {}

    def start(self) -> None:
        self.process = multiprocessing.Process(target=receive, args=(self.port, self.queue, self.mode), daemon=True)
        self.process.start()
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.join()
            self.process = None

    def drain(self) -> dict[str, int]:
        while not self.queue.empty():
            delivery = self.queue.get()
            self.seen[delivery] = self.seen.get(delivery, 0) + 1
        return self.seen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the run --------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--outage", type=float, default=0, help="Seconds the receiver is down (0: no outage run).")
    parser.add_argument("--summary", metavar="PATH", help="append the SPEC §10 lines to PATH (bench/summary.py)")
    args = parser.parse_args()
    recreate(DATABASE_URL)
    os.environ.update(DATABASE_URL=DATABASE_URL, DJANGO_SETTINGS_MODULE="salesmarketing.settings")
    os.environ.setdefault("CELERY_FILESYSTEM_DIR", tempfile.mkdtemp(prefix="selaras-bench-broker-"))
    import django

    django.setup()
    from django.conf import settings

    receiver = Receiver()
    receiver.start()
    os.environ["WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1"
    lead_ids, webhook = _world(args.events, receiver.url)
    threads = settings.WEBHOOK_DELIVERY_THREADS
    floor = _floor(receiver, args.events, threads)
    receiver.seen.clear()
    product = _product(receiver, lead_ids, webhook)
    failures = _check(receiver, webhook, expected=args.events)
    print(f"\n{args.events} events, {threads} threads a run, worker 2 processes + beat, {os.cpu_count()} cores")
    print(f"{'run':<44}{'seconds':>9}{'events/s':>10}")
    print(f"{'floor: bare signed POSTs, no database':<44}{floor:>9.1f}{args.events / floor:>10.0f}")
    print(f"{'product: outbox, worker and beat':<44}{product:>9.1f}{args.events / product:>10.0f}")
    print(f"the product takes {product / floor:.2f}× the floor's time; target: under 60 s")
    lines = summary_rows(events=args.events, floor=floor, product=product, failures=list(failures))
    if args.outage:
        outage = _outage(receiver, webhook, args.outage)
        failures += outage["failures"]
        lines += outage_summary_rows(**outage)
    receiver.stop()
    append(args.summary, lines)
    for line in failures:
        print(f"FAILED: {line}")
    print("checks: every event delivered, each exactly once:", "no" if failures else "yes")
    sys.exit(1 if failures else 0)


def _world(events: int, url: str):
    from django.utils import timezone

    from leads.models import Lead
    from teams.models import Role, Team, User
    from webhooks.models import Webhook

    team = Team.objects.create(name="Sales Jakarta", kind=Team.Kind.SALES, timezone="Asia/Jakarta")
    admin = User.objects.create_user("admin", role=Role.ADMIN, is_superuser=True, is_staff=True)
    now = timezone.now()
    leads = Lead.objects.bulk_create(
        [
            Lead(team=team, name=f"Lead {j}", email=f"lead{j}@example.com", created_at=now, created_by=admin)
            for j in range(events)
        ],
        batch_size=5000,
    )
    webhook = Webhook.objects.create(
        name="bench", url=url, events=["lead.created"], active=False, secret=SECRET, created_by=admin
    )
    return [lead.pk for lead in leads], webhook


def _floor(receiver: Receiver, events: int, threads: int) -> float:
    """Signed POSTs of a lead's body, as many threads as the product, keep-alive, no database."""
    import urllib3

    pool = urllib3.HTTPConnectionPool("127.0.0.1", receiver.port, maxsize=threads)
    body = json.dumps({"id": 0, "event": "lead.created", "created_at": "", "data": {"name": "x" * 300}}).encode()

    def post(j: int) -> None:
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers = {"X-Selaras-Delivery": f"floor-{j}", "X-Selaras-Signature": signature}
        pool.urlopen("POST", "/hook", body=body, headers=headers, retries=False, timeout=5).drain_conn()

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as executor:
        list(executor.map(post, range(events)))
    return time.perf_counter() - started


def _product(receiver: Receiver, lead_ids: list[int], webhook) -> float:
    from django.db import transaction
    from django.utils import timezone

    from webhooks.models import WebhookDelivery
    from webhooks.outbox import webhook_events_record

    with _celery():
        time.sleep(3)  # the worker and beat up
        started = time.perf_counter()
        with transaction.atomic():
            webhook.active = True
            webhook.save(update_fields=["active"])
            webhook_events_record(event="lead.created", subjects=[(pk, pk) for pk in lead_ids], now=timezone.now())
        pending = WebhookDelivery.objects.exclude(status="delivered")
        while pending.exists():
            time.sleep(0.2)
            if time.perf_counter() - started > 600:
                break
        return time.perf_counter() - started


class _celery:
    """The Procfile's worker (2 processes) and beat, with the settings of the environment."""

    def __enter__(self):
        env = {**os.environ}
        worker = [sys.executable, "-m", "celery", "-A", "salesmarketing", "worker", "--concurrency=2", "-l", "WARNING"]
        beat = [sys.executable, "-m", "celery", "-A", "salesmarketing", "beat", "-l", "WARNING"]
        self.processes = [
            subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True) for command in (worker, beat)
        ]
        return self

    def __exit__(self, *exc) -> None:
        for process in self.processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _check(receiver: Receiver, webhook, *, expected: int) -> list[str]:
    from webhooks.models import WebhookDelivery

    seen = receiver.drain()
    ids = set(WebhookDelivery.objects.filter(webhook=webhook).values_list("pk", flat=True))
    failures = []
    if WebhookDelivery.objects.filter(webhook=webhook).exclude(status="delivered").exists():
        failures.append("some events were not delivered")
    if {int(d) for d in seen if d.isdigit()} != ids or len(ids) != expected:
        failures.append(f"the receiver saw {len(seen)} deliveries, {len(ids)} were written, {expected} expected")
    repeats = [d for d, n in seen.items() if n > 1]
    if repeats:
        failures.append(f"{len(repeats)} deliveries received more than once")
    return failures


def _outage(receiver: Receiver, webhook, seconds: float) -> list[str]:
    """Events keep coming while the receiver refuses, then hangs, then is back."""
    from django.db import close_old_connections
    from django.utils import timezone

    from leads.models import Lead
    from webhooks.models import WebhookDelivery
    from webhooks.outbox import webhook_events_record

    WebhookDelivery.objects.all().delete()
    receiver.seen.clear()
    team_lead = Lead.objects.first()
    stop, written = threading.Event(), []

    def produce() -> None:
        j = 0
        while not stop.is_set():
            webhook_events_record(event="lead.created", subjects=[(10**9 + j, team_lead.pk)], now=timezone.now())
            written.append(j)
            j += 1
            time.sleep(0.05)
        close_old_connections()

    with _celery():
        receiver.stop()
        producer = threading.Thread(target=produce)
        producer.start()
        started = time.perf_counter()
        time.sleep(seconds / 2)  # refusing: nothing listens
        receiver.start()
        receiver.mode.value = 1  # hanging past the timeout
        time.sleep(seconds / 2)
        receiver.mode.value = 0
        back = time.perf_counter()
        time.sleep(5)
        stop.set()
        producer.join()
        pending = WebhookDelivery.objects.exclude(status="delivered")
        while pending.exists() and time.perf_counter() - back < 900:
            time.sleep(0.5)
        done = time.perf_counter()
    failures = _check(receiver, webhook, expected=len(written))
    print(
        f"\noutage: the receiver down {seconds:.0f} s (refusing {seconds / 2:.0f} s, hanging {seconds / 2:.0f} s) "
        f"while {len(written)} events were written over {back - started + 5:.0f} s; every one delivered "
        f"{done - back:.1f} s after its return (target: within 300 s)"
    )
    if done - back > 300:
        failures.append(f"delivered {done - back:.0f} s after the receiver's return")
    return {"seconds": seconds, "events": len(written), "after_return": done - back, "failures": failures}


def summary_rows(*, events: int, floor: float, product: float, failures: list[str]) -> list[dict]:
    """The outbox's delivery against bare signed POSTs of the same number."""
    return [
        row(
            target="outbound webhooks",
            figure=f"{product:.1f} s for {events:,} events",
            floor=f"{floor:.1f} s (bare signed POSTs)",
            ratio=product / floor,
            limit="< 60 s for 10,000 events",
            met=product < 60 and not failures,
            notes=f"{events / product:.0f} events/s; " + ("; ".join(failures) if failures else "each delivered once"),
        )
    ]


def outage_summary_rows(*, seconds: float, events: int, after_return: float, failures: list[str]) -> list[dict]:
    """The receiver down `seconds` (no floor: the rule is absolute)."""
    return [
        row(
            target=f"outbound webhooks, receiver down {seconds:.0f} s",
            figure=f"all delivered {after_return:.1f} s after its return",
            limit="none lost, all delivered within 300 s of its return",
            met=not failures,
            notes=(
                f"{events:,} events written meanwhile; "
                + ("; ".join(failures) if failures else "each delivered once")
                + "; that no web request waits on it is not measured here"
            ),
        )
    ]


if __name__ == "__main__":
    main()
