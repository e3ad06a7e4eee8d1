"""Redis refusing connections, then stalled (CLIENT PAUSE):

- while reps log touches and a manager edits an SLA through the web: no request waits on the
  broker, no page fails, nothing is lost, and the periodic work catches up once Redis is back;
- while visitors post lead forms, with Redis as the shared cache that counts the forms' rate
  limits: no post waits on it more than the cache's half-second timeout, every post makes its
  lead.

The web never enqueues a task (the periodic jobs read the database), which is what this
proves under fault; `tests/test_celery_config.py` keeps `.delay()` out of web code.
"""

from __future__ import annotations

import re
import time

import pytest
import redis
import requests
from django.utils import timezone

from intake.models import InboundEvent, LeadForm
from leads.models import Lead, Touch
from slas.models import Sla
from teams import services as teams
from tests.faults.conftest import assign_leads, breach_rows, clean_run_breaches, form_values, local, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
FAST = {"SWEEP_EVERY_SECONDS": "2", "NOTIFICATION_EMAIL_EVERY_SECONDS": "2"}


def path_kind(path: str) -> str:
    return re.sub(r"/\d+/", "/<pk>/", path)


def web_round(rep, manager, *, lead_ids: list[int], sla: Sla, label: str) -> None:
    for index, pk in enumerate(lead_ids):
        rep.post(f"/leads/{pk}/touch/", {"kind": "call", "outcome": "", "notes": f"{label} {index}"})
    rep.get("/leads/queue/")
    rep.get(f"/leads/{lead_ids[0]}/")
    rep.get("/leads/")
    manager.get("/")
    manager.get("/breaches/")
    manager.get("/slas/")
    form = form_values(manager.get(f"/slas/{sla.pk}/edit/").text)
    form["name"] = f"First touch ({label})"
    manager.post(f"/slas/{sla.pk}/edit/", form)


def test_a_refusing_then_stalled_broker_neither_slows_nor_breaks_the_web(processes, own_redis, world):
    rep_user, manager_user = world.users["sales_rep"], world.users["sales_manager"]
    sla = world.slas[0]
    web = processes.gunicorn()
    processes.worker(**FAST)
    processes.beat(**FAST)
    rep, manager = web.session(rep_user), web.session(manager_user)
    for _ in range(3):  # warm both gunicorn workers (templates, translations, connections)
        rep.get("/leads/queue/")
        manager.get("/slas/")
        manager.get(f"/slas/{sla.pk}/edit/")
    wait_for(lambda: breach_rows() == clean_run_breaches(), timeout=60, what="the first sweeps")
    open_leads = list(Lead.objects.filter(owner=rep_user, status="working").values_list("pk", flat=True)[:4])
    open_leads += list(Lead.objects.filter(owner=rep_user, status="assigned").values_list("pk", flat=True)[:4])
    # The same round with a healthy broker: what each request costs on this machine anyway.
    web_round(rep, manager, lead_ids=open_leads, sla=sla, label="healthy")
    baseline: dict[tuple[str, str], float] = {}
    for r in rep.log + manager.log:
        baseline[r.method, path_kind(r.path)] = max(baseline.get((r.method, path_kind(r.path)), 0.0), r.seconds)
    rep.log.clear()
    manager.log.clear()
    touches_before = Touch.objects.count()

    own_redis.kill()  # refused
    web_round(rep, manager, lead_ids=open_leads, sla=sla, label="refused")
    # Work that falls due while the broker is down: leads assigned ten days ago by an import.
    assign_leads(team=world.team, owners=[rep_user], count=50, at=local(world.team, 10, 10), by=manager_user)
    time.sleep(3)  # beat tries and fails meanwhile
    own_redis.start()
    own_redis.pause(6000)  # stalled: connections accepted, commands not answered
    web_round(rep, manager, lead_ids=open_leads, sla=sla, label="stalled")
    wait_for(own_redis.ping, timeout=20, what="the pause to end")
    recovered = time.monotonic()

    requests = rep.log + manager.log
    assert len(requests) >= 2 * (len(open_leads) + 8)
    failed = [(r.method, r.path, r.status) for r in requests if r.status not in (200, 302)]
    assert not failed
    # No request waited on the broker: none took a second longer than the same request
    # with Redis healthy (on an idle machine every one of them takes well under a second).
    waited = [
        (r.method, r.path, round(r.seconds, 2), round(baseline[r.method, path_kind(r.path)], 2))
        for r in requests
        if r.seconds > baseline[r.method, path_kind(r.path)] + 1.0
    ]
    assert not waited
    # Nothing lost: every touch and the last SLA edit are in the database.
    assert Touch.objects.count() == touches_before + 2 * len(open_leads)
    assert set(Touch.objects.filter(notes__startswith="stalled").values_list("lead", flat=True)) == set(open_leads)
    sla.refresh_from_db()
    assert sla.name == "First touch (stalled)"
    # The backlog drains: the breaches of the clocks that fell due during the outage.
    wait_for(lambda: breach_rows() == clean_run_breaches(), timeout=240, interval=1, what="the backlog to drain")
    assert time.monotonic() - recovered < 300
    print(f"backlog drained {time.monotonic() - recovered:.1f} s after Redis came back at {timezone.now()}")


def test_lead_forms_posted_while_the_cache_is_refused_then_stalled_wait_on_nothing(
    processes, own_redis, users, sales_team
):
    teams.team_update(team=sales_team, auto_route=True)
    form = LeadForm.objects.create(name="Demo", team=sales_team, fields=["email"], language="en")
    cache_url = own_redis.url.rsplit("/", 1)[0] + "/1"
    web = processes.gunicorn(CACHE_URL=cache_url, FORM_RATE_PER_MINUTE="1000")

    def post(label: str, n: int) -> tuple[int, float, dict]:
        started = time.monotonic()
        answer = requests.post(
            f"{web.base}/f/{form.key}/", json={"name": f"{label} {n}", "email": f"{label}{n}@x.id"}, timeout=10
        )
        return answer.status_code, time.monotonic() - started, answer.json()

    for n in range(4):  # warm both gunicorn workers
        post("warm", n)
    healthy = [post("healthy", n) for n in range(6)]
    # The rate limits were counted in Redis: the fault below is in the path of every post.
    assert redis.Redis.from_url(cache_url).keys(f"*rate:form:{form.pk}:*")
    own_redis.kill()
    refused = [post("refused", n) for n in range(6)]
    own_redis.start()
    own_redis.pause(10_000)
    stalled_at = time.monotonic()
    stalled = [post("stalled", n) for n in range(6)]
    assert time.monotonic() - stalled_at < 10  # all of them inside the pause

    answers = healthy + refused + stalled
    assert {status for status, _took, _body in answers} == {201}
    assert all(body["ok"] and body["lead"] for _status, _took, body in answers)
    slowest_healthy = max(took for _status, took, _body in healthy)
    waited = [
        round(took - slowest_healthy, 2) for _status, took, _body in refused + stalled if took > slowest_healthy + 1.0
    ]
    assert not waited
    # The stalled cache was waited on, and only for its timeout (0.5 s), not for the pause. A
    # gunicorn worker that still held a connection to the killed server finds it broken at
    # once, without waiting: at most one such post per worker (two).
    assert sum(took >= 0.45 for _status, took, _body in stalled) >= len(stalled) - 2
    # None lost: a routed lead for every post.
    assert Lead.objects.filter(name__regex=r"^(healthy|refused|stalled) ").count() == 18
    assert not Lead.objects.filter(owner__isnull=True).exists()
    assert not InboundEvent.objects.exclude(state="done").exists()
