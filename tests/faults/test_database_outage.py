"""PostgreSQL stopped:

- for 30 s in the middle of a sweep chunk and under web traffic: pages answer 503 within 2 s,
  the sweep's task retries with backoff and completes once the database is back, and the
  breaches recorded are exactly a clean run's;
- for 15 s under a stream of lead form posts: each post while it is down answers 503 (JSON,
  Retry-After) within 2 s, and nothing is half-stored: every lead a post made has its event,
  owner and assignment, a post caught in the middle is either wholly there or made once
  later from its stored event, and nobody becomes two leads.

This test stops the machine's PostgreSQL with its own `pg_ctlcluster` commands and starts it
again in a `finally`; it runs last in `.ci/run`'s fault step.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests
from django.db import connection

from intake.models import InboundEvent, LeadForm
from leads.models import Assignment, Lead
from teams import services as teams
from tests.faults.conftest import (
    CHUNK,
    breach_rows,
    clean_run_breaches,
    hold_clock_in_the_middle,
    lock_waiters,
    postgres_start,
    postgres_stop,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)
OUTAGE = 30.0
PAGES = ["/", "/leads/", "/leads/queue/", "/breaches/", "/api/v1/leads/"]


def test_postgresql_stopped_mid_sweep_and_under_traffic(processes, own_redis, world):
    expected = clean_run_breaches()
    web = processes.gunicorn()
    rep = web.session(world.users["sales_rep"])
    for path in PAGES * 2:
        assert rep.get(path).status == 200, path
    blocker, _ = hold_clock_in_the_middle()
    processes.worker(SLA_SWEEP_CHUNK=str(CHUNK))
    own_redis.send_task("slas.evaluate_slas", full=True)
    wait_for(lock_waiters, timeout=60, what="the sweep to be mid-chunk")

    outage = []
    try:
        postgres_stop()
        stopped = time.monotonic()
        while time.monotonic() - stopped < OUTAGE:
            for path in PAGES:
                outage.append(rep.get(path, timeout=10))
            outage.append(rep.get("/health/", timeout=10))
            time.sleep(1)
    finally:
        postgres_start()
        blocker.close()  # already closed by the server as it stopped
        connection.close()  # ours died with the server too

    assert len(outage) >= 6 * 10
    wrong = [(r.path, r.status, round(r.seconds, 2)) for r in outage if r.status != 503 or r.seconds >= 2.0]
    assert not wrong
    pages = [r for r in outage if not r.path.startswith(("/api/", "/health/"))]
    assert all("briefly unavailable" in r.text for r in pages)
    assert all(r.text.startswith("{") for r in outage if r.path.startswith("/api/"))

    # The task failed on the lost connection and retries with backoff until it succeeds.
    worker = processes.started[-1]
    wait_for(lambda: breach_rows() == expected, timeout=240, interval=1, what="the retried sweep")
    log = worker.output()
    assert "Retry in" in log
    assert "succeeded" in log
    # And the web is back without a restart.
    wait_for(lambda: rep.get("/leads/").status == 200, timeout=30, what="pages back")
    assert all(rep.get(path).status == 200 for path in PAGES)


def test_postgresql_stopped_under_form_posts_answers_503_and_half_stores_nothing(processes, users, sales_team):
    teams.team_update(team=sales_team, auto_route=True)
    form = LeadForm.objects.create(name="Demo", team=sales_team, fields=["email"], language="en")
    web = processes.gunicorn(FORM_RATE_PER_MINUTE="100000")
    answers: list[tuple[int, float, float, int, dict]] = []  # (n, started, ended, status, body)
    done = threading.Event()

    def visitor() -> None:
        n = 0
        while not done.is_set():
            started = time.monotonic()
            try:
                answer = requests.post(
                    f"{web.base}/f/{form.key}/", json={"name": f"Visitor {n}", "email": f"v{n}@x.id"}, timeout=10
                )
                status, body = answer.status_code, answer.json()
            except requests.RequestException as exc:
                status, body = 0, {"error": str(exc)}
            answers.append((n, started, time.monotonic(), status, body))
            n += 1
            time.sleep(0.05)

    for n in range(4):  # warm both gunicorn workers
        requests.post(f"{web.base}/f/{form.key}/", json={"name": f"Warm {n}", "email": f"w{n}@x.id"}, timeout=10)
    poster = threading.Thread(target=visitor)
    poster.start()
    wait_for(lambda: len(answers) >= 10, timeout=60, what="posts before the outage")
    try:
        postgres_stop()  # under the posts: some are caught in the middle
        stopped = time.monotonic()
        time.sleep(15)
    finally:
        started_again = time.monotonic()
        postgres_start()
        connection.close()
    wait_for(lambda: any(a[1] > time.monotonic() - 5 and a[3] == 201 for a in answers), timeout=60, what="posts back")
    time.sleep(2)
    done.set()
    poster.join(timeout=30)

    assert all(status in (201, 503) for _n, _s, _e, status, _b in answers), {a[3] for a in answers}
    down = [a for a in answers if a[1] > stopped and a[2] < started_again]
    assert len(down) >= 10
    assert all(status == 503 and ended - began < 2.0 for _n, began, ended, status, _b in down)
    assert all(body["code"] == "database_unavailable" for *_rest, body in down)
    # The leftovers of posts caught in the middle (stored, not yet made) are made by the worker.
    processes.worker(INBOUND_STALE_SECONDS="1")
    processes.beat(INBOUND_PROCESS_EVERY_SECONDS="2", INBOUND_STALE_SECONDS="1")
    wait_for(lambda: not InboundEvent.objects.exclude(state="done").exists(), timeout=120, what="leftovers made")

    made = {lead.name: lead for lead in Lead.objects.filter(name__startswith="Visitor ")}
    for n, _began, _ended, status, body in answers:
        if status == 201:  # answered with its lead: that lead is whole
            assert made[f"Visitor {n}"].pk == body["lead"]
    assert all(f"Visitor {n}" in made for n, *_rest, status, _b in answers if status == 201)
    assert len(made) == Lead.objects.filter(name__startswith="Visitor ").count()  # nobody twice
    leads = Lead.objects.filter(name__startswith="Visitor ")
    assert not leads.filter(owner__isnull=True).exists()
    assert Assignment.objects.filter(lead__in=leads).count() == leads.count()
    assert InboundEvent.objects.filter(lead__in=leads).count() == leads.count()
    assert set(InboundEvent.objects.filter(lead__in=leads).values_list("state", flat=True)) == {"done"}
