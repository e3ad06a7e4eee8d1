"""The Celery settings the reliability promises rest on, and the rule that web code never
enqueues a task (so a refused or stalled broker cannot hold up a request)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from salesmarketing.celery import app

ROOT = Path(__file__).resolve().parents[1]
VISIBILITY_TIMEOUT = 3600  # the Redis transport's, set in settings for redis:// brokers


def test_a_task_is_acknowledged_after_it_ran_and_given_back_when_its_worker_dies():
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert settings.CELERY_BROKER_CONNECTION_MAX_RETRIES is None


def test_long_jobs_go_to_the_heavy_queue_and_a_plain_worker_takes_both():
    app.loader.import_default_modules()
    router = app.amqp.router
    queue_of = {name: router.route({}, name)["queue"].name for name in app.tasks if not name.startswith("celery.")}
    assert {name for name, queue in queue_of.items() if queue == "heavy"} == set(settings.HEAVY_JOBS)
    for job in ("webhooks.deliver", "intake.process_inbound", "notifications.send_email", "mailcapture.fetch_mail"):
        assert queue_of[job] == "celery", job
    # Every periodic job lands on a queue a worker started without -Q consumes.
    beat_jobs = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert beat_jobs <= set(queue_of)
    assert set(app.amqp.queues) == {"celery", "heavy"} >= {queue_of[job] for job in beat_jobs}


def test_a_job_sent_lands_in_its_own_queue_once():
    """Sent through a broker in memory, each job is in exactly one queue: the heavy ones in
    `heavy`, the rest in `celery` (a copy in both would run every job twice)."""
    from kombu import Connection

    app.loader.import_default_modules()
    with Connection("memory://localhost") as connection:
        channel = connection.default_channel
        queues = {name: queue(channel) for name, queue in app.amqp.queues.items()}
        for queue in queues.values():
            queue.declare()
        for job in ("slas.evaluate_slas", "kpis.compute_scorecards", "webhooks.deliver"):
            app.send_task(job, connection=connection)
        waiting = {name: queue.queue_declare(passive=True).message_count for name, queue in queues.items()}
    assert waiting == {"celery": 1, "heavy": 2}
    assert {name: queue.routing_key for name, queue in app.amqp.queues.items()} == {
        "celery": "celery",
        "heavy": "heavy",
    }


def test_every_task_ends_well_before_redis_would_redeliver_it():
    """A task still running when the visibility timeout passes would be delivered twice."""
    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert {"slas.evaluate_slas", "slas.send_digests", "notifications.send_email", "kpis.compute_scorecards"} <= set(
        ours
    )
    for name, task in ours.items():
        hard = task.time_limit or settings.CELERY_TASK_TIME_LIMIT
        soft = task.soft_time_limit or settings.CELERY_TASK_SOFT_TIME_LIMIT
        assert soft < hard < VISIBILITY_TIMEOUT, name
        assert task.acks_late is True or name == "selaras.ping", name


def test_the_redis_transport_times_out_fast_and_redelivers_after_an_hour():
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.CELERY_BROKER_TRANSPORT_OPTIONS))"
    )
    env = {
        "REDIS_URL": "redis://127.0.0.1:6399/0",
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "salesmarketing.settings",
    }
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    options = json.loads(out.stdout)
    assert options["visibility_timeout"] == VISIBILITY_TIMEOUT
    assert options["socket_connect_timeout"] <= 1


def test_web_code_never_enqueues_a_task():
    """Pages, the API and the services write the database; the periodic jobs pick the work up."""
    offenders = []
    for app_dir in ["salesmarketing", "teams", "leads", "slas", "kpis"]:
        for path in sorted((ROOT / app_dir).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if (
                "migrations" in relative.parts
                or "management" in relative.parts
                or path.name in ("tasks.py", "celery.py")
            ):
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Attribute) and node.attr in ("delay", "apply_async", "send_task"):
                    offenders.append(f"{relative}:{node.lineno} .{node.attr}()")
    assert not offenders


def test_a_full_sweep_that_finds_another_running_tries_again_instead_of_being_lost():
    from unittest import mock

    from celery.exceptions import Retry

    from slas.services.sweep import SweepResult
    from slas.tasks import evaluate_slas

    with (
        mock.patch("slas.services.sla_sweep", return_value=SweepResult(skipped=True)),
        mock.patch.object(evaluate_slas, "retry", side_effect=Retry()) as retry,
    ):
        with pytest.raises(Retry):
            evaluate_slas.run(full=True)
        assert retry.call_args == mock.call(countdown=30)
        retry.reset_mock()
        assert evaluate_slas.run(full=False)["skipped"] is True  # the next periodic run will do it
        retry.assert_not_called()
