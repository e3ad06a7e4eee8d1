"""The routing pages: rules in order, a rule's form, the test, automatic routing; the lead
page's "route now" and the decision on its timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead
from routing import services
from routing.models import Rule
from teams import services as team_services
from tests.factories import LeadFactory


def make_rule(users, sales_team, name, **fields) -> Rule:
    members = fields.pop("members", [{"user": users["sales_rep"], "weight": 1}])
    return services.rule_create(by=users["sales_manager"], team=sales_team, name=name, members=members, **fields)


def test_a_manager_creates_a_rule_from_the_form(client, users, sales_team):
    client.force_login(users["sales_manager"])
    form = client.get(reverse("routing:rule_create"))
    assert form.status_code == 200 and f'name="weight_{users["sales_rep"].pk}"' in form.content.decode()
    answer = client.post(
        reverse("routing:rule_create"),
        {
            "name": "Big ads",
            "active": "on",
            "sources": ["ads"],
            "min_value": "50000000",
            "email_domains": "go.id, @bumn.co.id",
            "method": "weighted",
            f"weight_{users['sales_rep'].pk}": "3",
            f"weight_{users['other_rep'].pk}": "0",
        },
    )
    assert answer.status_code == 302
    rule = Rule.objects.get()
    assert (rule.team, rule.sources, rule.email_domains, rule.method) == (
        sales_team,
        ["ads"],
        ["go.id", "bumn.co.id"],
        "weighted",
    )
    assert [(m.user, m.weight) for m in rule.members.all()] == [(users["sales_rep"], 3)]
    page = client.get(answer["Location"]).content.decode()
    assert "Big ads" in page and "IDR 50,000,000" in page and "×3" in page


def test_the_rule_form_says_what_is_wrong_and_saves_nothing(client, users):
    client.force_login(users["sales_manager"])
    reps = {f"weight_{users['sales_rep'].pk}": "0", f"weight_{users['other_rep'].pk}": "0"}
    page = client.post(reverse("routing:rule_create"), {"name": "Nobody", "method": "round_robin", **reps})
    assert page.status_code == 200 and "at least one rep" in page.content.decode()
    page = client.post(
        reverse("routing:rule_create"),
        {
            "name": "Bad",
            "method": "round_robin",
            "email_domains": "not a domain",
            f"weight_{users['sales_rep'].pk}": "1",
        },
    )
    assert page.status_code == 200 and "Not an e-mail domain" in page.content.decode(), page.context["form"].errors
    page = client.post(
        reverse("routing:rule_create"),
        {"name": "Bad", "method": "round_robin", f"weight_{users['sales_rep'].pk}": "-2"},
    )
    assert page.status_code == 200 and page.context["form"].errors
    assert not Rule.objects.exists()


def test_rules_move_switch_off_and_go(client, users, sales_team):
    first, second = make_rule(users, sales_team, "First"), make_rule(users, sales_team, "Second")
    client.force_login(users["sales_manager"])
    client.post(reverse("routing:rule_move", args=[second.pk]), {"direction": "up"})
    assert list(Rule.objects.order_by("position").values_list("name", flat=True)) == ["Second", "First"]
    client.post(reverse("routing:rule_move", args=[second.pk]), {"direction": "up"})  # already first
    assert list(Rule.objects.order_by("position").values_list("name", flat=True)) == ["Second", "First"]
    client.post(reverse("routing:rule_switch", args=[first.pk]))
    first.refresh_from_db()
    assert not first.active
    client.post(reverse("routing:rule_delete", args=[second.pk]))
    assert list(Rule.objects.values_list("name", flat=True)) == ["First"]


def test_the_test_says_where_a_lead_would_go_and_writes_nothing(client, users, sales_team):
    make_rule(users, sales_team, "Big ads", sources=["ads"], min_value=50_000_000)
    team_services.time_off_add(
        by=users["sales_manager"],
        user=users["sales_rep"],
        start=timezone.now() - timedelta(hours=1),
        end=timezone.now() + timedelta(hours=1),
    )
    client.force_login(users["sales_manager"])
    page = client.get(reverse("routing:rules"), {"source": "ads", "value": "50000000"}).content.decode()
    assert f"No rule fits: it would go to {users['other_rep']}" in page
    assert f"{users['sales_rep']} (time off)" in page
    team_services.time_off_remove(time_off=users["sales_rep"].time_off.get(), by=users["sales_manager"])
    page = client.get(reverse("routing:rules"), {"source": "ads", "value": "50000000"}).content.decode()
    assert f"It would go to {users['sales_rep']}, by rule “Big ads”." in page
    bad = client.get(reverse("routing:rules"), {"source": "telepathy", "value": "lots"})
    assert bad.status_code == 200 and bad.context["test"].errors and bad.context["preview"] is None
    assert not Lead.objects.exists()


def test_a_manager_switches_automatic_routing_on_and_a_new_lead_from_the_page_is_routed(client, users, sales_team):
    client.force_login(users["sales_manager"])
    assert "Automatic routing" in client.get(reverse("routing:rules")).content.decode()
    client.post(reverse("routing:auto_route"), {"auto_route": "on"})
    sales_team.refresh_from_db()
    assert sales_team.auto_route
    client.force_login(users["marketer"])
    answer = client.post(reverse("leads:create"), {"name": "Rina", "team": sales_team.pk, "source": "web"})
    assert answer.status_code == 302
    lead = Lead.objects.get(name="Rina")
    assert lead.owner in (users["sales_rep"], users["other_rep"])
    client.force_login(users["sales_manager"])
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert f"Routed to {lead.owner}, next in turn in the team" in page


def test_route_now_on_the_lead_page_names_who_was_passed_over(client, users, sales_team):
    lead = LeadFactory(team=sales_team)
    team_services.user_away_set(user=users["other_rep"], by=users["sales_manager"], away=True)
    client.force_login(users["sales_manager"])
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert "Route now" in page and f"{users['other_rep']} (away)" in page  # the owner select says so too
    answer = client.post(reverse("leads:route", args=[lead.pk]))
    assert answer.status_code == 302
    lead.refresh_from_db()
    assert lead.owner == users["sales_rep"]
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert f"Passed over: {users['other_rep']} (away)" in page and f"asked by {users['sales_manager']}" in page


@pytest.mark.parametrize("actor", ["sales_rep", "marketing_manager", "marketer"])
def test_people_who_do_not_route_do_not_see_the_routing_pages_or_the_button(client, users, sales_team, actor):
    client.force_login(users[actor])
    assert client.get(reverse("routing:rules")).status_code == 403
    assert client.post(reverse("leads:route", args=[LeadFactory(team=sales_team).pk])).status_code in (403, 404)
    assert "Routing" not in client.get(reverse("leads:list")).content.decode()


def test_another_teams_manager_cannot_touch_this_teams_rules(client, users, sales_team):
    rule = make_rule(users, sales_team, "Jakarta's big accounts")
    client.force_login(users["other_manager"])
    assert client.get(reverse("routing:rule_edit", args=[rule.pk])).status_code == 404
    assert client.post(reverse("routing:rule_delete", args=[rule.pk])).status_code == 404
    assert "big accounts" not in client.get(reverse("routing:rules")).content.decode()
    assert Rule.objects.filter(pk=rule.pk).exists()
