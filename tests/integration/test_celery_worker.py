"""A real Celery worker process runs a task end to end, on the embedded broker and on Redis."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery import Celery

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "salesmarketing", "worker", "--pool=solo", "--loglevel=INFO"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop_worker(worker: subprocess.Popen) -> str:
    worker.terminate()
    try:
        output, _ = worker.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        output, _ = worker.communicate()
    return output


def test_a_worker_on_the_embedded_filesystem_broker_runs_a_task(tmp_path):
    queue = tmp_path / "celery"
    results = tmp_path / "results"
    results.mkdir()
    worker = start_worker(
        {"CELERY_FILESYSTEM_DIR": str(queue), "CELERY_RESULT_BACKEND": f"file://{results}", "REDIS_URL": ""}
    )
    try:
        client = Celery(broker="filesystem://", backend=f"file://{results}")
        client.conf.broker_transport_options = {
            "data_folder_in": str(queue / "queue"),
            "data_folder_out": str(queue / "queue"),
        }
        (queue / "queue").mkdir(parents=True, exist_ok=True)
        result = client.send_task("selaras.ping")
        assert result.get(timeout=60) == "pong"
    finally:
        output = stop_worker(worker)
    assert "selaras.ping" in output


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (set by .ci/run)")
def test_a_worker_on_redis_runs_a_task():
    # A database of its own, so the test never meets the real queue.
    parts = urlsplit(os.environ["REDIS_URL"])
    url = urlunsplit((parts.scheme, parts.netloc, "/14", "", ""))
    worker = start_worker({"CELERY_BROKER_URL": url, "CELERY_RESULT_BACKEND": url})
    try:
        client = Celery(broker=url, backend=url)
        result = client.send_task("selaras.ping")
        assert result.get(timeout=60) == "pong"
    finally:
        output = stop_worker(worker)
    assert "selaras.ping" in output
