"""The routing engine (SPEC §11): sticky owners, rules, methods, caps, the team in turn, nobody;
every decision recorded with whom it passed over and why. Every test injects `now`."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads import services as lead_services
from leads.models import Lead, Status
from routing import services
from routing.models import Decision, Member, Rule
from teams import services as team_services
from tests.factories import CampaignFactory, LeadFactory, UserFactory

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 6, 10, 10, 0, tzinfo=JAKARTA)  # a Wednesday morning


@pytest.fixture
def reps(users, sales_team):
    """Four reps of Sales Jakarta: the fixture's two and two more."""
    extra = [UserFactory(username=f"rep.{n}", team=sales_team) for n in (4, 5)]
    return [users["sales_rep"], users["other_rep"], *extra]


def route(team, *, now=NOW, **fields) -> Decision:
    lead = LeadFactory(team=team, created_at=now, **fields)
    return lead_services.leads_route(leads=[lead], now=now)[0]


def rule(team, by, members, **fields) -> Rule:
    members = [m if isinstance(m, dict) else {"user": m, "weight": 1} for m in members]
    return services.rule_create(
        by=by, team=team, name=fields.pop("name", f"Rule {Rule.objects.count()}"), members=members, **fields
    )


# -- the team in turn ------------------------------------------------------------------------------
def test_without_rules_the_team_gets_leads_in_turn_around_a_rep_on_leave(reps, sales_team, users):
    team_services.time_off_add(
        by=users["sales_manager"], user=reps[1], start=NOW - timedelta(hours=2), end=NOW + timedelta(hours=2)
    )
    decisions = [route(sales_team) for _ in range(6)]
    assert [d.owner_id for d in decisions] == [reps[0].pk, reps[2].pk, reps[3].pk] * 2
    assert {d.step for d in decisions} == {"default"}
    assert decisions[0].skipped == [{"user": reps[1].pk, "reason": "time_off"}]
    assert Lead.objects.filter(owner=reps[1]).count() == 0
    # Back from leave, the rep takes the next turn once, then the turns go round as before.
    later = NOW + timedelta(hours=3)
    assert [route(sales_team, now=later).owner_id for _ in range(4)] == [reps[1].pk, reps[0].pk, reps[2].pk, reps[3].pk]


def test_nobody_available_leaves_the_lead_unassigned_and_says_why(reps, sales_team):
    for rep in reps:
        team_services.user_away_set(user=rep, by=rep, away=True)
    decision = route(sales_team)
    assert decision.step == "none" and decision.owner_id is None
    assert sorted(s["user"] for s in decision.skipped) == sorted(r.pk for r in reps)
    assert Lead.objects.get(pk=decision.lead_id).owner_id is None


# -- sticky owners ---------------------------------------------------------------------------------
def test_a_known_email_or_phone_goes_to_the_owner_of_the_open_lead_unless_they_are_away(reps, sales_team):
    known = LeadFactory(team=sales_team, email="siti@pt-maju.co.id", phone="+6281234567890", owner=reps[2])
    assert route(sales_team, email="siti@pt-maju.co.id").owner_id == reps[2].pk
    decision = route(sales_team, email="other@example.com", phone="+6281234567890")
    assert (decision.step, decision.owner_id) == ("sticky", reps[2].pk)
    upper = LeadFactory(team=sales_team, email="budi@example.com", owner=reps[3])
    lead = Lead.objects.create(team=sales_team, name="Budi", email="BUDI@example.com", created_at=NOW)
    assert lead_services.leads_route(leads=[lead], now=NOW)[0].owner_id == upper.owner_id  # case-insensitive
    team_services.user_away_set(user=reps[2], by=reps[2], away=True)
    fallen = route(sales_team, email="siti@pt-maju.co.id")
    assert fallen.step == "default" and fallen.owner_id != reps[2].pk
    assert {"user": reps[2].pk, "reason": "away"} in fallen.skipped
    won = LeadFactory(team=sales_team, email="won@example.com", owner=reps[3], status=Status.WON)
    assert route(sales_team, email=won.email).step == "default"  # a closed lead is no reason
    assert known.owner_id == reps[2].pk


def test_two_leads_of_one_person_in_one_batch_go_to_one_rep(reps, sales_team):
    twins = [LeadFactory(team=sales_team, email="ani@example.com", created_at=NOW) for _ in range(2)]
    decisions = lead_services.leads_route(leads=twins, now=NOW)
    assert decisions[0].owner_id == decisions[1].owner_id and decisions[1].step == "sticky"


# -- rules -----------------------------------------------------------------------------------------
def test_the_first_active_matching_rule_decides(reps, sales_team, users):
    manager = users["sales_manager"]
    campaign = CampaignFactory(team=users["marketer"].team)
    big = rule(sales_team, manager, [reps[0]], name="Big ads", sources=["ads"], min_value=Decimal("50000000"))
    rule(sales_team, manager, [reps[1]], name="Government", email_domains=["go.id"])
    rule(sales_team, manager, [reps[2]], name="Campaign", campaigns=[campaign])
    off = rule(sales_team, manager, [reps[3]], name="Switched off")
    services.rule_update(rule=off, by=manager, active=False)
    assert route(sales_team, source="ads", value=Decimal("50000000")).rule_id == big.pk
    assert route(sales_team, source="ads", value=Decimal("49999999.99")).step == "default"
    assert route(sales_team, source="ads").step == "default"  # no value is no match for a minimum
    assert route(sales_team, email="a@kemenkeu.go.id").owner_id == reps[1].pk
    assert route(sales_team, email="a@notgo.id").step == "default"
    assert route(sales_team, campaign=campaign).owner_id == reps[2].pk
    assert not Decision.objects.filter(rule=off).exists()


def test_a_rule_whose_members_cannot_answer_passes_to_the_next_with_reasons(reps, sales_team, users):
    manager = users["sales_manager"]
    team_services.time_off_add(by=manager, user=reps[0], start=NOW - timedelta(days=1), end=NOW + timedelta(days=1))
    first = rule(sales_team, manager, [reps[0]], name="Dewi's", sources=["web"])
    second = rule(sales_team, manager, [reps[1]], name="Eko's", sources=["web"])
    decision = route(sales_team, source="web")
    assert (decision.rule_id, decision.owner_id, decision.method) == (second.pk, reps[1].pk, "round_robin")
    assert decision.skipped == [{"user": reps[0].pk, "reason": "time_off"}]
    assert first.decisions.count() == 0


def test_weights_share_leads_exactly_in_proportion_across_runs(reps, sales_team, users):
    weighted = rule(
        sales_team, users["sales_manager"],
        [{"user": reps[0], "weight": 5}, {"user": reps[1], "weight": 3}, {"user": reps[2], "weight": 2}],
        method="weighted",
    )  # fmt: skip
    one_by_one = Counter(route(sales_team).owner_id for _ in range(50))
    batch = Counter(
        d.owner_id for d in lead_services.leads_route(leads=[LeadFactory(team=sales_team) for _ in range(50)], now=NOW)
    )
    for counts in (one_by_one, batch):
        assert counts == {reps[0].pk: 25, reps[1].pk: 15, reps[2].pk: 10}
    # Smooth: no rep gets a long run while the others wait.
    order = [d.owner_id for d in Decision.objects.filter(rule=weighted).order_by("pk")[:10]]
    assert max(len(list(run)) for run in _runs(order)) <= 2


def _runs(values):
    from itertools import groupby

    return (list(group) for _key, group in groupby(values))


def test_a_rep_on_leave_does_not_come_back_to_a_pile_of_weighted_leads(reps, sales_team, users):
    rule(sales_team, users["sales_manager"], [reps[0], reps[1]], method="weighted")
    team_services.user_away_set(user=reps[1], by=reps[1], away=True)
    assert {route(sales_team).owner_id for _ in range(6)} == {reps[0].pk}
    team_services.user_away_set(user=reps[1], by=reps[1], away=False)
    assert Counter(route(sales_team).owner_id for _ in range(6)) == {reps[0].pk: 3, reps[1].pk: 3}


def test_a_daily_cap_ends_at_midnight_in_the_teams_zone(reps, sales_team, users):
    rule(sales_team, users["sales_manager"], [reps[0]], cap_per_day=2)
    evening = datetime(2026, 6, 10, 23, 30, tzinfo=JAKARTA)
    assert [route(sales_team, now=evening).owner_id == reps[0].pk for _ in range(3)] == [True, True, False]
    capped = Decision.objects.order_by("-pk").first()
    assert {"user": reps[0].pk, "reason": "cap_per_day"} in capped.skipped and capped.step == "default"
    after_midnight = datetime(2026, 6, 11, 0, 5, tzinfo=JAKARTA)  # 17:05 UTC: still 10 June in London
    assert route(sales_team, now=after_midnight).owner_id == reps[0].pk


def test_an_open_lead_cap_counts_what_the_rep_still_has_open(reps, sales_team, users):
    rule(sales_team, users["sales_manager"], [reps[0], reps[1]], cap_open=1)
    first, second = route(sales_team), route(sales_team)
    assert {first.owner_id, second.owner_id} == {reps[0].pk, reps[1].pk}
    third = route(sales_team)
    assert third.step == "default" and {s["reason"] for s in third.skipped} == {"cap_open"}
    Lead.objects.filter(pk=first.lead_id).update(status=Status.LOST)
    assert route(sales_team).owner_id == first.owner_id


def test_fewest_open_leads_first_ties_in_turn(reps, sales_team, users):
    for _ in range(2):
        LeadFactory(team=sales_team, owner=reps[0])
    LeadFactory(team=sales_team, owner=reps[1])
    rule(sales_team, users["sales_manager"], reps[:3], method="least_open")
    # 0 open: Lorraine; then Eko and Lorraine have 1 and Eko's turn is older; then Lorraine; then Dewi.
    assert [route(sales_team).owner_id for _ in range(4)] == [reps[2].pk, reps[1].pk, reps[2].pk, reps[0].pk]


def test_routing_takes_the_same_statements_whatever_the_number_of_reps_and_rules(users, sales_team):
    manager = users["sales_manager"]

    def statements() -> int:
        route(sales_team)  # warm
        with CaptureQueriesContext(connection) as captured:
            route(sales_team)
        return len(captured)

    few = [UserFactory(username=f"few.{n}", team=sales_team) for n in range(2)]
    rule(sales_team, manager, few, name="first", sources=["ads"])
    rule(sales_team, manager, few, name="second", cap_per_day=100, cap_open=100, method="weighted")
    small = statements()
    many = [UserFactory(username=f"many.{n}", team=sales_team) for n in range(12)]
    for n in range(6):
        rule(sales_team, manager, many, name=f"more {n}", sources=["event"], cap_per_day=5)
    rule(sales_team, manager, many, name="catch-all", method="least_open", cap_open=50)
    Rule.objects.filter(name="second").update(active=False)
    assert statements() == small


# -- all or nothing ---------------------------------------------------------------------------------
def test_sharing_out_in_turn_goes_through_routing_and_refuses_when_nobody_can_take_a_lead(reps, sales_team, users):
    manager = users["sales_manager"]
    leads = [LeadFactory(team=sales_team, created_at=NOW - timedelta(minutes=n)) for n in range(4)]
    shares = lead_services.leads_round_robin(leads=leads, team=sales_team, by=manager, now=NOW)
    assert sorted(shares.values()) == [1, 1, 1, 1]
    assert set(Decision.objects.values_list("trigger", flat=True)) == {"manual"}
    for rep in reps:
        team_services.user_away_set(user=rep, by=manager, away=True)
    with pytest.raises(ValidationError):
        lead_services.leads_round_robin(leads=[LeadFactory(team=sales_team)], team=sales_team, by=manager, now=NOW)
    assert Decision.objects.count() == 4  # the refused batch recorded nothing


def test_removing_a_member_keeps_the_others_turns(reps, sales_team, users):
    manager = users["sales_manager"]
    weighted = rule(sales_team, manager, reps[:3], method="weighted")
    for _ in range(4):
        route(sales_team)
    kept = {m.user_id: (m.current, m.last_turn) for m in Member.objects.filter(rule=weighted)}
    services.rule_update(
        rule=weighted, by=manager, members=[{"user": reps[0], "weight": 1}, {"user": reps[1], "weight": 1}]
    )
    after = {m.user_id: (m.current, m.last_turn) for m in Member.objects.filter(rule=weighted)}
    assert after == {reps[0].pk: kept[reps[0].pk], reps[1].pk: kept[reps[1].pk]}


def test_the_teams_managers_hear_once_by_email_when_nobody_could_take_a_new_lead(reps, sales_team, users, mailoutbox):
    from notifications.models import Notification
    from notifications.services import notifications_email_schedule
    from slas.services import notifications

    team_services.team_update(team=sales_team, auto_route=True)
    for rep in reps:
        team_services.user_away_set(user=rep, by=rep, away=True)
    lead = lead_services.lead_create(by=users["marketer"], team=sales_team, name="Rina Wati", now=NOW)
    assert lead.owner_id is None
    lead_services.leads_route(leads=[lead], now=NOW)  # routed again to nobody: no second alert
    lead_services.lead_route(lead=lead, by=users["sales_manager"], now=NOW)  # a manager asking sees the answer
    alerts = Notification.objects.filter(kind="no_rep_available")
    assert [(n.user, n.lead) for n in alerts] == [(users["sales_manager"], lead)]
    notifications_email_schedule(now=NOW)
    assert notifications.deliveries_send(now=NOW).sent == 1  # "nobody available" is e-mailed by default
    (message,) = mailoutbox
    assert message.subject.startswith("Selaras · Nobody could take the new lead “Rina Wati”")
    assert message.to == [users["sales_manager"].email] and f"/leads/{lead.pk}/" in message.body


def test_an_import_into_an_auto_routed_team_routes_the_rows_without_an_owner(reps, sales_team, users):
    from io import BytesIO

    team_services.team_update(team=sales_team, auto_route=True)
    rows = "name,email,owner\n" + "".join(f"Lead {n},lead{n}@example.com,\n" for n in range(8))
    rows += f"Named,named@example.com,{reps[3].username}\n"
    report = lead_services.leads_import(
        file=BytesIO(rows.encode()), team=sales_team, by=users["sales_manager"], now=NOW
    )
    assert report.ok and report.created == 9
    owners = Counter(Lead.objects.filter(name__startswith="Lead ").values_list("owner_id", flat=True))
    assert owners == {rep.pk: 2 for rep in reps}
    assert Lead.objects.get(name="Named").owner == reps[3]
    assert Decision.objects.filter(trigger="created").count() == 8


def test_a_rule_passes_over_members_who_left_the_team_or_were_deactivated(reps, sales_team, other_sales_team, users):
    manager = users["sales_manager"]
    rule(sales_team, manager, reps[:3], name="Three")
    team_services.user_update(user=reps[0], team=other_sales_team)  # moved to Jayapura
    team_services.user_update(user=reps[1], is_active=False)
    decisions = [route(sales_team) for _ in range(2)]
    assert {d.owner_id for d in decisions} == {reps[2].pk} and {d.step for d in decisions} == {"rule"}
    assert sorted(decisions[0].skipped, key=lambda s: s["reason"]) == [
        {"user": reps[0].pk, "reason": "excluded"},
        {"user": reps[1].pk, "reason": "inactive"},
    ]
