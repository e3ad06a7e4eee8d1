"""The permission policy of SPEC §1 as a matrix: role × whose object × action.

Objects of later apps (leads, SLAs, breaches) are stand-ins with the attributes
the policy reads; the pages and endpoints that use them test the same rules
end to end.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from teams import permissions
from teams.models import Team, User

pytestmark = pytest.mark.django_db

ROLES = ["admin", "sales_manager", "marketing_manager", "sales_rep", "marketer"]


def lead(users, whose: str) -> SimpleNamespace:
    """A lead of the sales team: the rep's own, a teammate's, unassigned, or another team's."""
    rep, teammate, stranger = users["sales_rep"], users["other_rep"], users["other_team_rep"]
    return {
        "own": SimpleNamespace(team_id=rep.team_id, owner_id=rep.pk),
        "teammate": SimpleNamespace(team_id=rep.team_id, owner_id=teammate.pk),
        "unassigned": SimpleNamespace(team_id=rep.team_id, owner_id=None),
        "other_team": SimpleNamespace(team_id=stranger.team_id, owner_id=stranger.pk),
    }[whose]


WORK_LEAD = {
    # whose lead →        own    teammate unassigned other_team
    "admin": (True, True, True, True),
    "sales_manager": (True, True, True, False),
    "marketing_manager": (False, False, False, False),
    "sales_rep": (True, False, False, False),
    "marketer": (False, False, False, False),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("index,whose", list(enumerate(["own", "teammate", "unassigned", "other_team"])))
def test_who_may_log_touches_reject_and_change_status(users, role, index, whose):
    assert permissions.can_work_lead(users[role], lead(users, whose)) is WORK_LEAD[role][index]


ASSIGN_LEAD = {
    "admin": (True, True, True, True),
    "sales_manager": (True, True, True, False),
    "marketing_manager": (False, False, False, False),
    "sales_rep": (False, False, True, False),  # a rep only claims an unassigned lead of their team
    "marketer": (False, False, False, False),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("index,whose", list(enumerate(["own", "teammate", "unassigned", "other_team"])))
def test_who_may_assign(users, role, index, whose):
    user = users[role]
    assert permissions.can_assign_lead(user, lead(users, whose), owner=user) is ASSIGN_LEAD[role][index]


def test_a_rep_cannot_hand_an_unassigned_lead_to_someone_else(users):
    rep = users["sales_rep"]
    assert permissions.can_assign_lead(rep, lead(users, "unassigned"), owner=users["other_rep"]) is False


CHANGE_LEAD = {
    # whose lead →        own    teammate unassigned other_team
    "admin": (True, True, True, True),
    "sales_manager": (True, True, True, False),
    "marketing_manager": (False, False, False, False),
    "sales_rep": (True, False, True, False),  # works their own, claims the team's unassigned
    "marketer": (False, False, False, False),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("index,whose", list(enumerate(["own", "teammate", "unassigned", "other_team"])))
def test_who_may_change_a_lead_at_all(users, role, index, whose):
    assert permissions.can_change_lead(users[role], lead(users, whose)) is CHANGE_LEAD[role][index]


def test_only_managers_reopen_closed_leads(users):
    own = lead(users, "own")
    assert [permissions.can_reopen_lead(users[role], own) for role in ROLES] == [True, True, False, False, False]
    assert permissions.can_reopen_lead(users["other_manager"], own) is False


@pytest.mark.parametrize(
    "role,own_team,other_team",
    [
        ("admin", True, True),
        ("sales_manager", True, False),
        ("marketing_manager", True, True),
        ("sales_rep", True, False),
        ("marketer", True, True),
    ],
)
def test_who_may_create_and_import_leads(users, sales_team, other_sales_team, role, own_team, other_team):
    assert permissions.can_create_leads(users[role], sales_team) is own_team
    assert permissions.can_create_leads(users[role], other_sales_team) is other_team


def test_lead_visibility_by_role(users):
    rep = users["sales_rep"]
    assert permissions.lead_scope(users["admin"]) == permissions.EVERYTHING
    assert permissions.lead_scope(users["marketing_manager"]) == permissions.EVERYTHING
    assert permissions.lead_scope(users["marketer"]) == permissions.EVERYTHING
    assert permissions.lead_scope(users["sales_manager"]).children == [("team_id", rep.team_id)]
    rep_scope = permissions.lead_scope(rep, prefix="lead__")
    assert ("lead__owner_id", rep.pk) in rep_scope.children
    assert any(
        isinstance(child, type(rep_scope)) and ("lead__owner__isnull", True) in child.children
        for child in rep_scope.children
    )


SLA_EDIT = {
    # response SLA of own team, response SLA of other team, volume SLA owed by own marketing team, owed by another
    "admin": (True, True, True, True),
    "sales_manager": (True, False, True, False),
    "marketing_manager": (False, False, True, False),
    "sales_rep": (False, False, False, False),
    "marketer": (False, False, False, False),
}


@pytest.mark.parametrize("role", ROLES)
def test_who_may_edit_slas(users, sales_team, other_sales_team, marketing_team, role):
    other_marketing = Team.objects.create(name="Marketing Bali", kind=Team.Kind.MARKETING)
    slas = [
        SimpleNamespace(team_id=sales_team.pk, kind="response", from_team_id=None),
        SimpleNamespace(team_id=other_sales_team.pk, kind="response", from_team_id=None),
        SimpleNamespace(team_id=sales_team.pk, kind="volume", from_team_id=marketing_team.pk),
        SimpleNamespace(team_id=other_sales_team.pk, kind="volume", from_team_id=other_marketing.pk),
    ]
    assert tuple(permissions.can_edit_sla(users[role], sla) for sla in slas) == SLA_EDIT[role]


def test_breach_management(users, sales_team, marketing_team):
    response = SimpleNamespace(team_id=sales_team.pk, responsible_team_id=None)
    volume = SimpleNamespace(team_id=sales_team.pk, responsible_team_id=marketing_team.pk)
    assert permissions.can_manage_breach(users["sales_manager"], response)
    assert not permissions.can_manage_breach(users["other_manager"], response)
    assert not permissions.can_manage_breach(users["marketing_manager"], response)
    assert permissions.can_manage_breach(users["marketing_manager"], volume)
    assert not permissions.can_manage_breach(users["sales_rep"], response)
    assert permissions.breach_scope(users["sales_rep"]).children == [("responsible_user_id", users["sales_rep"].pk)]


def test_kpi_management(users, sales_team, marketing_team, other_sales_team):
    assert permissions.can_manage_kpis(users["admin"], None)
    assert permissions.can_manage_kpis(users["sales_manager"], sales_team)
    assert not permissions.can_manage_kpis(users["sales_manager"], other_sales_team)
    assert not permissions.can_manage_kpis(users["sales_manager"], None)
    assert permissions.can_manage_kpis(users["marketing_manager"], marketing_team)
    assert not permissions.can_manage_kpis(users["sales_rep"], sales_team)
    assert not permissions.can_manage_kpis(users["marketer"], marketing_team)


def test_who_manages_some_kpis_before_naming_a_scope(users):
    answers = {name: permissions.can_manage_any_kpis(user) for name, user in users.items()}
    assert {name for name, may in answers.items() if may} == {
        "admin",
        "sales_manager",
        "marketing_manager",
        "other_manager",
    }
    teamless = users["marketing_manager"]
    teamless.team = None
    assert not permissions.can_manage_any_kpis(teamless)


def test_a_kpi_target_or_value_is_managed_as_its_scope(users, sales_team, other_sales_team):
    """Its team; else its person's team; else the company (admins only)."""
    rep, stranger = users["sales_rep"], users["other_team_rep"]
    items = {
        "team": SimpleNamespace(team_id=sales_team.pk, team=sales_team, user_id=None),
        "rep": SimpleNamespace(team_id=None, team=None, user_id=rep.pk, user=rep),
        "stranger": SimpleNamespace(team_id=None, team=None, user_id=stranger.pk, user=stranger),
        "company": SimpleNamespace(team_id=None, team=None),  # a KPI has no person
    }

    def managed(role):
        return {name for name, item in items.items() if permissions.can_manage_kpi_item(users[role], item)}

    assert managed("admin") == set(items)
    assert managed("sales_manager") == {"team", "rep"}
    assert managed("other_manager") == {"stranger"}
    assert managed("marketing_manager") == managed("sales_rep") == set()


def test_only_admins_manage_users_and_teams(users):
    assert [permissions.can_manage_users_and_teams(users[role]) for role in ROLES] == [True] + [False] * 4


def test_a_superuser_acts_as_admin_whatever_their_role(users):
    rep = users["sales_rep"]
    rep.is_superuser = True
    assert permissions.role_of(rep) == "admin"
    assert permissions.can_work_lead(rep, lead(users, "other_team"))


def test_inactive_and_anonymous_users_may_do_nothing(users):
    from django.contrib.auth.models import AnonymousUser

    manager = users["sales_manager"]
    manager.is_active = False
    for user in (manager, AnonymousUser()):
        assert permissions.role_of(user) is None
        assert not permissions.can_work_lead(user, lead(users, "own"))
        assert permissions.lead_scope(user) == permissions.NOTHING
        assert not any(permissions.navigation_for(user).values())


def test_user_scope_shows_own_team_only(users):
    seen = set(User.objects.filter(permissions.user_scope(users["sales_rep"])).values_list("username", flat=True))
    assert seen == {"sales.manager", "rep1", "rep2"}
    assert User.objects.filter(permissions.user_scope(users["admin"])).count() == len(users)


def test_closed_dates_are_managed_by_admins_and_the_teams_managers(users, sales_team, other_sales_team):
    assert permissions.can_manage_closed_dates(users["admin"], other_sales_team)
    assert permissions.can_manage_closed_dates(users["sales_manager"], sales_team)
    assert not permissions.can_manage_closed_dates(users["sales_manager"], other_sales_team)
    assert not permissions.can_manage_closed_dates(users["sales_rep"], sales_team)


def test_navigation_follows_the_role(users):
    assert permissions.navigation_for(users["sales_rep"])["queue"] is True
    assert permissions.navigation_for(users["marketer"])["queue"] is False
    assert permissions.navigation_for(users["admin"])["admin"] is False  # admin role but not staff


def test_lead_team_scope_agrees_with_can_create_leads(users, sales_team, other_sales_team, marketing_team):
    for role in ROLES:
        allowed = set(Team.objects.filter(permissions.lead_team_scope(users[role])))
        assert allowed == {
            t for t in Team.objects.all() if permissions.can_create_leads(users[role], t) and t.kind == "sales"
        }


@pytest.mark.parametrize(
    "role,kind,sales,marketing",
    [
        ("admin", "response", {"Sales Jakarta", "Sales Jayapura"}, {"Marketing"}),
        ("sales_manager", "volume", {"Sales Jakarta"}, {"Marketing"}),
        ("marketing_manager", "volume", {"Sales Jakarta", "Sales Jayapura"}, {"Marketing"}),
        ("marketing_manager", "response", None, None),
        ("sales_rep", "response", None, None),
        ("marketer", "volume", None, None),
    ],
)
def test_which_teams_an_sla_may_name(users, role, kind, sales, marketing):
    scopes = permissions.sla_team_scopes(users[role], kind)
    if sales is None:
        assert scopes is None
        return
    assert set(Team.objects.filter(scopes[0]).values_list("name", flat=True)) == sales
    assert set(Team.objects.filter(scopes[1]).values_list("name", flat=True)) == marketing


def test_target_visibility(users, sales_team, other_sales_team):
    from datetime import date

    from kpis.models import Kpi, Target

    kpi = Kpi.objects.create(name="Revenue", metric="revenue_won")
    rows = {
        "company": Target(kpi=kpi),
        "team": Target(kpi=kpi, team=sales_team),
        "mine": Target(kpi=kpi, user=users["sales_rep"]),
        "teammate": Target(kpi=kpi, user=users["other_rep"]),
        "other_team": Target(kpi=kpi, team=other_sales_team),
    }
    for target in rows.values():
        target.period_start, target.period_end, target.target = date(2026, 7, 1), date(2026, 9, 30), 1
        target.save()

    def seen(role):
        found = set(Target.objects.filter(permissions.target_scope(users[role])).values_list("pk", flat=True))
        return {name for name, target in rows.items() if target.pk in found}

    assert seen("sales_rep") == {"company", "team", "mine"}
    assert seen("sales_manager") == {"company", "team", "mine", "teammate"}
    assert seen("marketer") == set(rows)


def test_bulk_assignment_and_kpi_teams(users, sales_team, other_sales_team, marketing_team):
    assert [permissions.can_assign_in_bulk(users[role]) for role in ROLES] == [True, True, False, False, False]
    assert permissions.can_assign_in_bulk(users["sales_manager"], sales_team)
    assert not permissions.can_assign_in_bulk(users["sales_manager"], other_sales_team)
    managed = {role: set(Team.objects.filter(permissions.kpi_team_scope(users[role]))) for role in ROLES}
    assert managed["admin"] == set(Team.objects.all())
    assert managed["sales_manager"] == {sales_team} and managed["marketing_manager"] == {marketing_team}
    assert managed["sales_rep"] == managed["marketer"] == set()
    for role in ROLES:
        for team in Team.objects.all():
            assert (team in managed[role]) == permissions.can_manage_kpis(users[role], team), (role, team)
