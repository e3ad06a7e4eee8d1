"""PostgreSQL stopped for 30 s in the middle of a sweep chunk and under web traffic: pages
answer 503 within 2 s, the sweep's task retries with backoff and completes once the
database is back, and the breaches recorded are exactly a clean run's.

This test stops the machine's PostgreSQL with its own `pg_ctlcluster` commands and starts it
again in a `finally`; it runs last in `.ci/run`'s fault step.
"""

from __future__ import annotations

import time

import pytest
from django.db import connection

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
