"""The assignment SLA (SPEC §3.4): from a lead's creation without an owner to its first
assignment, owed by the sales team and never by a rep."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kpis import metrics
from kpis.metrics import Scope
from kpis.scorecards import card_metrics
from leads import services as leads
from leads.models import Lead
from leads.services.importing import leads_import
from slas import services
from slas.digests import digest_for
from slas.models import Breach, Clock, Sla
from slas.selectors import breach_list, urgent_clocks
from teams import services as teams_services
from teams.models import Role
from tests.factories import UserFactory
from tests.slas.conftest import ACTIVE_FROM, jkt

pytestmark = pytest.mark.django_db


def created(users, sales_team, at, **fields) -> Lead:
    return leads.lead_create(by=users["sales_manager"], team=sales_team, name="PT Baru", now=at, **fields)


def test_a_lead_created_without_an_owner_starts_the_teams_clock_in_business_time(users, sales_team, assignment_sla):
    lead = created(users, sales_team, jkt(2026, 8, 7, 16))  # a Friday, an hour before closing
    clock = Clock.objects.get()
    assert (clock.lead, clock.kind, clock.owner, clock.assignment, clock.team) == (
        lead,
        "assignment",
        None,
        None,
        sales_team,
    )
    assert (clock.started_at, clock.due_at, clock.state) == (jkt(2026, 8, 7, 16), jkt(2026, 8, 10, 10), "running")
    assert clock.warn_at == jkt(2026, 8, 10, 9, 30)  # 75 % of two business hours


def test_a_lead_created_with_an_owner_never_waited_for_one(users, sales_team, assignment_sla):
    created(users, sales_team, jkt(2026, 8, 5, 9), owner=users["sales_rep"])
    assert not Clock.objects.filter(kind="assignment").exists()


def test_sources_and_the_active_date_decide_which_leads_it_governs(users, sales_team):
    services.sla_create(
        by=users["sales_manager"],
        team=sales_team,
        kind="assignment",
        name="Ads leads within 1 hour",
        target_value=1,
        target_unit="hours",
        sources=["ads"],
        now=ACTIVE_FROM,
    )
    created(users, sales_team, jkt(2026, 8, 5, 9), source="ads")
    created(users, sales_team, jkt(2026, 8, 5, 9), source="web")
    created(users, sales_team, jkt(2026, 6, 30, 9), source="ads")  # before it was in force
    assert list(Clock.objects.values_list("lead__source", "started_at")) == [("ads", jkt(2026, 8, 5, 9))]


def test_assigned_in_time_is_met_and_the_reps_own_clock_starts_only_then(
    users, sales_team, assignment_sla, response_sla
):
    lead = created(users, sales_team, jkt(2026, 8, 5, 9))
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=jkt(2026, 8, 5, 10, 45))
    waiting = Clock.objects.get(kind="assignment")
    assert (waiting.state, waiting.satisfied_at) == ("met", jkt(2026, 8, 5, 10, 45))
    response = Clock.objects.get(kind="response")
    assert (response.owner, response.started_at) == (users["sales_rep"], jkt(2026, 8, 5, 10, 45))
    # Handing it on later neither cancels nor reopens routing's clock.
    leads.lead_assign(lead=lead, owner=users["other_rep"], by=users["sales_manager"], now=jkt(2026, 8, 5, 15))
    assert Clock.objects.get(kind="assignment").state == "met"
    assert services.sla_sweep(now=jkt(2026, 8, 10, 9)).assignment == 0


def test_unassigned_at_the_deadline_the_team_is_breached_once_and_a_late_assignment_resolves_it(
    users, sales_team, assignment_sla
):
    lead = created(users, sales_team, jkt(2026, 8, 5, 9))
    assert services.sla_sweep(now=jkt(2026, 8, 5, 10, 59)).total == 0
    result = services.sla_sweep(now=jkt(2026, 8, 5, 11))
    assert (result.assignment, result.response) == (1, 0)
    breach = Breach.objects.get()
    assert (breach.kind, breach.lead, breach.team, breach.responsible_user, breach.responsible_team) == (
        "assignment",
        lead,
        sales_team,
        None,
        sales_team,
    )
    assert (breach.due_at, breach.expected, breach.actual, breach.resolved_at) == (jkt(2026, 8, 5, 11), 1, 0, None)
    assert Clock.objects.get().state == "breached"
    assert services.sla_sweep(now=jkt(2026, 8, 6, 9)).total == 0
    assert services.sla_sweep(now=jkt(2026, 8, 6, 9), full=True).total == 0
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=jkt(2026, 8, 6, 9, 30))
    leads.lead_assign(lead=lead, owner=users["other_rep"], by=users["sales_manager"], now=jkt(2026, 8, 6, 12))
    breach.refresh_from_db()
    assert breach.resolved_at == jkt(2026, 8, 6, 9, 30)  # the first assignment after the deadline
    assert Breach.objects.count() == 1


def test_a_late_sweep_records_exactly_what_an_on_time_one_would(users, sales_team, assignment_sla):
    on_time = created(users, sales_team, jkt(2026, 8, 5, 9))
    late = created(users, sales_team, jkt(2026, 8, 5, 9))
    never = created(users, sales_team, jkt(2026, 8, 5, 16))
    leads.lead_assign(lead=on_time, owner=users["sales_rep"], by=users["sales_manager"], now=jkt(2026, 8, 5, 11))
    leads.lead_assign(lead=late, owner=users["sales_rep"], by=users["sales_manager"], now=jkt(2026, 8, 5, 11, 1))
    services.sla_sweep(now=jkt(2026, 8, 20, 9))  # the workers were down for two weeks
    found = {b.lead_id: (b.due_at, b.resolved_at) for b in Breach.objects.all()}
    assert found == {late.pk: (jkt(2026, 8, 5, 11), jkt(2026, 8, 5, 11, 1)), never.pk: (jkt(2026, 8, 6, 10), None)}
    services.sla_sweep(now=jkt(2026, 8, 21, 9), full=True)
    assert Breach.objects.count() == 2
    assert dict(Clock.objects.values_list("lead_id", "state")) == {
        on_time.pk: "met",
        late.pk: "breached",
        never.pk: "breached",
    }


def test_a_lead_closed_before_anyone_got_it_needs_no_rep(users, sales_team, assignment_sla):
    spam = created(users, sales_team, jkt(2026, 8, 5, 9))
    leads.lead_reject(lead=spam, by=users["sales_manager"], reason="spam", now=jkt(2026, 8, 5, 9, 30))
    clock = Clock.objects.get()
    assert (clock.state, clock.cancel_reason, clock.cancelled_at) == ("cancelled", "closed", jkt(2026, 8, 5, 9, 30))
    assert services.sla_sweep(now=jkt(2026, 8, 20, 9)).total == 0
    assert services.sla_sweep(now=jkt(2026, 8, 20, 9), full=True).total == 0


def test_an_auto_routed_team_meets_it_at_creation_and_nobody_available_lets_it_run(users, sales_team, assignment_sla):
    teams_services.team_auto_route_set(team=sales_team, by=users["sales_manager"], on=True)
    routed = created(users, sales_team, jkt(2026, 8, 5, 9))
    clock = Clock.objects.get(lead=routed)
    assert routed.owner is not None
    assert (clock.state, clock.satisfied_at) == ("met", jkt(2026, 8, 5, 9))
    for rep in (users["sales_rep"], users["other_rep"]):
        teams_services.user_away_set(user=rep, by=rep, away=True)
    stuck = created(users, sales_team, jkt(2026, 8, 5, 10))
    assert stuck.owner is None
    assert Clock.objects.get(lead=stuck).state == "running"
    services.sla_sweep(now=jkt(2026, 8, 5, 12))
    assert Breach.objects.get().lead == stuck


def test_an_import_starts_clocks_for_the_rows_without_an_owner(users, sales_team, assignment_sla):
    rows = "name,email,owner\nPT Satu,satu@example.com,\nPT Dua,dua@example.com,rep1\n"
    report = leads_import(
        file=io.BytesIO(rows.encode()), team=sales_team, by=users["sales_manager"], now=jkt(2026, 8, 5, 9)
    )
    assert report.ok, report.errors
    assert list(Clock.objects.values_list("lead__name", "state", "started_at")) == [
        ("PT Satu", "running", jkt(2026, 8, 5, 9))
    ]


def test_the_unassigned_leads_badge_is_the_teams_clock(users, sales_team, assignment_sla):
    lead = created(users, sales_team, jkt(2026, 8, 5, 9))
    assert urgent_clocks(leads=[lead])[lead.pk].kind == "assignment"
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=jkt(2026, 8, 5, 10))
    lead.refresh_from_db()
    assert lead.pk not in urgent_clocks(leads=[lead])  # the rep's clocks now (none here)


def test_compliance_is_the_teams_and_never_a_reps(users, sales_team, assignment_sla):
    leads_made = [created(users, sales_team, jkt(2026, 8, 3, 9)) for _ in range(4)]
    for lead, at in zip(leads_made[:3], (jkt(2026, 8, 3, 10), jkt(2026, 8, 3, 10), jkt(2026, 8, 4, 9)), strict=True):
        leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=at)
    services.sla_sweep(now=jkt(2026, 8, 10))
    waived = Breach.objects.get(lead=leads_made[3])
    services.breach_waive(breach=waived, by=users["sales_manager"], reason="Test lead", now=jkt(2026, 8, 10))
    team, rep = Scope(team=sales_team), Scope(user=users["sales_rep"])
    start, end = jkt(2026, 8, 1), jkt(2026, 9, 1)
    assert metrics.assignment_sla_compliance(team, start, end) == pytest.approx(2 / 3)
    assert metrics.assignment_sla_compliance(rep, start, end) is None
    assert metrics.breaches(rep, start, end) == 0  # a rep is never blamed for routing
    card = card_metrics(team=sales_team, first=start.date(), last=(end - timedelta(days=1)).date())
    assert card["assignment_sla_compliance"] == pytest.approx(2 / 3)
    assert card["median_time_to_assign_hours"] == pytest.approx(1)  # 1 h, 1 h, 24 h (4th never assigned)
    assert not breach_list(user=users["sales_rep"]).exists()
    assert breach_list(user=users["sales_manager"]).count() == 2


def test_the_managers_digest_shows_routing_and_the_reps_does_not(users, sales_team, assignment_sla):
    created(users, sales_team, jkt(2026, 8, 4, 9))
    services.sla_sweep(now=jkt(2026, 8, 10))
    week = jkt(2026, 8, 3).date()
    manager = digest_for(user=users["sales_manager"], team=sales_team, week_start=week, now=jkt(2026, 8, 10, 9))
    side = manager.sales[0]
    assert (side.assignment, side.assignment_breaches, side.breaches) == (0.0, 1, 0)
    assert not manager.is_empty
    assert manager.by_rep == [(str(sales_team), 1)]
    rep = digest_for(user=users["sales_rep"], team=sales_team, week_start=week, now=jkt(2026, 8, 10, 9))
    assert rep.breaches == [] and rep.is_empty


def test_defining_one_needs_a_target_and_a_sales_manager(users, sales_team):
    with pytest.raises(ValidationError) as error:
        services.sla_create(by=users["sales_manager"], team=sales_team, kind="assignment", name="No target")
    assert set(error.value.message_dict) >= {"target_value", "target_unit"}
    sla = services.sla_create(
        by=users["sales_manager"],
        team=sales_team,
        kind="assignment",
        name="Within 30 minutes",
        target_value=30,
        target_unit="minutes",
        min_touches=5,  # of another kind: cleared
    )
    assert (sla.target_value, sla.target_unit, sla.min_touches) == (30, "minutes", None)
    assert not Sla.objects.filter(name="No target").exists()


def test_the_api_takes_an_assignment_sla_and_refuses_bad_terms(api_as, users, sales_team):
    body = {"name": "Within 2 hours", "kind": "assignment", "team": sales_team.pk, "target_value": 2}
    client = api_as(users["sales_manager"])
    missing = client.post("/api/v1/slas/", body, format="json")
    assert missing.status_code == 400 and "target_unit" in missing.json()
    made = client.post("/api/v1/slas/", {**body, "target_unit": "business_hours"}, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["kind"] == "assignment"
    refused = api_as(users["marketing_manager"]).post("/api/v1/slas/", {**body, "target_unit": "hours"}, format="json")
    assert refused.status_code == 403
    assert Sla.objects.count() == 1


def test_the_form_offers_two_business_hours_and_the_lead_page_names_the_team(client, users, sales_team):
    client.force_login(users["sales_manager"])
    page = client.get(reverse("slas:create", args=["assignment"]))
    assert page.status_code == 200
    form = page.context["form"]
    assert (form["target_value"].initial, form["target_unit"].initial) == (2, "business_hours")
    response = client.post(
        reverse("slas:create", args=["assignment"]),
        {"name": "Reach a rep in 2 hours", "team": sales_team.pk, "target_value": 2, "target_unit": "business_hours"},
    )
    assert response.status_code == 302
    sla = Sla.objects.get()
    assert sla.kind == "assignment"
    lead = leads.lead_create(by=users["sales_manager"], team=sales_team, name="PT Tunggu")
    page = client.get(reverse("leads:detail", args=[lead.pk]))
    assert f"{sales_team}, waiting for a rep" in page.content.decode()


def test_a_rep_of_the_team_is_not_a_manager_here(users, sales_team):
    rep = UserFactory(role=Role.SALES_REP, team=sales_team)
    with pytest.raises(Exception) as refused:
        services.sla_create(
            by=rep, team=sales_team, kind="assignment", name="Mine", target_value=1, target_unit="hours"
        )
    assert refused.typename == "PermissionDenied"


def test_the_sweep_of_assignment_clocks_costs_the_same_at_10_and_at_1000_leads(users, sales_team, assignment_sla):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def load(n: int, at) -> None:
        made = Lead.objects.bulk_create([Lead(team=sales_team, name=f"PT {k}", created_at=at) for k in range(n)])
        services.clocks_start_unassigned(leads=made, now=at)
        half = made[: n // 2]
        leads.leads_assign_bulk(leads=half, owner=users["sales_rep"], by=users["sales_manager"], now=at)

    def count(now) -> int:
        with CaptureQueriesContext(connection) as queries:
            services.sla_sweep(now=now)
        return len(queries)

    load(10, jkt(2026, 8, 5, 9))
    small = count(jkt(2026, 8, 6, 9))
    load(1000, jkt(2026, 8, 6, 9))
    large = count(jkt(2026, 8, 7, 9))
    assert small == large
    assert Breach.objects.filter(kind="assignment").count() == 5 + 500
    assert Clock.objects.filter(kind="assignment", state="met").count() == 5 + 500
