"""`routing-rules/`, `leads/{id}/route/` and `leads/{id}/routing/`, and routing as leads are
created (SPEC §7, §11)."""

from __future__ import annotations

import pytest

from leads.models import Lead
from routing.models import Decision, Member, Rule
from teams import services as team_services
from tests.factories import CampaignFactory, LeadFactory

RULES = "/api/v1/routing-rules/"


def body(users, **fields) -> dict:
    return {
        "name": "Ads",
        "sources": ["ads"],
        "method": "weighted",
        "members": [{"user": users["sales_rep"].pk, "weight": 3}, {"user": users["other_rep"].pk}],
        **fields,
    }


def test_a_sales_manager_creates_a_rule_for_their_team_without_naming_it(users, api_as, sales_team):
    answer = api_as(users["sales_manager"]).post(RULES, body(users, cap_per_day=5), format="json")
    assert answer.status_code == 201, answer.content
    data = answer.json()
    assert data["team"] == sales_team.pk and data["position"] == 0 and data["cap_per_day"] == 5
    assert data["members"] == [
        {"user": users["sales_rep"].pk, "weight": 3},
        {"user": users["other_rep"].pk, "weight": 1},
    ]
    second = api_as(users["sales_manager"]).post(RULES, body(users, name="Events", sources=["event"]), format="json")
    assert second.json()["position"] == 1


@pytest.mark.parametrize(
    "change,field",
    [
        ({"members": [{"user": "REP", "weight": 0}]}, "members"),
        ({"members": [{"user": "OTHER_TEAM_REP"}]}, "members"),
        ({"members": []}, "members"),
        ({"members": [{"user": "REP"}, {"user": "REP"}]}, "members"),
        ({"sources": ["telepathy"]}, "sources"),
        ({"email_domains": ["not a domain"]}, "email_domains"),
        ({"min_value": "-1"}, "min_value"),
        ({"min_value": "99999999999999.99"}, "min_value"),
        ({"cap_open": 0}, "cap_open"),
        ({"method": "lottery"}, "method"),
        ({"name": ""}, "name"),
        ({"campaigns": [999999]}, "campaigns"),
    ],
)
def test_bad_rules_answer_400_and_write_nothing(users, api_as, change, field):
    names = {"REP": users["sales_rep"].pk, "OTHER_TEAM_REP": users["other_team_rep"].pk}
    if "members" in change:
        change = {"members": [{**m, "user": names[m["user"]]} for m in change["members"]]}
    answer = api_as(users["sales_manager"]).post(RULES, body(users, **change), format="json")
    assert answer.status_code == 400 and field in answer.json(), answer.content
    assert not Rule.objects.exists() and not Member.objects.exists()


def test_a_rule_name_is_once_per_team_and_a_rule_stays_with_its_team(users, api_as, other_sales_team):
    manager = api_as(users["sales_manager"])
    created = manager.post(RULES, body(users), format="json").json()
    assert manager.post(RULES, body(users, name="ADS"), format="json").status_code == 400
    moved = manager.patch(f"{RULES}{created['id']}/", {"team": other_sales_team.pk}, format="json")
    assert moved.status_code == 400
    renamed = manager.patch(f"{RULES}{created['id']}/", {"name": "Paid ads", "active": False}, format="json")
    assert renamed.status_code == 200 and renamed.json()["active"] is False


def test_only_admins_and_the_teams_sales_manager_see_and_change_its_rules(users, api_as, sales_team):
    created = api_as(users["sales_manager"]).post(RULES, body(users), format="json").json()
    detail = f"{RULES}{created['id']}/"
    assert api_as(users["admin"]).get(detail).status_code == 200
    for name in ("other_manager", "sales_rep", "marketing_manager"):
        assert api_as(users[name]).get(detail).status_code == 404, name
        assert api_as(users[name]).get(RULES).json()["results"] == []
    assert api_as(users["sales_rep"]).post(RULES, body(users), format="json").status_code == 403
    # Another team's manager cannot create one for this team, nor name this team's reps.
    assert api_as(users["other_manager"]).post(RULES, body(users, team=sales_team.pk), format="json").status_code == 403
    assert api_as(users["other_manager"]).post(RULES, body(users), format="json").status_code == 400
    assert api_as(users["sales_manager"]).delete(detail).status_code == 204
    assert not Rule.objects.exists()


def test_a_lead_created_for_an_auto_routed_team_answers_with_its_owner_and_why(users, api_as, sales_team):
    team_services.team_update(team=sales_team, auto_route=True)
    team_services.user_away_set(user=users["other_rep"], by=users["other_rep"], away=True)
    answer = api_as(users["marketer"]).post(
        "/api/v1/leads/", {"name": "Rina", "team": sales_team.pk, "source": "ads"}, format="json"
    )
    assert answer.status_code == 201 and answer.json()["owner"] == users["sales_rep"].pk
    lead_id = answer.json()["id"]
    routing = api_as(users["sales_manager"]).get(f"/api/v1/leads/{lead_id}/routing/").json()
    assert routing == [
        {
            "id": routing[0]["id"],
            "created_at": routing[0]["created_at"],
            "trigger": "created",
            "step": "default",
            "rule": None,
            "rule_name": "",
            "method": "",
            "owner": users["sales_rep"].pk,
            "skipped": [{"user": users["other_rep"].pk, "reason": "away"}],
        }
    ]


def test_a_team_without_auto_routing_leaves_new_leads_for_a_manager(users, api_as, sales_team):
    answer = api_as(users["marketer"]).post("/api/v1/leads/", {"name": "Rina", "team": sales_team.pk}, format="json")
    assert answer.status_code == 201 and answer.json()["owner"] is None
    assert not Decision.objects.exists()


def test_a_manager_routes_a_lead_now_and_others_may_not(users, api_as, sales_team):
    lead = LeadFactory(team=sales_team)
    answer = api_as(users["sales_manager"]).post(f"/api/v1/leads/{lead.pk}/route/")
    assert answer.status_code == 200 and answer.json()["trigger"] == "manual"
    assert Lead.objects.get(pk=lead.pk).owner_id == answer.json()["owner"]
    assert api_as(users["sales_rep"]).post(f"/api/v1/leads/{LeadFactory(team=sales_team).pk}/route/").status_code == 403
    assert api_as(users["other_manager"]).post(f"/api/v1/leads/{lead.pk}/route/").status_code == 404
    closed = LeadFactory(team=sales_team, status="lost")
    assert api_as(users["sales_manager"]).post(f"/api/v1/leads/{closed.pk}/route/").status_code == 400
    assert Decision.objects.count() == 1


def test_the_rules_api_takes_campaigns_and_domains_as_people_type_them(users, api_as):
    campaign = CampaignFactory(team=users["marketer"].team)
    answer = api_as(users["sales_manager"]).post(
        RULES, body(users, campaigns=[campaign.pk], email_domains=["@Go.ID", "go.id", "bumn.co.id"]), format="json"
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["email_domains"] == ["go.id", "bumn.co.id"] and answer.json()["campaigns"] == [campaign.pk]
