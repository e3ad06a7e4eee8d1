"""Every URL pattern × every actor × whose object, against SPEC §1 (roles) and §7 (API).

The expected answers live in `permission_matrix.yaml` beside this file; its header explains
the notation (actors, groups, profiles, `ok`, `login`, probes). Two guards keep the table
complete: a URL pattern without a row fails `test_every_url_pattern_has_a_row`, and a row whose
pattern is gone fails `test_every_row_matches_a_url_pattern`. Then `test_permission_matrix`
requests each row as each actor and names every actor whose answer differs from the table.
`test_a_refused_actor_is_refused_before_its_input_is_read` then sends every write an empty body,
and one whose every field is malformed, as each actor the table refuses (403/404): a role that
may not act must hear so whatever it sends, not learn what its input lacks (400, a form page or
a redirect with the form's errors), and the database must not change.

Adding a view or an API route
-----------------------------
1. Run this file: the first test names the new pattern (its namespaced URL name, such as
   `leads:touch` or `api:lead-assign`, or its route when it has no name).
2. Add a row under `routes:` in permission_matrix.yaml keyed by that name, with
   - `kwargs`: format strings over the objects of the `world` fixture below, e.g.
     `{pk: "{lead.pk}"}` (add an object to the world if none fits);
   - `get:` the answer of every actor, usually a profile (`*see_lead`) with overrides;
   - for a state-changing endpoint, `post:`/`patch:`/`delete:` with `data`, `expect` and,
     for a risky write, a `probe`: a function in PROBES reading what the request would change.
     Allowed actors (`ok`) must change it; refused ones must leave it as it was.
     Actors refused here (403/404) are refused with an empty or malformed body too; `invalid:`
     names the rare actor whose refusal depends on what it sends, with its answer to such a body.
3. Write what SPEC §1 says the answer should be, not what the code answers today: another
   rep's or team's object is 404, an action a role may see but not do is 403, anonymous pages
   redirect to the login page and the anonymous API answers 401 (DRF, token authentication first).

Each actor's request runs in a savepoint that is rolled back, so one world serves every
actor of a row and an allowed write never changes what the next actor sees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client, override_settings
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from simple_history.models import HistoricalChanges

from intake.models import InboundEvent, InboundHook, LeadForm, WhatsAppNumber
from kpis import services as kpi_services
from kpis.models import Kpi, Measurement, Scorecard, Target
from kpis.scorecards import scorecards_compute
from leads import services as lead_services
from leads.models import Assignment, Campaign, Dispute, ImportBatch, Lead, Touch
from notifications.models import Notification
from routing import services as routing_services
from routing.models import Decision, Rule
from slas import services as sla_services
from slas.models import Breach, Sla
from slas.services import notifications
from teams import services as team_services
from teams.models import ClosedDate, Role, Team, TimeOff, User
from tests.conftest import PASSWORD
from tests.factories import CampaignFactory, LeadFactory, MarketingTeamFactory, TeamFactory, UserFactory
from webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db

MATRIX = yaml.safe_load(Path(__file__).with_name("permission_matrix.yaml").read_text(encoding="utf-8"))
ACTORS: list[str] = MATRIX["actors"]
GROUPS: dict[str, list[str]] = MATRIX["groups"]
METHODS = ("get", "post", "patch", "delete")
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # as tests/conftest.py


# -- the URL map ------------------------------------------------------------------------------
def url_patterns(patterns=None, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    """(key, route) of every URL pattern, recursively: the key is the namespaced name, or the
    route for a pattern without a name. Format-suffix variants share their route's name."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace or "") if part)
            yield from url_patterns(entry.url_patterns, route, inner)
        else:
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield name or route, route


def _summarised(route: str) -> bool:
    return any(route.startswith(prefix) for prefix in MATRIX["summarised"])


def test_every_url_pattern_has_a_row():
    patterns = list(url_patterns())
    missing = sorted({key for key, route in patterns if key not in MATRIX["routes"] and not _summarised(route)})
    assert not missing, (
        "URL patterns without a row in tests/security/permission_matrix.yaml; add one per pattern "
        "(see the docstring of test_permission_matrix.py):\n  " + "\n  ".join(missing)
    )
    for prefix in MATRIX["summarised"]:
        represented = {key for key, route in patterns if route.startswith(prefix) and key in MATRIX["routes"]}
        assert represented, f"The summarised prefix {prefix!r} needs at least one representative row."


def test_every_row_matches_a_url_pattern():
    keys = {key for key, _route in url_patterns()}
    stale = sorted(set(MATRIX["routes"]) - keys)
    assert not stale, (
        "Rows of tests/security/permission_matrix.yaml that match no URL pattern any more "
        "(renamed or removed views?):\n  " + "\n  ".join(stale)
    )


# -- the table, expanded into one case per route, kwargs and method -----------------------------
@dataclass(frozen=True)
class Case:
    route: str
    method: str
    kwargs: dict[str, str]
    data: dict[str, Any] | None
    probe: str | None
    expect: dict[str, int | str]  # actor → code, "ok" or "login"
    ok: int
    invalid: dict[str, int]  # actor → answer to an empty or malformed body, where not `expect`

    @property
    def api(self) -> bool:
        return self.route.startswith("api:")


def _expectations(spec: dict[str, Any], *, api: bool, where: str) -> dict[str, int | str]:
    """Every actor's answer: an actor's own key beats a group, a smaller group a larger one."""
    resolved: dict[str, int | str] = dict(MATRIX["defaults"]["api" if api else "page"])
    rank: dict[str, int] = {actor: len(ACTORS) + 1 for actor in resolved}
    for key, value in sorted(spec.items(), key=lambda item: -len(GROUPS.get(item[0], [item[0]]))):
        members = GROUPS.get(key) or ([key] if key in ACTORS else None)
        if members is None:
            raise ValueError(f"{where}: {key!r} is neither an actor nor a group")
        for actor in members:
            if rank.get(actor) == len(members) and resolved[actor] != value:
                raise ValueError(f"{where}: two groups of the same size give {actor} different answers")
            resolved[actor], rank[actor] = value, len(members)
    missing = [actor for actor in ACTORS if actor not in resolved]
    if missing:
        raise ValueError(f"{where}: no expected answer for {', '.join(missing)}")
    return resolved


ROW_KEYS = {"kwargs", *METHODS}
BODY_KEYS = {"data", "probe", "expect", "ok", "invalid"}
REFUSALS = (403, 404)


def _case(route: str, number: int, variant: dict[str, Any], method: str) -> Case:
    where = f"{route}[{number}] {method.upper()}"
    spec = variant[method]
    body = spec if "expect" in spec else {"expect": spec}
    if set(body) - BODY_KEYS:
        raise ValueError(f"{where}: unknown keys {sorted(set(body) - BODY_KEYS)} (a typo?)")
    api = route.startswith("api:")
    if body.get("probe") is not None and body["probe"] not in PROBES:
        raise ValueError(f"{where}: unknown probe {body['probe']!r}")
    expect = _expectations(body["expect"], api=api, where=where)
    invalid = _invalid_answers(body.get("invalid", {}), where=where)
    if any(expect[actor] not in REFUSALS for actor in invalid):
        raise ValueError(f"{where}: `invalid` is only for actors the case refuses (403/404)")
    return Case(
        route=route,
        method=method,
        kwargs=variant.get("kwargs", {}),
        data=body.get("data"),
        probe=body.get("probe"),
        expect=expect,
        ok=body.get("ok", {"get": 200, "patch": 200, "delete": 204, "post": 201 if api else 302}[method]),
        invalid=invalid,
    )


def _invalid_answers(spec: dict[str, int], *, where: str) -> dict[str, int]:
    """`invalid:` expanded from groups to actors (an actor's own key beats its group's)."""
    answers: dict[str, int] = {}
    for key, value in sorted(spec.items(), key=lambda item: -len(GROUPS.get(item[0], [item[0]]))):
        members = GROUPS.get(key) or ([key] if key in ACTORS else None)
        if members is None:
            raise ValueError(f"{where} invalid: {key!r} is neither an actor nor a group")
        answers.update(dict.fromkeys(members, value))
    return answers


def _cases() -> Iterator[Any]:
    """One test per route, kwargs variant and method; a malformed row stops the collection."""
    for route, row in MATRIX["routes"].items():
        variants = row if isinstance(row, list) else [row]
        if not any("get" in variant for variant in variants):
            raise ValueError(f"{route}: every row says what GET answers")
        for number, variant in enumerate(variants):
            if set(variant) - ROW_KEYS:
                raise ValueError(f"{route}[{number}]: unknown keys {sorted(set(variant) - ROW_KEYS)} (a typo?)")
            for method in (method for method in METHODS if method in variant):
                case = _case(route, number, variant, method)
                yield pytest.param(case, id=f"{route}[{number}]-{method.upper()}")


# -- probes: what a refused request must leave alone ------------------------------------------------
def _row(model, pk, *fields: str) -> dict[str, Any]:
    return model.objects.filter(pk=pk).values(*fields).get()


PROBES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "lead": lambda w: (_row(Lead, w["lead"].pk), w["lead"].rejections.count()),
    "lead_owner": lambda w: (_row(Lead, w["lead"].pk, "owner"), Assignment.objects.filter(lead=w["lead"]).count()),
    "unassigned_owner": lambda w: (
        _row(Lead, w["unassigned_lead"].pk, "owner"),
        Assignment.objects.filter(lead=w["unassigned_lead"]).count(),
    ),
    "touches": lambda w: Touch.objects.filter(lead=w["lead"]).count(),
    "tap_outcome": lambda w: Touch.objects.filter(pk=w["tap"].pk).values_list("outcome", flat=True).first(),
    "leads": lambda w: Lead.objects.count(),
    "campaigns": lambda w: Campaign.objects.count(),
    "campaign": lambda w: _row(Campaign, w["campaign"].pk),
    "breach": lambda w: _row(Breach, w["breach"].pk),
    "slas": lambda w: Sla.objects.count(),
    "response_sla": lambda w: (_row(Sla, w["response_sla"].pk), w["response_sla"].history.count()),
    "volume_sla": lambda w: (_row(Sla, w["volume_sla"].pk), w["volume_sla"].history.count()),
    "kpis": lambda w: Kpi.objects.count(),
    "company_kpi": lambda w: _row(Kpi, w["company_kpi"].pk),
    "team_kpi": lambda w: _row(Kpi, w["team_kpi"].pk),
    "targets": lambda w: Target.objects.count(),
    "target": lambda w: _row(Target, w["target"].pk),
    "measurements": lambda w: Measurement.objects.count(),
    "measurement": lambda w: _row(Measurement, w["measurement"].pk),
    "teams": lambda w: Team.objects.count(),
    "sales_team": lambda w: _row(Team, w["sales_team"].pk),
    "closed_dates": lambda w: ClosedDate.objects.filter(team=w["sales_team"]).count(),
    "users": lambda w: User.objects.count(),
    "sales_rep_name": lambda w: _row(User, w["sales_rep"].pk, "first_name", "last_name", "email", "role", "team"),
    "sales_rep_digest": lambda w: _row(User, w["sales_rep"].pk, "digest_enabled"),
    "sales_rep_away": lambda w: _row(User, w["sales_rep"].pk, "away"),
    "time_offs": lambda w: TimeOff.objects.count(),
    "routing_rules": lambda w: Rule.objects.count(),
    "routing_rule": lambda w: _row(Rule, w["routing_rule"].pk, "name", "active", "position"),
    "routing_decisions": lambda w: Decision.objects.count(),
    "time_off": lambda w: TimeOff.objects.filter(pk=w["time_off"].pk).values("start", "end", "reason").first(),
    "notification": lambda w: _row(Notification, w["notification"].pk, "read_at"),
    "webhooks": lambda w: Webhook.objects.count(),
    "webhook": lambda w: _row(Webhook, w["webhook"].pk, "name", "secret"),
    "webhook_delivery": lambda w: _row(WebhookDelivery, w["webhook_delivery"].pk, "status", "retry_until"),
    "lead_forms": lambda w: LeadForm.objects.count(),
    "lead_form": lambda w: _row(LeadForm, w["lead_form"].pk, "name", "fields", "active"),
    "inbound_hooks": lambda w: InboundHook.objects.count(),
    "inbound_hook": lambda w: _row(InboundHook, w["inbound_hook"].pk, "name", "secret", "field_map"),
    "whatsapp_numbers": lambda w: WhatsAppNumber.objects.count(),
    "whatsapp_number": lambda w: _row(WhatsAppNumber, w["whatsapp_number"].pk, "name", "active"),
    "inbound_event": lambda w: _row(InboundEvent, w["inbound_event"].pk, "state", "attempts"),
    "disputes": lambda w: Dispute.objects.count(),
    "dispute": lambda w: _row(Dispute, w["dispute"].pk, "state", "ruled_at"),
}

CASES = list(_cases())


# -- one world of objects, built once for the module -------------------------------------------------
def _users() -> dict[str, User]:
    """The actors of tests/conftest.py's `users` (same names, roles and teams), built here because
    that fixture is per test and this world is per module."""
    sales, papua = TeamFactory(name="Sales Jakarta"), TeamFactory(name="Sales Jayapura", timezone="Asia/Jayapura")
    marketing = MarketingTeamFactory(name="Marketing")
    users = {
        "admin": UserFactory(username="admin", role=Role.ADMIN, team=None),
        "sales_manager": UserFactory(username="sales.manager", role=Role.SALES_MANAGER, team=sales),
        "marketing_manager": UserFactory(username="marketing.manager", role=Role.MARKETING_MANAGER, team=marketing),
        "sales_rep": UserFactory(username="rep1", role=Role.SALES_REP, team=sales),
        "other_rep": UserFactory(username="rep2", role=Role.SALES_REP, team=sales),
        "marketer": UserFactory(username="marketer1", role=Role.MARKETER, team=marketing),
        "other_manager": UserFactory(username="papua.manager", role=Role.SALES_MANAGER, team=papua),
        "other_team_rep": UserFactory(username="rep3", role=Role.SALES_REP, team=papua),
    }
    admin = users["admin"]
    admin.is_staff = admin.is_superuser = True  # as the demo's admin, so that the admin site opens
    admin.save(update_fields=["is_staff", "is_superuser"])
    return users


def _build_world() -> dict[str, Any]:
    """Everything the URL kwargs name, owned as SPEC §1 needs it: a lead of `sales_rep` in Sales
    Jakarta with a breached response SLA, an unassigned lead of the same team, a campaign and a
    volume SLA of the marketing team, KPIs (company and team), a target, a value, a scorecard, a
    closed date, an uploaded import waiting for `sales_rep`'s confirmation, and API tokens."""
    now, today = timezone.now(), timezone.localdate()
    first = today.replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    users = _users()
    admin, manager, rep = users["admin"], users["sales_manager"], users["sales_rep"]
    sales_team, marketing_team = rep.team, users["marketer"].team

    month_ago = now - timedelta(days=30)
    response_sla = sla_services.sla_create(
        by=manager, team=sales_team, kind="response", name="First touch within an hour",
        target_value=1, target_unit="hours", now=month_ago,
    )  # fmt: skip
    volume_sla = sla_services.sla_create(
        by=users["marketing_manager"], team=sales_team, kind="volume", name="50 leads per rep a month",
        from_team=marketing_team, now=month_ago,
    )  # fmt: skip
    campaign = CampaignFactory(name="Ramadan promo", team=marketing_team)
    lead = LeadFactory(
        name="Siti Rahma",
        team=sales_team,
        campaign=campaign,
        phone="+6281234567890",
        created_at=now - timedelta(days=2),
    )
    lead_services.lead_assign(lead=lead, owner=rep, by=manager, now=now - timedelta(days=2))
    sla_services.sla_sweep(now=now - timedelta(days=1))
    scorecards_compute(now=now, teams=[sales_team])

    webhook = Webhook.objects.create(name="Sales in Slack", url="https://hooks.example.com/x", events=["lead.created"])
    WebhookDelivery.objects.create(
        webhook=webhook, event="lead.created", subject_id=lead.pk, lead_id=lead.pk, status="failed", retry_until=now
    )
    lead_form = LeadForm.objects.create(name="Ask for a demo", team=sales_team, fields=["email"], language="en")
    inbound_hook = InboundHook.objects.create(name="Zapier", team=sales_team)
    whatsapp_number = WhatsAppNumber.objects.create(phone_number_id="1098765", team=sales_team)
    inbound_event = InboundEvent.objects.create(
        channel="form", endpoint=lead_form.pk, external_id="e1", payload={"name": "Rudi"}, state="failed",
        next_attempt_at=now, error="RuntimeError: the database was away",
    )  # fmt: skip
    company_kpi = kpi_services.kpi_create(by=admin, name="Revenue won", metric="revenue_won")
    team_kpi = kpi_services.kpi_create(by=manager, name="Demos booked", metric="manual", team=sales_team)
    # Two leads `sales_rep` rejected yesterday (SPEC §15): one to dispute, one disputed already.
    rejected_lead, disputed_lead = (
        LeadFactory(name=name, team=sales_team, owner=rep, campaign=campaign, created_at=now - timedelta(days=3))
        for name in ("Dewi Lestari", "Budi Hartono")
    )
    for rejected in (rejected_lead, disputed_lead):
        lead_services.lead_reject(lead=rejected, by=rep, reason="spam", now=now - timedelta(days=1))
    dispute = lead_services.dispute_raise(
        lead=disputed_lead, by=users["marketer"], note="A real buyer", now=now - timedelta(hours=12)
    )
    return {
        **users,
        "sales_team": sales_team,
        "other_sales_team": users["other_team_rep"].team,
        "marketing_team": marketing_team,
        "campaign": campaign,
        "lead": lead,
        # A call the rep has just tapped (SPEC §14): its undo and outcome.
        "tap": Touch.objects.create(
            lead=lead, user=rep, kind="call", origin="click", occurred_at=now, created_at=timezone.now()
        ),
        "unassigned_lead": LeadFactory(name="Agus Wijaya", team=sales_team, created_at=now - timedelta(hours=3)),
        "rejected_lead": rejected_lead,
        "dispute": dispute,
        "response_sla": response_sla,
        "volume_sla": volume_sla,
        "breach": Breach.objects.get(lead=lead),
        "company_kpi": company_kpi,
        "visitors_kpi": kpi_services.kpi_create(by=admin, name="Website visitors", metric="manual"),
        "team_kpi": team_kpi,
        "target": kpi_services.target_create(
            by=manager, kpi=company_kpi, team=sales_team, period="month", period_start=first, target=Decimal(10**8)
        ),
        "measurement": kpi_services.measurement_create(
            by=manager, kpi=team_kpi, team=sales_team, day=today, value=Decimal(5)
        ),
        "scorecard": Scorecard.objects.filter(team=sales_team, period="month").order_by("-period_start").first(),
        "closed_date": team_services.closed_date_add(team=sales_team, day=today + timedelta(days=60), name="Outing"),
        "routing_rule": routing_services.rule_create(
            by=manager, team=sales_team, name="Ads", sources=["ads"], members=[{"user": rep, "weight": 1}]
        ),
        "time_off": team_services.time_off_add(
            by=rep, user=rep, start=now + timedelta(days=7), end=now + timedelta(days=8), reason="Cuti"
        ),
        "import_batch": ImportBatch.objects.create(
            team=sales_team,
            created_by=rep,
            filename="leads.csv",
            rows=1,
            content=b"name,email\nBudi Santoso,budi.s@example.com\n",
        ),
        "notification": Notification.objects.get(user=rep, kind="lead_assigned", lead=lead),
        "lead_form": lead_form,
        "inbound_hook": inbound_hook,
        "whatsapp_number": whatsapp_number,
        "inbound_event": inbound_event,
        "webhook": webhook,
        "webhook_delivery": WebhookDelivery.objects.get(webhook=webhook, event="lead.created"),
        "unsubscribe_token": notifications.unsubscribe_token(user=rep, kind="digest"),
        "tokens": {name: Token.objects.create(user=user).key for name, user in users.items()},
        "sessions": {name: _session(user) for name, user in users.items()},
        "today": today,
        "next_month": next_month,
        "password": PASSWORD,
    }


def _session(user: User) -> str:
    """A signed-in session's key. Logging in once per module rather than once per request
    halves the run; each request's savepoint rolls back whatever it does to the session."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[dict[str, Any]]:
    """The world, built once in a transaction that is rolled back after the module: each test
    runs in a savepoint inside it (pytest-django), and each actor's request in one more."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(scope="module")
def clients() -> dict[str, Client]:
    """One page client and one API client for the module: a new client loads the whole
    middleware stack on its first request, which would cost more than the requests."""
    page, api = Client(), APIClient()
    page.raise_request_exception = api.raise_request_exception = False  # a server error is a 500 in the table
    return {"page": page, "api": api}


# -- requests ---------------------------------------------------------------------------------------
def _fill(value: Any, context: dict[str, Any]) -> Any:
    """Format the table's strings over the world; a {filename, content} mapping is an upload."""
    if isinstance(value, str):
        return value.format(**context)
    if isinstance(value, list):
        return [_fill(item, context) for item in value]
    if isinstance(value, dict) and set(value) != {"filename", "content"}:
        return {key: _fill(item, context) for key, item in value.items()}
    if isinstance(value, dict):
        content = _fill(value["content"], context).encode()
        return SimpleUploadedFile(value["filename"], content, content_type="text/csv")
    return value


def _client(clients: dict[str, Client], case: Case, actor: str, world: dict[str, Any]) -> Client:
    """The shared client, signed in as `actor` (a session for pages, a token for the API)."""
    client = clients["api" if case.api else "page"]
    client.cookies.clear()
    if case.api:
        client.credentials(
            **({} if actor == "anonymous" else {"HTTP_AUTHORIZATION": f"Token {world['tokens'][actor]}"})
        )
    elif actor != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world["sessions"][actor]
    return client


def _request(client: Client, case: Case, actor: str, world: dict[str, Any], *, body: str = "table"):
    """The case's request as `actor`. A write sends the table's `data`, or with `body` "empty"
    nothing at all, or "malformed" the same fields, each a NUL character: no Django or DRF field
    takes it (text refuses NUL, a number, date, choice or key cannot parse it, a file is missing)."""
    me = world.get(actor)
    team = me.team if me is not None and me.team_id else world["sales_team"]
    context = {
        **world,
        "me": me or SimpleNamespace(pk="", team_id=""),
        "my_team": team.pk,
        "my_sales_team": team.pk if team.kind == Team.Kind.SALES else world["sales_team"].pk,
    }
    url = reverse(case.route, kwargs={name: _fill(value, context) for name, value in case.kwargs.items()})
    if case.method == "get":
        return client.get(url)
    send = getattr(client, case.method)
    if body == "empty":
        return send(url)
    data = {_fill(name, context): _fill(value, context) for name, value in (case.data or {}).items()}
    upload = any(isinstance(value, SimpleUploadedFile) for value in data.values())
    if body == "malformed":
        data = dict.fromkeys(data, "\x00")
    if not case.api:
        return send(url, data)
    return send(url, data, format="multipart" if upload else "json")


def _answer(response) -> int | str:
    """The status code, or "login" for a redirect to the login page."""
    if response.streaming:
        b"".join(response.streaming_content)  # a CSV export fails while streaming, not before
    if response.status_code == 302 and response["Location"].split("?")[0] == resolve_url(settings.LOGIN_URL):
        return "login"
    return response.status_code


@pytest.fixture(autouse=True)
def _a_receiver_on_this_machine(settings):
    """The webhook rows name a receiver on 127.0.0.1, which a real install refuses unless allowed."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    # Every actor posts the same lead form from the same address; its rate limit is tested apart.
    settings.FORM_RATE_PER_MINUTE = 10_000


@pytest.mark.parametrize("case", CASES)
def test_permission_matrix(case: Case, world, clients):
    """Each actor gets the table's answer, and a probed write changes the database exactly
    for the actors allowed to make it."""
    cache.clear()  # the token endpoint's throttle counts in the cache
    probe = PROBES[case.probe] if case.probe else None
    wrong = []
    for actor in ACTORS:
        expected = case.expect[actor]
        with transaction.atomic():
            client = _client(clients, case, actor, world)
            before = probe(world) if probe else None
            got = _answer(_request(client, case, actor, world))
            after = probe(world) if probe else None
            transaction.set_rollback(True)
        want = case.ok if expected == "ok" else expected
        if got != want:
            wrong.append(f"{actor}: expected {want}, got {got}")
        elif probe and expected == "ok" and before == after:
            wrong.append(f"{actor}: answered {got} but changed nothing ({case.probe})")
        elif probe and expected != "ok" and before != after:
            wrong.append(f"{actor}: answered {got} yet changed the database ({case.probe}): {before} → {after}")
    url = case.route + (f" {case.kwargs}" if case.kwargs else "")
    assert not wrong, f"{case.method.upper()} {url}:\n  " + "\n  ".join(wrong)


# -- refused before the input is read ----------------------------------------------------------
FINGERPRINTED_APPS = ("teams", "leads", "slas", "kpis", "authtoken")


def _database() -> dict[str, list[tuple]]:
    """Every row of the project's tables (and API tokens), to tell whether a request wrote
    anything at all: the world is small enough to read whole, and a refused request may not
    change a single row, whatever a probe would have looked at. History tables are left out
    (half the reading): a history row is only written with a change to the row it records."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values_list())
        for app in FINGERPRINTED_APPS
        for model in apps.get_app_config(app).get_models()
        if not model._meta.proxy and not issubclass(model, HistoricalChanges)
    }


def _changed(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> list[str]:
    return sorted(label for label in before if before[label] != after[label])


def _refusal_cases() -> Iterator[Any]:
    """Every write refusing some actor, with an empty body and, where the table sends fields,
    with those fields malformed (an empty PATCH is valid input, a malformed one is not)."""
    for param in CASES:
        case = param.values[0]
        if case.method == "get" or not set(case.expect.values()) & set(REFUSALS):
            continue
        for body in ("empty", "malformed") if case.data else ("empty",):
            yield pytest.param(case, body, id=f"{param.id}-{body}")


@pytest.mark.parametrize(("case", "body"), list(_refusal_cases()))
def test_a_refused_actor_is_refused_before_its_input_is_read(case: Case, body: str, world, clients):
    """A write sent with an empty or malformed body by each actor the table refuses answers that
    refusal (403 or 404), not 400, 200, a form page or a redirect carrying the form's errors, and
    writes nothing: the permission is asked before the form or serializer reads the input."""
    cache.clear()
    before = _database()  # each actor's request is rolled back: the same before every one
    wrong = []
    for actor in (actor for actor in ACTORS if case.expect[actor] in REFUSALS):
        want = case.invalid.get(actor, case.expect[actor])
        with transaction.atomic():
            client = _client(clients, case, actor, world)
            got = _answer(_request(client, case, actor, world, body=body))
            changed = _changed(before, _database())
            transaction.set_rollback(True)
        if got != want:
            wrong.append(f"{actor}: expected {want}, got {got}")
        if changed:
            wrong.append(f"{actor}: answered {got} yet changed {', '.join(changed)}")
    url = case.route + (f" {case.kwargs}" if case.kwargs else "")
    assert not wrong, f"{case.method.upper()} {url}, {body} body:\n  " + "\n  ".join(wrong)


def test_the_database_fingerprint_sees_any_write(world):
    """The fingerprint can fail: a one-field update of a row no probe reads shows up."""
    before = _database()
    Lead.objects.filter(pk=world["unassigned_lead"].pk).update(phone="+62 811 000 000")
    assert _changed(before, _database()) == ["leads.Lead"]


def test_an_actor_beats_a_group_and_a_smaller_group_a_larger_one():
    spec = {"other_rep": 404, "other_team": 404, "signed_in": 200, "everyone": 302}
    answers = _expectations(spec, api=False, where="test")
    assert (answers["anonymous"], answers["sales_rep"]) == (302, 200)
    assert answers["other_rep"] == answers["other_manager"] == answers["other_team_rep"] == 404
    assert _expectations({"signed_in": 200}, api=True, where="test")["anonymous"] == 401
    with pytest.raises(ValueError, match="no expected answer for other_team_rep"):
        _expectations(dict.fromkeys(ACTORS[1:-1], 200), api=False, where="test")
    with pytest.raises(ValueError, match="neither an actor nor a group"):
        _expectations({"signed_in": 200, "sales_reps": 403}, api=False, where="test")


def test_a_refused_write_is_caught_by_its_probe(world):
    """The probes can fail: a lead reassigned behind the table's back shows up in `lead_owner`."""
    before = PROBES["lead_owner"](world)
    lead_services.lead_assign(
        lead=Lead.objects.get(pk=world["lead"].pk), owner=world["other_rep"], by=world["sales_manager"]
    )
    assert PROBES["lead_owner"](world) != before


def test_the_world_is_what_the_table_assumes(world):
    """Ownership the expected answers rest on, so a fixture change cannot quietly flip them."""
    lead, rep = world["lead"], world["sales_rep"]
    assert (lead.owner_id, lead.team_id) == (rep.pk, rep.team_id)
    assert world["breach"].responsible_user_id == rep.pk and world["breach"].team_id == rep.team_id
    assert world["unassigned_lead"].owner_id is None
    assert world["other_rep"].team_id == rep.team_id and world["other_manager"].team_id != rep.team_id
    assert world["volume_sla"].from_team_id == world["marketing_manager"].team_id == world["campaign"].team_id
    assert world["team_kpi"].team_id == world["target"].team_id == world["scorecard"].team_id == rep.team_id
    for rejected in (world["rejected_lead"], world["dispute"].lead):
        assert (rejected.status, rejected.owner_id, rejected.team_id) == ("rejected", rep.pk, rep.team_id)
    assert world["dispute"].state == "open" and world["dispute"].raised_by_id == world["marketer"].pk
    assert isinstance(world["today"], date)
