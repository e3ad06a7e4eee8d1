"""Query-count baselines for every page and API list (SPEC §10).

Every page a signed-in user sees and every list and detail endpoint of `/api/v1/`
answers in a constant number of SQL queries, whatever the amount of data. The data is
built at two sizes, about 10 and about 50 rows of everything the pages and lists show
(leads with their touches, assignments, status changes, rejections, SLA clocks and
breaches; campaigns; SLAs; KPIs, targets and values; scorecards; teams and their
closed dates; users), and each case counts the queries of one request at both sizes.
Each case asserts that

1. the count is the same at both sizes: a count that grows with the rows is an N+1;
2. it equals the number recorded for the case in `query_baselines.json` for the
   database the tests run on (SQLite and PostgreSQL differ in places: savepoints,
   batch splits), so that any new query is a conscious decision.

A failure names the case, the recorded and the measured counts, and lists every SQL
statement of the request, numbered, so a reviewer sees the new query; a count that
grows also lists the statements that repeat more often at the larger size.

Re-recording, after a deliberate change or for a new case::

    QUERY_BASELINES=record .venv/bin/pytest tests/perf/test_query_baselines.py

rewrites the current database's numbers in `query_baselines.json` (sorted, one case a
line) instead of comparing; a count that grows is refused all the same. Record
PostgreSQL's numbers once against a scratch database::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/selaras_qb QUERY_BASELINES=record \\
        .venv/bin/pytest tests/perf/test_query_baselines.py --create-db

A database without recorded numbers fails, so nobody forgets to record it.

The dashboards and the KPI page compute each target's progress with the target's own
metric: a few queries per target in force, the same at any amount of data but more
with every target. For those pages the rows are leads (the targets stay as they are),
and `test_cost_of_one_more_target` records what one more target of each metric adds,
so that price stays in sight and a change to it fails like any other.

All cases share one data set, built once per size in a transaction that is rolled back
at the end (building it per case would take minutes), with the time frozen at NOW: the
data is laid out around it, and the pages compute "this month", "this week" and
deadlines from it.
"""

from __future__ import annotations

import json
import os
import re
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from intake.models import InboundEvent, InboundHook, LeadForm, WhatsAppNumber
from kpis import services as kpi_services
from kpis.models import Kpi, Measurement, Metric, Scorecard, Target
from kpis.scorecards import scorecards_compute
from leads import services as lead_services
from leads.models import Campaign, Lead, Source
from mailcapture.models import CapturedMail, Mailbox
from notifications.models import Notification
from routing import services as routing_services
from routing.models import Decision, Rule
from slas import services as sla_services
from slas.models import Breach, Sla
from teams import services as team_services
from teams.models import ClosedDate, Role, Team, User
from tests.factories import CampaignFactory, LeadFactory, MarketingTeamFactory, TeamFactory, UserFactory, seed_slas
from webhooks.models import Webhook, WebhookDelivery

# Marked so that the test database is set up; the data itself lives in `measured`.
pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 8, 20, 10, tzinfo=JAKARTA)  # a Thursday in the middle of a month and a quarter
SLAS_FROM = datetime(2026, 1, 1, tzinfo=JAKARTA)
SIZES = (10, 50)
BASELINES = Path(__file__).with_name("query_baselines.json")
RECORDING = os.environ.get("QUERY_BASELINES", "").strip().lower() == "record"


# -- the data ----------------------------------------------------------------------------------
@dataclass
class World:
    """The fixed part every case starts from, and what has been grown so far."""

    users: dict[str, User]
    sales_team: Team
    other_sales_team: Team
    marketing_team: Team
    slas: dict[str, Sla] = field(default_factory=dict)
    campaigns: list[Campaign] = field(default_factory=list)
    kpis: dict[str, Kpi] = field(default_factory=dict)
    targets: dict[str, Target] = field(default_factory=dict)
    focus: Lead | None = None
    by_kind: dict[int, list[int]] = field(default_factory=dict)
    built: Counter = field(default_factory=Counter)

    @property
    def manager(self) -> User:
        return self.users["sales_manager"]


def _people() -> World:
    """The teams and people of `tests/conftest.py` (its fixtures are per test; this data
    lives for the whole module)."""
    sales_team = TeamFactory(name="Sales Jakarta")
    other_sales_team = TeamFactory(name="Sales Jayapura", timezone="Asia/Jayapura")
    marketing_team = MarketingTeamFactory(name="Marketing")
    people = [
        ("admin", "admin", Role.ADMIN, None),
        ("sales_manager", "sales.manager", Role.SALES_MANAGER, sales_team),
        ("marketing_manager", "marketing.manager", Role.MARKETING_MANAGER, marketing_team),
        ("sales_rep", "rep1", Role.SALES_REP, sales_team),
        ("other_rep", "rep2", Role.SALES_REP, sales_team),
        ("marketer", "marketer1", Role.MARKETER, marketing_team),
        ("other_manager", "papua.manager", Role.SALES_MANAGER, other_sales_team),
        ("other_team_rep", "rep3", Role.SALES_REP, other_sales_team),
    ]
    # Members since January: the volume SLAs expect leads for them from their first month.
    joined = date(2026, 1, 1)
    users = {key: UserFactory(username=name, role=role, team=team, on=joined) for key, name, role, team in people}
    return World(users, sales_team, other_sales_team, marketing_team)


def _world() -> World:
    """Three SLAs of the spec, three campaigns, the KPIs and targets in force, one lead with
    some history (the "focus" lead of the lead page), and an API token for everyone."""
    world = _people()
    users, sales_team, marketing_team = world.users, world.sales_team, world.marketing_team
    manager, marketing_manager = world.manager, users["marketing_manager"]
    world.slas = {
        **seed_slas(team=sales_team, by=manager, now=SLAS_FROM),
        "volume": sla_services.sla_create(
            by=marketing_manager,
            team=sales_team,
            kind="volume",
            name="50 leads per rep per month",
            from_team=marketing_team,
            now=SLAS_FROM,
        ),
    }
    world.campaigns = [
        CampaignFactory(team=marketing_team, name=name, start_date=date(2026, 6, 1), spend=Decimal(5_000_000))
        for name in ("Search ads", "Trade fair", "Webinar")
    ]
    _kpis_and_targets(world)
    focus = LeadFactory(
        name="Focus Lead",
        email="focus@example.com",
        team=sales_team,
        campaign=world.campaigns[0],
        created_at=datetime(2026, 8, 3, 9, tzinfo=JAKARTA),
    )
    lead_services.lead_assign(lead=focus, owner=users["sales_rep"], by=manager, now=focus.created_at)
    world.focus = focus
    for user in users.values():
        Token.objects.get_or_create(user=user)
    return world


def _kpis_and_targets(world: World) -> None:
    """A company revenue goal, the sales team's targets (one a rep's quota), and the marketing
    team's growth and manual website visitors: what a company sets up first."""
    admin, manager, marketing_manager = world.users["admin"], world.manager, world.users["marketing_manager"]
    sales, marketing = world.sales_team, world.marketing_team
    quarter, month = date(2026, 7, 1), date(2026, 8, 1)
    kpi, target = kpi_services.kpi_create, kpi_services.target_create
    k = world.kpis = {
        "company": kpi(by=admin, name="Company revenue goal", metric=Metric.REVENUE_WON),
        "leads": kpi(by=manager, name="Leads received", metric=Metric.LEADS_CREATED, team=sales),
        "quota": kpi(by=manager, name="Quota", metric=Metric.REVENUE_WON, team=sales),
        "response": kpi(by=manager, name="Response compliance", metric=Metric.RESPONSE_SLA_COMPLIANCE, team=sales),
        "growth": kpi(by=marketing_manager, name="Lead growth", metric=Metric.LEADS_GROWTH, team=marketing),
        "visitors": kpi(by=marketing_manager, name="Visitors", metric=Metric.MANUAL, team=marketing),
    }
    rep = world.users["sales_rep"]
    world.targets = {
        "company": target(by=admin, kpi=k["company"], period="quarter", period_start=quarter, target=Decimal(10**9)),
        "leads": target(by=manager, kpi=k["leads"], team=sales, period="month", period_start=month, target=40),
        "quota": target(by=manager, kpi=k["quota"], user=rep, period="quarter", period_start=quarter, target=10**8),
        "response": target(
            by=manager, kpi=k["response"], team=sales, period="quarter", period_start=quarter, target=Decimal("0.9")
        ),
        "growth": target(
            by=marketing_manager,
            kpi=k["growth"],
            team=marketing,
            period="quarter",
            period_start=quarter,
            target=Decimal("0.1"),
        ),
        "visitors": target(
            by=marketing_manager, kpi=k["visitors"], team=marketing, period="month", period_start=month, target=900
        ),
    }
    for day in (3, 10, 17):
        kpi_services.measurement_create(
            by=marketing_manager, kpi=k["visitors"], team=marketing, day=date(2026, 8, day), value=Decimal(250)
        )


# What becomes of a lead, by its number modulo 10: every size holds every kind, so both
# sizes run the same code paths and only the number of rows differs.
AGE = {
    0: timedelta(days=35),  # answered in 30 minutes, won 3 days later
    1: timedelta(days=34),  # answered late twice: response breached (resolved), cadence breached
    2: timedelta(days=3),  # never answered: an open response breach
    3: timedelta(hours=1),  # just assigned: pending
    4: timedelta(hours=2),  # nobody's yet (and a lead of the other sales team)
    5: timedelta(days=10),  # rejected as spam within the hour
    6: timedelta(days=5),  # answered in 20 minutes, qualified
    7: timedelta(days=20),  # answered late, lost; its breaches are waived
    8: timedelta(days=2),  # reassigned after an hour, answered by the new owner
    9: timedelta(days=6),  # entered by a marketer, five follow-ups: cadence met
}
SOURCES = list(Source.values)


def leads(world: World, n: int) -> None:
    """`n` leads of the sales team with their assignments, touches, status changes,
    rejections, SLA clocks and, after a sweep at NOW, breaches (some acknowledged, some waived)."""
    for i in _new(world, "leads", n):
        kind = i % 10
        world.by_kind.setdefault(kind, []).append(_lead(world, i, kind).pk)
    sla_services.sla_sweep(now=NOW)
    Breach.objects.filter(lead_id__in=world.by_kind.get(1, []), acknowledged_at__isnull=True).update(
        acknowledged_by=world.manager, acknowledged_at=NOW, note="Talked it through"
    )
    Breach.objects.filter(lead_id__in=world.by_kind.get(7, []), waived=False).update(
        waived=True, waived_by=world.manager, waived_at=NOW, waived_reason="Phone outage"
    )


def _lead(world: World, i: int, kind: int) -> Lead:
    users, manager = world.users, world.manager
    rep, other = users["sales_rep"], users["other_rep"]
    created = NOW - AGE[kind] + timedelta(minutes=i // 10)
    lead = LeadFactory(
        team=world.sales_team,
        created_at=created,
        campaign=world.campaigns[i // 2 % 3] if i % 2 else None,
        source=SOURCES[i % len(SOURCES)],
        email="focus@example.com" if kind == 0 else f"lead{i}@example.com",  # kind 0: the focus lead's duplicates
        created_by=users["marketer"] if kind == 9 else None,
        value=None,
    )

    def at(**delta) -> datetime:
        return created + timedelta(**delta)

    def assign(owner: User, when: datetime) -> None:
        lead_services.lead_assign(lead=lead, owner=owner, by=manager, now=when)

    def touch(by: User, when: datetime) -> None:
        lead_services.touch_log(lead=lead, by=by, kind="call", outcome="connected", notes="Called", now=when)

    def move(by: User, status: str, when: datetime, value: Decimal | None = None) -> None:
        lead_services.lead_status_change(lead=lead, by=by, status=status, value=value, now=when)

    if kind == 0:
        assign(rep, created)
        touch(rep, at(minutes=30))
        move(rep, "won", at(days=3), Decimal(1000 * (i + 1)))
    elif kind == 1:
        assign(other, created)
        touch(other, at(days=4))  # after the deadline, which a weekend moves to the third day
        touch(other, at(days=5))
    elif kind in (2, 3):
        assign(rep, created)
    elif kind == 4:
        elsewhere = LeadFactory(team=world.other_sales_team, created_at=created, source=SOURCES[i % len(SOURCES)])
        lead_services.lead_assign(lead=elsewhere, owner=users["other_team_rep"], by=users["other_manager"], now=created)
    elif kind == 5:
        assign(other, created)
        lead_services.lead_reject(lead=lead, by=other, reason="spam", note="A bot", now=at(hours=1))
    elif kind == 6:
        assign(rep, created)
        touch(rep, at(minutes=20))
        move(rep, "qualified", at(hours=2))
    elif kind == 7:
        assign(other, created)
        touch(other, at(days=4))
        move(other, "lost", at(days=5))
    elif kind == 8:
        assign(other, created)
        assign(rep, at(hours=1))
        touch(rep, at(hours=1, minutes=30))
    else:
        assign(rep, created)
        for day in range(5):
            touch(rep, at(days=day, hours=1))
    return lead


def activity(world: World, n: int) -> None:
    """`n` follow-ups on the focus lead, a reassignment (new clocks) and a likely duplicate
    (same e-mail) every tenth one."""
    focus, manager = world.focus, world.manager
    reps = {rep.pk: rep for rep in (world.users["sales_rep"], world.users["other_rep"])}
    for j in _new(world, "activity", n):
        when = focus.created_at + timedelta(hours=j + 1)
        if j % 10 == 9:
            other = next(pk for pk in reps if pk != focus.owner_id)
            lead_services.lead_assign(lead=focus, owner=reps[other], by=manager, now=when)
            LeadFactory(team=world.sales_team, email=focus.email, created_at=when)
        owner = reps[focus.owner_id]
        lead_services.touch_log(lead=focus, by=manager, user=owner, kind="email", notes=f"Mail {j}", now=when)


def _new(world: World, kind: str, n: int) -> range:
    """The numbers of the rows of `kind` still to grow to reach `n` (and mark them grown)."""
    start, world.built[kind] = world.built[kind], max(world.built[kind], n)
    return range(start, n)


def campaigns(world: World, n: int) -> None:
    """`n` more campaigns of the marketing team."""
    for j in _new(world, "campaigns", n):
        CampaignFactory(
            team=world.marketing_team, name=f"Campaign {j}", start_date=date(2026, 1, 1) + timedelta(days=j)
        )


def slas(world: World, n: int) -> None:
    """`n` more SLAs of the sales team, the three kinds in turn; they start clocks for the
    leads grown after them."""
    for j in _new(world, "slas", n):
        kind = ["response", "cadence", "volume"][j % 3]
        if kind == "volume":  # owed by the marketing team: one more row on its dashboard
            terms = {"from_team": world.marketing_team, "leads_per_rep": 10}
        else:  # for outbound leads only, so that not every lead gets every clock
            terms = {"target_value": 2, "target_unit": "hours"} if kind == "response" else {}
            terms["sources"] = ["outbound"]
        sla_services.sla_create(
            by=world.users["admin"], team=world.sales_team, kind=kind, name=f"SLA {j}", now=SLAS_FROM, **terms
        )


def kpis(world: World, n: int) -> None:
    """`n` more KPIs, every metric in turn, for the company or the sales team."""
    metrics = list(Metric.values)
    for j in _new(world, "kpis", n):
        kpi_services.kpi_create(
            by=world.users["admin"],
            name=f"KPI {j}",
            metric=metrics[j % len(metrics)],
            team=world.sales_team if j % 2 else None,
        )


def targets(world: World, n: int) -> None:
    """`n` more monthly targets for the sales team, a rep and the company in turn, all of
    2022 to early 2026: past, so the pages that show targets in force keep theirs."""
    for j in _new(world, "targets", n):
        scope = [{"team": world.sales_team}, {"user": world.users["sales_rep"]}, {}][j % 3]
        kpi_services.target_create(
            by=world.users["admin"],
            kpi=world.kpis["quota" if scope else "company"],
            period="month",
            period_start=date(2022 + j // 12, j % 12 + 1, 1),
            target=Decimal(1000 + j),
            **scope,
        )


def measurements(world: World, n: int) -> None:
    """`n` more daily values of the marketing team's website visitors."""
    for j in _new(world, "measurements", n):
        kpi_services.measurement_create(
            by=world.users["marketing_manager"],
            kpi=world.kpis["visitors"],
            team=world.marketing_team,
            day=date(2026, 1, 1) + timedelta(days=j),
            value=Decimal(100 + j),
        )


def scorecards(world: World, n: int) -> None:
    """The three teams' cards, computed (current and last month and quarter), then more
    teams, each with a member and four cards copied from a computed one, to about `n` cards."""
    if not Scorecard.objects.exists():
        scorecards_compute(now=NOW, teams=[world.sales_team, world.other_sales_team, world.marketing_team])
    computed = {
        kind: list(Scorecard.objects.filter(team=team))
        for kind, team in ((Team.Kind.SALES, world.sales_team), (Team.Kind.MARKETING, world.marketing_team))
    }
    while Scorecard.objects.count() < n:
        j = world.built["scored teams"]
        world.built["scored teams"] += 1
        kind = Team.Kind.SALES if j % 2 == 0 else Team.Kind.MARKETING
        team = TeamFactory(name=f"Scored team {j}", kind=kind)
        UserFactory(username=f"scored{j}", role=Role.SALES_REP if kind == Team.Kind.SALES else Role.MARKETER, team=team)
        Scorecard.objects.bulk_create(
            Scorecard(
                team=team,
                period=card.period,
                period_start=card.period_start,
                period_end=card.period_end,
                computed_at=NOW,
                metrics=card.metrics,
            )
            for card in computed[kind]
        )


def teams(world: World, n: int) -> None:
    """`n` more teams of both kinds, each with two closed dates."""
    for j in _new(world, "teams", n):
        team = TeamFactory(name=f"Team {j}", kind=Team.Kind.SALES if j % 2 else Team.Kind.MARKETING)
        for days in (30, 60):
            ClosedDate.objects.create(team=team, date=NOW.date() + timedelta(days=days + j), name="Company day off")


def members(world: World, n: int) -> None:
    """`n` more reps of the sales team, and as many of its closed dates in the coming weeks."""
    for j in _new(world, "members", n):
        UserFactory(username=f"member{j}", role=Role.SALES_REP, team=world.sales_team)
        ClosedDate.objects.create(team=world.sales_team, date=NOW.date() + timedelta(days=j + 1), name=f"Day off {j}")


def routing(world: World, n: int) -> None:
    """`n` more routing rules of the sales team, and as many decisions on the focus lead (each
    passing over a rep who is away), so the lead's timeline and its routing grow."""
    manager, away = world.manager, world.users["other_rep"]
    for j in _new(world, "routing", n):
        routing_services.rule_create(
            by=manager,
            team=world.sales_team,
            name=f"Rule {j}",
            sources=["event"] if j % 2 else ["outbound"],
            members=[{"user": world.users["sales_rep"], "weight": 1 + j % 3}, {"user": away, "weight": 1}],
            method=["round_robin", "weighted", "least_open"][j % 3],
            cap_per_day=None if j % 2 else 100,
        )
        Decision.objects.create(
            lead=world.focus,
            created_at=world.focus.created_at + timedelta(minutes=j),
            trigger="manual",
            step="rule",
            rule_name=f"Rule {j}",
            method="round_robin",
            owner=world.users["sales_rep"],
            skipped=[{"user": away.pk, "reason": "away"}],
            by=manager,
        )


def time_off(world: World, n: int) -> None:
    """`n` more stretches of time off of the sales team's people, this week and next."""
    people = list(User.objects.filter(team=world.sales_team).order_by("pk"))
    for j in _new(world, "time off", n):
        start = NOW + timedelta(days=j // len(people), hours=j % 7)
        team_services.time_off_add(
            by=world.manager, user=people[j % len(people)], start=start, end=start + timedelta(hours=3)
        )


def notifications(world: World, n: int) -> None:
    """The first `n` leads of the sales team given to its rep, as their notifications tell (the
    sweep's breaches and clocks at risk add theirs; one given before is not told twice)."""
    rep = world.users["sales_rep"]
    given = Lead.objects.filter(team=world.sales_team).order_by("pk")[:n]
    Notification.objects.bulk_create(
        [Notification(user=rep, kind="lead_assigned", lead=lead, created_at=NOW) for lead in given],
        ignore_conflicts=True,
    )


def webhooks(world: World, n: int) -> None:
    """`n` webhooks, each with a delivery that failed, and the first with `n` more deliveries."""
    for j in _new(world, "webhooks", n):
        url = f"https://hooks.example.com/{j}"
        webhook = Webhook.objects.create(name=f"Receiver {j}", url=url, events=["lead.created"])
        first = Webhook.objects.order_by("pk").first()
        for k, hook in enumerate((webhook, first)):
            WebhookDelivery.objects.create(
                webhook=hook, event="lead.created", subject_id=10_000 + j * 2 + k, status="failed",
                attempts=3, response_code=500, retry_until=NOW,
            )  # fmt: skip


def intake(world: World, n: int) -> None:
    """`n` lead forms and hooks of the sales team, and `n` events of the first of each."""
    for j in _new(world, "intake", n):
        form = LeadForm.objects.create(name=f"Form {j}", team=world.sales_team, fields=["email"])
        hook = InboundHook.objects.create(name=f"Hook {j}", team=world.sales_team)
        WhatsAppNumber.objects.create(phone_number_id=f"10{j:06d}", team=world.sales_team)
        first_form, first_hook = LeadForm.objects.order_by("pk").first(), InboundHook.objects.order_by("pk").first()
        for k, (channel, endpoint) in enumerate((("form", first_form.pk), ("hook", first_hook.pk), ("form", form.pk))):
            InboundEvent.objects.create(
                channel=channel, endpoint=endpoint, external_id=f"e{j}-{k}", state="done",
                lead=world.focus, payload={"name": "x"},
            )  # fmt: skip
        InboundEvent.objects.create(
            channel="hook", endpoint=hook.pk, external_id=f"f{j}", state="failed", error="RuntimeError", payload={}
        )


def captured_mail(world: World, n: int) -> None:
    """`n` messages read from the capture mailbox, skipped with a reason."""
    mailbox, _ = Mailbox.objects.get_or_create(address="imap://log@127.0.0.1:143/INBOX")
    for j in _new(world, "captured_mail", n):
        CapturedMail.objects.create(
            mailbox=mailbox, uidvalidity=1, uid=j + 1, sender=f"someone{j}@elsewhere.example", subject=f"Hello {j}",
            arrived_at=NOW, state="skipped", reason="unknown_sender",
        )  # fmt: skip


def users(world: World, n: int) -> None:
    """`n` more users of other teams and roles."""
    roles = [
        (Role.SALES_REP, world.other_sales_team),
        (Role.MARKETER, world.marketing_team),
        (Role.SALES_MANAGER, world.other_sales_team),
        (Role.MARKETING_MANAGER, world.marketing_team),
    ]
    for j in _new(world, "users", n):
        role, team = roles[j % len(roles)]
        UserFactory(username=f"person{j}", role=role, team=team)


# -- the cases ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One request: who asks for what, and what in the answer shows the rows that grow.

    `rows` is proof that the case sees what it claims to: for a page, a piece of markup
    that repeats once a row (its count must rise from the smaller size to the larger);
    for an API list, "count" (the list's count must rise); None where nothing listed grows."""

    name: str
    actor: str
    url: Callable[[World], str]
    rows: str | None = None

    @property
    def api(self) -> bool:
        return self.name.startswith("api ")


def page(name: str, actor: str, url: Callable[[World], str], rows: str | None = "<tr") -> Case:
    return Case(f"page {name}", actor, url, rows)


def api(name: str, actor: str, url: Callable[[World], str], rows: str | None = "count") -> Case:
    return Case(f"api {name}", actor, url, rows)


def _breach_id(world: World) -> int:
    breaches = Breach.objects.filter(team=world.sales_team, lead__isnull=False).order_by("pk")
    return breaches.values_list("pk", flat=True)[0]


def _first_pk(model) -> Callable[[], int]:
    return lambda: model.objects.order_by("pk").values_list("pk", flat=True)[0]


KINDS = ("response", "cadence", "volume")
DASHBOARD_ROWS = {  # the admin's lists every team's card; marketing's every volume SLA owed
    "admin": "<tr",
    "sales_manager": None,
    "marketing_manager": 'role="progressbar"',
    "sales_rep": None,
    "marketer": 'role="progressbar"',
}
CASES = [
    *[page(f"dashboard ({role})", role, lambda w: "/", rows) for role, rows in DASHBOARD_ROWS.items()],
    page("lead list", "sales_manager", lambda w: "/leads/"),
    page(
        "lead list, filtered",
        "sales_manager",
        lambda w: (
            f"/leads/?status=new&status=working&status=won&source=web&source=event&source=referral"
            f"&owner={w.users['sales_rep'].pk}&created_after=2026-07-01"
        ),
    ),
    page("lead list, searched", "sales_manager", lambda w: "/leads/?q=example.com"),
    page("lead list, sorted", "sales_manager", lambda w: "/leads/?ordering=-value"),
    page("lead list, by SLA state", "sales_manager", lambda w: "/leads/?sla=breached"),
    page(
        "lead list, by campaign",
        "sales_manager",
        lambda w: f"/leads/?campaign={w.campaigns[0].pk}&team={w.sales_team.pk}",
    ),
    page("lead", "sales_manager", lambda w: f"/leads/{w.focus.pk}/", "<li"),
    page("lead form, new", "sales_manager", lambda w: "/leads/new/", "<option"),
    page("lead form, edit", "sales_manager", lambda w: f"/leads/{w.focus.pk}/edit/", "<option"),
    page("queue", "sales_rep", lambda w: "/leads/queue/", 'id="queue-lead-'),
    page("import", "marketing_manager", lambda w: "/leads/import/", "<option"),
    page("campaign list", "marketing_manager", lambda w: "/leads/campaigns/"),
    page("campaign list, searched", "marketing_manager", lambda w: "/leads/campaigns/?q=Campaign"),
    page("campaign", "marketing_manager", lambda w: f"/leads/campaigns/{w.campaigns[0].pk}/", "<li"),
    page("campaign form, new", "marketing_manager", lambda w: "/leads/campaigns/new/", None),
    page("campaign form, edit", "marketing_manager", lambda w: f"/leads/campaigns/{w.campaigns[0].pk}/edit/", None),
    page("SLA list", "sales_manager", lambda w: "/slas/"),
    *[
        page(f"SLA ({kind})", "sales_manager", lambda w, kind=kind: f"/slas/{w.slas[kind].pk}/", rows)
        for kind, rows in (("response", "<tr"), ("cadence", "<tr"), ("volume", None))
    ],
    *[page(f"SLA form, new {kind}", "admin", lambda w, kind=kind: f"/slas/new/{kind}/", "<option") for kind in KINDS],
    *[
        page(f"SLA form, edit {kind}", "admin", lambda w, kind=kind: f"/slas/{w.slas[kind].pk}/edit/", "<option")
        for kind in KINDS
    ],
    page("breach list", "sales_manager", lambda w: "/breaches/"),
    page(
        "breach list, filtered",
        "sales_manager",
        lambda w: f"/breaches/?status=open&kind=response&rep={w.users['sales_rep'].pk}&since=2026-07-01",
    ),
    page(
        "breach list, waived of an SLA",
        "sales_manager",
        lambda w: f"/breaches/?status=waived&sla={w.slas['response'].pk}&team={w.sales_team.pk}",
    ),
    page("scorecards (month)", "admin", lambda w: "/scorecards/?period=month"),
    page("scorecards (quarter)", "admin", lambda w: "/scorecards/?period=quarter"),
    page("insights", "sales_manager", lambda w: "/insights/"),  # a row per campaign running
    page(
        "insights, one team and range",
        "admin",
        lambda w: f"/insights/?team={w.sales_team.pk}&start=2026-07-01&end=2026-08-20",
    ),
    page("KPIs", "sales_manager", lambda w: "/kpis/", None),
    page("team list", "admin", lambda w: "/teams/"),
    page("team", "admin", lambda w: f"/teams/{w.sales_team.pk}/", "<li"),
    page("team form", "admin", lambda w: f"/teams/{w.sales_team.pk}/edit/", None),
    page("e-mail preferences", "sales_rep", lambda w: "/accounts/notifications/", None),
    page("API access", "sales_manager", lambda w: "/accounts/api-token/", None),
    page("password change", "sales_rep", lambda w: "/accounts/password_change/", None),
    page("routing rules", "sales_manager", lambda w: "/routing/", '<li class="card mb-2'),
    page(
        "routing rules, tried", "sales_manager", lambda w: "/routing/?source=event&value=1000", '<li class="card mb-2'
    ),
    page("routing rule form", "sales_manager", lambda w: f"/routing/{_first_pk(Rule)()}/edit/", None),
    page("time off", "sales_manager", lambda w: "/teams/time-off/", '<li class="list-group-item'),
    page("notifications", "sales_rep", lambda w: "/notifications/", '<li class="list-group-item'),
    page("notifications, the bell's count", "sales_rep", lambda w: "/notifications/unread/", None),
    page("webhooks", "admin", lambda w: "/webhooks/"),
    page("webhook", "admin", lambda w: f"/webhooks/{_first_pk(Webhook)()}/", '<tr id="delivery-'),
    page("lead capture", "admin", lambda w: "/intake/"),
    page("lead form", "marketer", lambda w: f"/intake/forms/{_first_pk(LeadForm)()}/", '<tr id="event-'),
    page("inbound hook", "marketer", lambda w: f"/intake/hooks/{_first_pk(InboundHook)()}/", '<tr id="event-'),
    page("failed inbound events", "admin", lambda w: "/intake/failed/", '<tr id="event-'),
    page("captured e-mails", "admin", lambda w: "/capture/mail/", "<tr>"),
    page("my profile", "sales_rep", lambda w: "/accounts/profile/", None),
    page("lead list, by arrival", "sales_manager", lambda w: "/leads/?arrived_via=manual&arrived_via=form&utm_source="),
    api("leads", "sales_manager", lambda w: "/api/v1/leads/"),
    api(
        "leads, filtered",
        "sales_manager",
        lambda w: f"/api/v1/leads/?status=new&status=working&owner={w.users['sales_rep'].pk}&created_after=2026-07-01",
    ),
    api("leads, searched and sorted", "sales_manager", lambda w: "/api/v1/leads/?q=example&ordering=-value"),
    api("leads, by SLA state", "sales_manager", lambda w: "/api/v1/leads/?sla=breached"),
    api("lead", "sales_manager", lambda w: f"/api/v1/leads/{w.focus.pk}/", None),
    api("touches of a lead", "sales_manager", lambda w: f"/api/v1/leads/{w.focus.pk}/touches/"),
    api(
        "touches of a lead, by origin",
        "sales_manager",
        lambda w: f"/api/v1/leads/{w.focus.pk}/touches/?origin=manual",
    ),
    api("campaigns", "marketing_manager", lambda w: "/api/v1/campaigns/"),
    api("campaign", "marketing_manager", lambda w: f"/api/v1/campaigns/{w.campaigns[0].pk}/", None),
    api("slas", "sales_manager", lambda w: "/api/v1/slas/"),
    api("sla", "sales_manager", lambda w: f"/api/v1/slas/{w.slas['volume'].pk}/", None),
    api("breaches", "sales_manager", lambda w: "/api/v1/breaches/"),
    api(
        "breaches, filtered",
        "sales_manager",
        lambda w: f"/api/v1/breaches/?team={w.sales_team.pk}&sla={w.slas['response'].pk}&since=2026-07-01",
    ),
    api("breach", "sales_manager", lambda w: f"/api/v1/breaches/{_breach_id(w)}/", None),
    api("kpis", "admin", lambda w: "/api/v1/kpis/"),
    api("kpi", "admin", lambda w: f"/api/v1/kpis/{w.kpis['quota'].pk}/", None),
    api("kpi-targets", "admin", lambda w: "/api/v1/kpi-targets/"),
    api("kpi-target", "admin", lambda w: f"/api/v1/kpi-targets/{w.targets['quota'].pk}/", None),
    api(
        "kpi-target progress", "sales_manager", lambda w: f"/api/v1/kpi-targets/{w.targets['leads'].pk}/progress/", None
    ),
    api("kpi-measurements", "marketing_manager", lambda w: "/api/v1/kpi-measurements/"),
    api(
        "kpi-measurement", "marketing_manager", lambda w: f"/api/v1/kpi-measurements/{_first_pk(Measurement)()}/", None
    ),
    api("scorecards", "admin", lambda w: "/api/v1/scorecards/"),
    api("scorecard", "admin", lambda w: f"/api/v1/scorecards/{_first_pk(Scorecard)()}/", None),
    api("teams", "admin", lambda w: "/api/v1/teams/"),
    api("team", "admin", lambda w: f"/api/v1/teams/{w.sales_team.pk}/", None),
    api("routing-rules", "sales_manager", lambda w: "/api/v1/routing-rules/"),
    api("routing of a lead", "sales_manager", lambda w: f"/api/v1/leads/{w.focus.pk}/routing/", None),
    api("time-off", "sales_manager", lambda w: "/api/v1/time-off/"),
    api("users", "admin", lambda w: "/api/v1/users/"),
    api("notifications", "sales_rep", lambda w: "/api/v1/notifications/"),
    api("notifications, unread", "sales_manager", lambda w: "/api/v1/notifications/?unread=true"),
    api("webhooks", "admin", lambda w: "/api/v1/webhooks/"),
    api("lead-forms", "marketer", lambda w: "/api/v1/lead-forms/"),
    api("inbound-hooks", "sales_manager", lambda w: "/api/v1/inbound-hooks/"),
    api("whatsapp-numbers", "admin", lambda w: "/api/v1/whatsapp-numbers/"),
    api("webhook deliveries", "admin", lambda w: f"/api/v1/webhooks/{_first_pk(Webhook)()}/deliveries/"),
    api("user", "admin", lambda w: f"/api/v1/users/{w.users['sales_rep'].pk}/", None),
    page("rejections", "marketing_manager", lambda w: "/leads/rejections/"),
    page("disputes", "marketing_manager", lambda w: "/leads/disputes/", None),
    api("disputes", "marketing_manager", lambda w: "/api/v1/disputes/", None),
    api("breach cost", "sales_manager", lambda w: "/api/v1/insights/breach-cost/", None),
    api("capacity", "sales_manager", lambda w: "/api/v1/insights/capacity/", None),
]


# One more target of each metric on the KPI page and the sales manager's dashboard: the
# cost per target in force (see the module's docstring).
def _one_more_target(metric: str) -> Callable[[World], None]:
    def add(world: World) -> None:
        kpi = kpi_services.kpi_create(by=world.manager, name=f"One more {metric}", metric=metric, team=world.sales_team)
        kpi_services.target_create(
            by=world.manager, kpi=kpi, team=world.sales_team, period="month", period_start=date(2026, 8, 1), target=1
        )

    return add


def _one_more_quota(rep: str, period: str, start: date) -> Callable[[World], None]:
    def add(world: World) -> None:
        kpi_services.target_create(
            by=world.manager,
            kpi=world.kpis["quota"],
            user=world.users[rep],
            period=period,
            period_start=start,
            target=Decimal(10**8),
        )

    return add


@dataclass(frozen=True)
class MarginalCase:
    """What one more target (`add`) adds to the request's count."""

    name: str
    actor: str
    url: Callable[[World], str]
    add: Callable[[World], None]
    api: bool = False


MARGINAL_CASES = [
    *[
        MarginalCase(
            f"page KPIs, one more target: {metric}", "sales_manager", lambda w: "/kpis/", _one_more_target(metric)
        )
        for metric in Metric.values
    ],
    MarginalCase(
        "page KPIs, one more target: a rep's quota",
        "sales_manager",
        lambda w: "/kpis/",
        _one_more_quota("other_rep", "quarter", date(2026, 7, 1)),
    ),
    MarginalCase(
        "page dashboard (sales_manager), one more target: revenue_won",
        "sales_manager",
        lambda w: "/",
        _one_more_target(Metric.REVENUE_WON),
    ),
    MarginalCase(
        "page dashboard (sales_rep), one more quota of theirs",
        "sales_rep",
        lambda w: "/",
        _one_more_quota("sales_rep", "month", date(2026, 8, 1)),
    ),
]


# -- measuring -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Measured:
    statements: list[str]
    rows: int  # what the case's `rows` counts in the answer

    @property
    def count(self) -> int:
        return len(self.statements)


def _client(world: World, actor: str, *, api: bool) -> Client | APIClient:
    user = world.users[actor]
    if api:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=user).key}")
    else:
        client = Client()
        client.force_login(user)
    return client


def _measure(client: Client | APIClient, url: str, rows: str | None = None) -> Measured:
    client.get(url)  # warm up: the session, and what a process loads once (content types, holidays)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, f"GET {url} answered {response.status_code}"
    return Measured([query["sql"] for query in queries.captured_queries], _rows_seen(response, rows))


def _rows_seen(response, rows: str | None) -> int:
    if not rows:
        return 0
    return response.json()["count"] if rows == "count" else response.content.decode().count(rows)


def _measure_case(client: Client | APIClient, url: str, rows: str | None = None) -> Measured | str:
    """The measurement, or the traceback of what went wrong (reported by the case's test).
    In a savepoint, so that a failed request leaves the shared transaction usable."""
    try:
        with transaction.atomic():
            return _measure(client, url, rows)
    except Exception:  # any failure belongs to this case alone
        return traceback.format_exc()


# The focus lead's follow-ups before the leads: their sweep then sees them in time, as it would have.
GROWERS = (
    slas,
    activity,
    leads,
    campaigns,
    kpis,
    targets,
    measurements,
    scorecards,
    teams,
    members,
    users,
    routing,
    time_off,
    notifications,
    webhooks,
    intake,
    captured_mail,
)


def _measure_everything() -> dict[str, Any]:
    """Every case at both sizes, then what one more target costs: {name: {size: Measured}}
    and {name: (before, after)}, each value possibly a traceback instead."""
    world = _world()
    clients = {(case.actor, case.api): None for case in [*CASES, *MARGINAL_CASES]}
    clients = {key: _client(world, key[0], api=key[1]) for key in clients}
    found: dict[str, Any] = {case.name: {} for case in CASES}
    for size in SIZES:
        for grow in GROWERS:
            grow(world, size)
        for case in CASES:
            found[case.name][size] = _measure_case(clients[case.actor, case.api], case.url(world), case.rows)
    before: dict[tuple, Measured | str] = {}  # every addition is rolled back: one "before" per page
    for case in MARGINAL_CASES:
        client, url = clients[case.actor, case.api], case.url(world)
        if (case.actor, url) not in before:
            before[case.actor, url] = _measure_case(client, url)
        point = transaction.savepoint()
        try:
            case.add(world)
            found[case.name] = (before[case.actor, url], _measure_case(client, url))
        finally:
            transaction.savepoint_rollback(point)
    return found


@pytest.fixture(scope="module")
def measured(django_db_setup, django_db_blocker) -> dict[str, Any]:
    """Everything measured once for the module, in a transaction rolled back afterwards."""
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        time_machine.travel(NOW, tick=False),
        override_settings(PASSWORD_HASHERS=fast),
        transaction.atomic(),
    ):
        try:
            return _measure_everything()
        finally:
            transaction.set_rollback(True)


# -- baselines -------------------------------------------------------------------------------
def _load() -> dict[str, dict[str, int]]:
    return json.loads(BASELINES.read_text(encoding="utf-8")) if BASELINES.exists() else {}


def _record(name: str, count: int) -> None:
    """Write one case's count for this database, dropping cases that no longer exist."""
    data = _load()
    known = {case.name for case in [*CASES, *MARGINAL_CASES]}
    vendor = {**data.get(connection.vendor, {}), name: count}
    data[connection.vendor] = {key: value for key, value in vendor.items() if key in known}
    BASELINES.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def _normalise(sql: str) -> str:
    """A statement with its values blanked, so that repeats of one query look alike."""
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r"\d+(?:\.\d+)?", "?", sql)  # numbers, and the numbers in aliases and savepoint names
    return re.sub(r"\?(?:, \?)+", "?, …", sql)


def _listing(statements: list[str]) -> str:
    return "\n".join(f"{number:>4}. {sql}" for number, sql in enumerate(statements, 1))


def _repeats(fewer: list[str], more: list[str]) -> str:
    before, after = Counter(map(_normalise, fewer)), Counter(map(_normalise, more))
    grown = sorted(((after[sql] - before[sql], sql) for sql in after if after[sql] > before[sql]), reverse=True)
    return "\n".join(f"  +{extra} × {sql}" for extra, sql in grown) or "  (none repeats: the statements differ)"


def _compare(name: str, count: int, *, measured: str, statements: list[str]) -> None:
    """Assert `count` is the number recorded for `name` on this database, or record it."""
    if RECORDING:
        _record(name, count)
        return
    vendor = connection.vendor
    recorded = _load().get(vendor)
    assert recorded, (
        f"No query baselines are recorded for {vendor} in {BASELINES.name}: record them with "
        f"QUERY_BASELINES=record (see the docstring of {Path(__file__).name})."
    )
    assert recorded.get(name) == count, (
        f"{name!r} on {vendor}: recorded {recorded.get(name, 'nothing')}, measured {count} ({measured}). "
        f"If the change is intended, re-record with QUERY_BASELINES=record.\n"
        f"The {len(statements)} statements of the request:\n{_listing(statements)}"
    )


def _succeeded(name: str, result: Measured | str) -> Measured:
    if isinstance(result, str):
        pytest.fail(f"{name!r} could not be measured:\n{result}")
    return result


# -- the tests -------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_query_count_is_constant_and_recorded(measured, case):
    small, large = (_succeeded(case.name, measured[case.name][size]) for size in SIZES)
    if case.rows:
        assert large.rows > small.rows, (
            f"{case.name!r}: the answer did not grow from {SIZES[0]} to {SIZES[1]} rows ({case.rows!r}: "
            f"{small.rows} → {large.rows}): the case does not see the rows that grow."
        )
    assert small.count == large.count, (
        f"{case.name!r} is not constant: {small.count} queries at {SIZES[0]} rows, {large.count} at "
        f"{SIZES[1]} (an N+1?). Statements that repeat more at {SIZES[1]} rows:\n"
        f"{_repeats(small.statements, large.statements)}\n"
        f"The {large.count} statements at {SIZES[1]} rows:\n{_listing(large.statements)}"
    )
    _compare(
        case.name,
        large.count,
        measured=f"{large.count} queries at {SIZES[0]} and at {SIZES[1]} rows",
        statements=large.statements,
    )


@pytest.mark.parametrize("case", MARGINAL_CASES, ids=[case.name for case in MARGINAL_CASES])
def test_cost_of_one_more_target(measured, case):
    """What one more target adds to a page: the same at any amount of data, but paid per
    target. Recorded like a count, as the difference between two requests."""
    before, after = (_succeeded(case.name, result) for result in measured[case.name])
    extra = after.count - before.count
    assert extra >= 0, f"{case.name!r}: one more target saved {-extra} queries?"
    _compare(
        case.name,
        extra,
        measured=f"{before.count} → {after.count} queries; what repeats more:\n"
        f"{_repeats(before.statements, after.statements)}\n",
        statements=after.statements,
    )
