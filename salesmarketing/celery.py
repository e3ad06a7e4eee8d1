"""The Celery application. Settings come from Django's, prefixed CELERY_."""

from __future__ import annotations

import os

from celery import Celery, shared_task
from django.db import DatabaseError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesmarketing.settings")

app = Celery("salesmarketing")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="selaras.ping")
def ping() -> str:
    """Answer "pong": lets operators (and the integration tests) see a worker run a task."""
    return "pong"


# The options every periodic job shares: acknowledged only once it ran (a worker that dies
# gives it back), and retried with exponential backoff while the database is unreachable.
# Time limits stay well under the Redis visibility timeout (1 h; tests/test_celery_config.py).
def periodic_job(
    name: str,
    *,
    soft_time_limit: int,
    time_limit: int,
    retry_backoff_max: int = 300,
    max_retries: int = 10,
    **options,
):
    return shared_task(
        name=name,
        acks_late=True,
        autoretry_for=(DatabaseError,),
        retry_backoff=True,
        retry_backoff_max=retry_backoff_max,
        max_retries=max_retries,
        soft_time_limit=soft_time_limit,
        time_limit=time_limit,
        **options,
    )
