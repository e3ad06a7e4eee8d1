"""The Celery application. Settings come from Django's, prefixed CELERY_."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesmarketing.settings")

app = Celery("salesmarketing")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="selaras.ping")
def ping() -> str:
    """Answer "pong": lets operators (and the integration tests) see a worker run a task."""
    return "pong"
