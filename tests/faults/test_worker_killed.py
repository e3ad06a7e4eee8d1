"""A Celery worker killed with SIGKILL in the middle of a sweep chunk or of sending digests.

To kill at a known point, the test holds a row lock the worker will need (a clock the
sweep's chunk updates, a delivery it marks sent), waits until PostgreSQL shows the
worker waiting on it, and kills the worker there.
"""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from django.db.models import Count, F

from slas.models import Breach, Delivery
from tests.faults.conftest import (
    CHUNK,
    breach_rows,
    clean_run_breaches,
    hold_clock_in_the_middle,
    kill_worker_and_its_connection,
    lock_waiters,
    other_connection,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_killed_mid_chunk_leaves_whole_chunks_and_the_next_run_completes(processes, own_redis, world):
    expected = clean_run_breaches()
    assert len(expected) == 240 * 2 + 320  # response and cadence of the older leads, response of the silent recent
    blocker, stuck_chunk = hold_clock_in_the_middle()
    try:
        worker = processes.worker(SLA_SWEEP_CHUNK=str(CHUNK))
        own_redis.send_task("slas.evaluate_slas", full=True)
        wait_for(lock_waiters, timeout=60, what="the sweep to reach the locked clock")
        kill_worker_and_its_connection(worker)
    finally:
        blocker.rollback()
        blocker.close()

    partial = breach_rows()
    assert 0 < len(partial) < len(expected)
    assert partial <= expected
    # The killed chunk's transaction left nothing; every chunk before it is whole.
    assert {row for row in expected if row[3] < stuck_chunk} == partial

    # The next run (beat sends one every 5 minutes) is not kept out by the dead worker's lock.
    processes.worker("worker-after")
    own_redis.send_task("slas.evaluate_slas", full=True)
    wait_for(lambda: breach_rows() == expected, timeout=60, what="the next run to complete the sweep")
    assert not Breach.objects.values("clock").annotate(n=Count("id")).filter(n__gt=1).exists()


def test_a_killed_pool_process_gives_the_task_back_and_it_runs_again(processes, own_redis, world):
    """acks_late + task_reject_on_worker_lost: the message is requeued, not lost or acked; the
    full run it asked for is done once the dead process's session has ended."""
    expected = clean_run_breaches()
    blocker, _ = hold_clock_in_the_middle()
    try:
        worker = processes.worker(pool="prefork", SLA_SWEEP_CHUNK=str(CHUNK))
        own_redis.send_task("slas.evaluate_slas", full=True)
        wait_for(lock_waiters, timeout=60, what="the sweep to reach the locked clock")
        children = subprocess.run(
            ["pgrep", "-P", str(worker.popen.pid)], capture_output=True, text=True, check=True
        ).stdout.split()
        subprocess.run(["kill", "-KILL", *children], check=True)
        wait_for(lambda: "WorkerLostError" in worker.output(), timeout=30, what="the worker to notice")
    finally:
        blocker.rollback()
        blocker.close()
    # The dead process's session ends within PostgreSQL's 5 s client check; the requeued
    # task, finding its lock still held at first, tries again 30 s later.
    wait_for(lambda: breach_rows() == expected, timeout=120, interval=1, what="the requeued task to complete")
    assert worker.output().count("Task slas.evaluate_slas") >= 2  # received again, not lost


def test_a_worker_killed_mid_digest_resends_at_most_one_e_mail(processes, own_redis, smtp_sink, digest_world):
    recipients = sorted(Delivery.objects.values_list("recipient__email", flat=True))
    blocker = other_connection()

    def hold_the_row_being_sent(message) -> None:
        # The mail server has the message; before it says so, lock the row the worker will
        # mark sent. The worker dies in the worst place: message delivered, row not marked.
        if not smtp_sink.accepted:
            blocker.cursor().execute("SELECT id FROM slas_delivery WHERE status = 'sending' FOR UPDATE")

    smtp_sink.before_accept = hold_the_row_being_sent
    try:
        worker = processes.worker()
        own_redis.send_task("slas.send_digests")
        wait_for(lock_waiters, timeout=60, what="the worker to mark the first e-mail sent")
        kill_worker_and_its_connection(worker)
    finally:
        blocker.rollback()
        blocker.close()
    assert len(smtp_sink.accepted) == 1
    assert Delivery.objects.filter(status="sending").count() == 1
    assert not Delivery.objects.filter(status="sent").exists()

    # The next run sends the rest, and leaves the one in doubt alone (it may have gone out).
    processes.worker("worker-after")
    own_redis.send_task("slas.send_digests")
    wait_for(lambda: Delivery.objects.filter(status="sent").count() == 5, timeout=60, what="the other five sent")
    assert smtp_sink.recipients() == recipients  # each once so far

    # An hour later the stale claim is retried: that one message goes out a second time.
    Delivery.objects.filter(status="sending").update(claimed_at=F("claimed_at") - timedelta(minutes=61))
    own_redis.send_task("slas.send_digests")
    wait_for(lambda: Delivery.objects.filter(status="sent").count() == 6, timeout=60, what="the stale one retried")
    received = smtp_sink.recipients()
    assert sorted(set(received)) == recipients
    assert len(received) == len(recipients) + 1  # at most one resent e-mail, as documented
