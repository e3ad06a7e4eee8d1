"""Two sweeps, two digest runs and two beat processes at once: no duplicate breach or e-mail."""

from __future__ import annotations

import time

import pytest
from django.db.models import Count

from slas.models import Breach, Delivery
from tests.faults.conftest import breach_rows, clean_run_breaches, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def no_duplicate_breach() -> bool:
    return not Breach.objects.values("clock").annotate(n=Count("id")).filter(n__gt=1).exists()


def test_two_sweeps_at_once_record_each_breach_once(processes, world):
    expected = clean_run_breaches()
    sweeps = [processes.manage("evaluate_slas", "--full", SLA_SWEEP_CHUNK="20") for _ in range(2)]
    assert [sweep.wait(timeout=120) for sweep in sweeps] == [0, 0], processes.dump()
    assert breach_rows() == expected
    assert no_duplicate_breach()


def test_two_digest_runs_at_once_send_each_e_mail_once(processes, smtp_sink, digest_world):
    recipients = sorted(Delivery.objects.values_list("recipient__email", flat=True))
    week = digest_world.week_start.strftime("%G-W%V")
    runs = [processes.manage("send_breach_digest", "--week", week) for _ in range(2)]
    assert [run.wait(timeout=120) for run in runs] == [0, 0], processes.dump()
    assert smtp_sink.recipients() == recipients
    assert Delivery.objects.filter(status="sent").count() == len(recipients)


def test_two_beats_and_two_workers_send_and_record_everything_once(processes, own_redis, smtp_sink, world):
    """Two beat processes by mistake (operations.md says exactly one): every job is sent
    twice as often, and still each breach is recorded once and each e-mail sent once."""
    from django.utils import timezone

    from slas.digests import previous_week
    from slas.services import notifications
    from teams.models import User

    expected = clean_run_breaches()
    User.objects.update(digest_when_empty=True)
    now = timezone.now()
    notifications.digests_schedule(now=now, week_start=previous_week(team=world.team, now=now))
    recipients = sorted(Delivery.objects.values_list("recipient__email", flat=True))
    fast = {"SWEEP_EVERY_SECONDS": "1", "DIGEST_EVERY_SECONDS": "1", "NOTIFICATION_EMAIL_EVERY_SECONDS": "1"}
    processes.worker("worker-a", **fast)
    processes.worker("worker-b", **fast)
    beats = [processes.beat("beat-a", **fast), processes.beat("beat-b", **fast)]
    wait_for(lambda: breach_rows() == expected, timeout=60, what="the sweeps")
    digests_sent = Delivery.objects.filter(kind="digest", status="sent")
    wait_for(lambda: digests_sent.count() >= len(recipients), timeout=60, what="the digests")
    time.sleep(5)  # several more rounds from both beats
    assert all(beat.alive() for beat in beats)
    assert sum(beat.output().count("Sending due task evaluate-slas") for beat in beats) >= 6
    assert breach_rows() == expected
    assert no_duplicate_breach()
    # The digests, and each person's notifications of the breaches in one e-mail (the e-mail
    # job runs every second on both beats): every e-mail the server took is one delivery's.
    sent = Delivery.objects.filter(status="sent")
    assert sorted(sent.filter(kind="digest").values_list("recipient__email", flat=True)) == recipients
    assert not sent.filter(kind="notices").values("recipient").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert len(smtp_sink.accepted) == sent.count()
