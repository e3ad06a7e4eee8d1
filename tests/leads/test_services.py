"""Lead services: creation, ownership, follow-ups, rejection, the pipeline, and the SLA hooks."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from leads import selectors, services
from leads.models import Assignment, Lead, Rejection, StatusChange, Touch
from teams.models import Role
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 8, 5, 10, 0, tzinfo=JAKARTA)


@pytest.fixture
def hooks(monkeypatch):
    """Record the calls the leads services make to the SLA engine."""
    calls = {"start": [], "refresh": []}
    from slas import services as slas_services

    monkeypatch.setattr(
        slas_services,
        "clocks_start",
        lambda *, assignments, now: calls["start"].append(([a.pk for a in assignments], now)),
    )
    monkeypatch.setattr(
        slas_services, "clocks_refresh", lambda *, lead_ids, now: calls["refresh"].append((list(lead_ids), now))
    )
    return calls


def create(users, sales_team, **kwargs) -> Lead:
    defaults = {"by": users["marketer"], "team": sales_team, "name": "Siti Rahma", "now": NOW}
    return services.lead_create(**{**defaults, **kwargs})


# -- creation -------------------------------------------------------------------------------
def test_create_a_lead_normalises_and_records_who(users, sales_team):
    lead = create(users, sales_team, email=" Siti@Contoh.CO.ID ", company=" PT Maju ")
    assert (lead.email, lead.company, lead.status, lead.owner) == ("siti@contoh.co.id", "PT Maju", "new", None)
    assert (lead.created_at, lead.created_by) == (NOW, users["marketer"])
    assert lead.history.count() == 1


def test_create_with_an_owner_assigns_at_once_and_starts_clocks(users, sales_team, hooks):
    lead = create(users, sales_team, owner=users["sales_rep"], by=users["sales_manager"])
    assignment = Assignment.objects.get(lead=lead)
    assert (lead.owner, lead.assigned_at, assignment.assigned_by) == (users["sales_rep"], NOW, users["sales_manager"])
    assert hooks["start"] == [([assignment.pk], NOW)]


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"source": "tv"}, "source"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"value": Decimal("-1")}, "value"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(users, sales_team, fields, field):
    with pytest.raises(ValidationError) as excinfo:
        create(users, sales_team, **fields)
    assert field in excinfo.value.message_dict
    assert not Lead.objects.exists()


def test_leads_are_for_sales_teams(users, marketing_team):
    with pytest.raises(ValidationError, match="sales team"):
        create(users, marketing_team)


def test_a_rep_creates_leads_for_their_own_team_only(users, sales_team, other_sales_team):
    assert create(users, sales_team, by=users["sales_rep"]).team == sales_team
    with pytest.raises(PermissionDenied):
        create(users, other_sales_team, by=users["sales_rep"])


def test_a_marketer_cannot_assign_while_creating(users, sales_team):
    with pytest.raises(PermissionDenied):
        create(users, sales_team, owner=users["sales_rep"])
    assert not Lead.objects.exists()


def test_likely_duplicates_by_email_within_the_team(users, sales_team, other_sales_team):
    first = create(users, sales_team, email="siti@contoh.co.id")
    second = create(users, sales_team, email="SITI@contoh.co.id")
    elsewhere = create(users, other_sales_team, email="siti@contoh.co.id")
    assert list(selectors.lead_duplicates(lead=second, user=users["admin"])) == [first]
    assert list(selectors.lead_duplicates(lead=elsewhere, user=users["admin"])) == []


def test_likely_duplicates_are_only_those_the_user_may_see(users, sales_team):
    theirs = create(users, sales_team, email="budi@contoh.co.id", owner=users["other_rep"], by=users["sales_manager"])
    mine = create(users, sales_team, email="budi@contoh.co.id", owner=users["sales_rep"], by=users["sales_manager"])
    assert list(selectors.lead_duplicates(lead=mine, user=users["sales_rep"])) == []
    assert list(selectors.lead_duplicates(lead=mine, user=users["sales_manager"])) == [theirs]


# -- ownership -----------------------------------------------------------------------------
def test_reassignment_ends_the_old_assignment(users, sales_team, hooks):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], created_at=NOW)
    later = NOW + timedelta(hours=2)
    assignment = services.lead_assign(lead=lead, owner=users["other_rep"], by=users["sales_manager"], now=later)
    old = Assignment.objects.get(lead=lead, owner=users["sales_rep"])
    assert old.ended_at == later and assignment.ended_at is None
    assert (lead.owner_id, lead.assigned_at) == (users["other_rep"].pk, later)
    assert hooks["start"] == [([assignment.pk], later)]


def test_assigning_to_the_current_owner_is_a_no_op(users, sales_team, hooks):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"])
    assert services.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"]) is None
    assert Assignment.objects.filter(lead=lead).count() == 1
    assert hooks["start"] == []


@pytest.mark.parametrize("owner_key", ["sales_manager", "other_team_rep", "marketer"])
def test_leads_only_go_to_active_reps_of_the_team(users, sales_team, owner_key):
    lead = LeadFactory(team=sales_team)
    with pytest.raises(ValidationError) as excinfo:
        services.lead_assign(lead=lead, owner=users[owner_key], by=users["admin"])
    assert "owner" in excinfo.value.message_dict


def test_an_inactive_rep_gets_no_leads(users, sales_team):
    rep = users["other_rep"]
    rep.is_active = False
    rep.save()
    with pytest.raises(ValidationError):
        services.lead_assign(lead=LeadFactory(team=sales_team), owner=rep, by=users["sales_manager"])


def test_another_teams_manager_cannot_assign(users, sales_team):
    lead = LeadFactory(team=sales_team)
    with pytest.raises(PermissionDenied):
        services.lead_assign(lead=lead, owner=users["sales_rep"], by=users["other_manager"])


def test_a_rep_claims_an_unassigned_lead_once(users, sales_team):
    lead = LeadFactory(team=sales_team)
    services.lead_claim(lead=lead, by=users["sales_rep"], now=NOW)
    assert lead.owner_id == users["sales_rep"].pk
    stale = Lead.objects.get(pk=lead.pk)
    stale.owner_id = None  # a second rep still looking at the page from before the claim
    with pytest.raises(ValidationError, match="Someone else took this lead"):
        services.lead_claim(lead=stale, by=users["other_rep"])
    assert Lead.objects.get(pk=lead.pk).owner == users["sales_rep"]
    assert Assignment.objects.filter(lead=lead).count() == 1


def test_closed_leads_are_not_reassigned(users, sales_team):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], status="won")
    with pytest.raises(ValidationError, match="closed"):
        services.lead_assign(lead=lead, owner=users["other_rep"], by=users["sales_manager"])


def test_bulk_assign_in_a_constant_number_of_queries(users, sales_team, hooks, django_assert_max_num_queries):
    few = [LeadFactory(team=sales_team) for _ in range(3)]
    many = [LeadFactory(team=sales_team) for _ in range(40)]
    with django_assert_max_num_queries(20) as small:
        services.leads_assign_bulk(leads=few, owner=users["sales_rep"], by=users["sales_manager"], now=NOW)
    with django_assert_max_num_queries(20) as large:
        assert (
            services.leads_assign_bulk(leads=many, owner=users["sales_rep"], by=users["sales_manager"], now=NOW) == 40
        )
    assert len(small.captured_queries) == len(large.captured_queries)
    assert Lead.objects.filter(owner=users["sales_rep"]).count() == 43
    assert sum(len(ids) for ids, _ in hooks["start"]) == 43


def test_bulk_assign_is_all_or_nothing(users, sales_team, other_sales_team):
    leads = [LeadFactory(team=sales_team), LeadFactory(team=sales_team, status="lost")]
    with pytest.raises(ValidationError):
        services.leads_assign_bulk(leads=leads, owner=users["sales_rep"], by=users["sales_manager"])
    assert not Assignment.objects.exists()
    mixed = [LeadFactory(team=sales_team), LeadFactory(team=other_sales_team)]
    with pytest.raises(ValidationError, match="one team"):
        services.leads_assign_bulk(leads=mixed, owner=users["sales_rep"], by=users["admin"])


def test_round_robin_shares_leads_in_turn_and_continues_next_time(users, sales_team):
    rep1, rep2 = users["sales_rep"], users["other_rep"]
    first = [LeadFactory(team=sales_team, created_at=NOW + timedelta(minutes=i)) for i in range(3)]
    shares = services.leads_round_robin(leads=first, team=sales_team, by=users["sales_manager"], now=NOW)
    assert shares == {rep1.pk: 2, rep2.pk: 1}
    assert [
        lead.owner_id for lead in Lead.objects.filter(pk__in=[lead.pk for lead in first]).order_by("created_at")
    ] == [
        rep1.pk,
        rep2.pk,
        rep1.pk,
    ]
    later = NOW + timedelta(hours=1)
    second = [LeadFactory(team=sales_team, created_at=later)]
    assert services.leads_round_robin(leads=second, team=sales_team, by=users["sales_manager"], now=later) == {
        rep2.pk: 1
    }


def test_round_robin_needs_reps_and_a_manager(users, sales_team, other_sales_team):
    with pytest.raises(PermissionDenied):
        services.leads_round_robin(leads=[LeadFactory(team=sales_team)], team=sales_team, by=users["sales_rep"])
    empty = other_sales_team
    for member in empty.members.filter(role=Role.SALES_REP):
        member.is_active = False
        member.save()
    with pytest.raises(ValidationError, match="every rep is away, off or inactive"):
        services.leads_round_robin(leads=[LeadFactory(team=empty)], team=empty, by=users["admin"])


# -- follow-ups ---------------------------------------------------------------------------
def test_first_touch_moves_new_to_working_and_refreshes_clocks(users, sales_team, hooks):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], created_at=NOW)
    touch = services.touch_log(lead=lead, by=users["sales_rep"], kind="call", outcome="connected", now=NOW)
    assert (touch.user, touch.occurred_at, lead.status) == (users["sales_rep"], NOW, "working")
    change = StatusChange.objects.get(lead=lead)
    assert (change.from_status, change.to_status, change.by) == ("new", "working", users["sales_rep"])
    services.touch_log(lead=lead, by=users["sales_rep"], kind="email", now=NOW + timedelta(hours=1))
    assert StatusChange.objects.filter(lead=lead).count() == 1
    assert [ids for ids, _ in hooks["refresh"]] == [[lead.pk], [lead.pk], [lead.pk]]


def test_touch_time_rules(users, sales_team):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], created_at=NOW)
    rep = users["sales_rep"]
    ok = services.touch_log(lead=lead, by=rep, kind="call", occurred_at=NOW + timedelta(minutes=5), now=NOW)
    assert ok.occurred_at == NOW + timedelta(minutes=5)  # exactly at the clock-skew limit
    with pytest.raises(ValidationError, match="future"):
        services.touch_log(lead=lead, by=rep, kind="call", occurred_at=NOW + timedelta(minutes=5, seconds=1), now=NOW)
    with pytest.raises(ValidationError, match="before the lead was created"):
        services.touch_log(lead=lead, by=rep, kind="call", occurred_at=NOW - timedelta(seconds=1), now=NOW)
    assert Touch.objects.count() == 1


@pytest.mark.parametrize("fields,field", [({"kind": "fax"}, "kind"), ({"outcome": "maybe"}, "outcome")])
def test_touch_refuses_unknown_choices(users, sales_team, fields, field):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], created_at=NOW)
    with pytest.raises(ValidationError) as excinfo:
        services.touch_log(lead=lead, by=users["sales_rep"], now=NOW, **{"kind": "call", **fields})
    assert field in excinfo.value.message_dict
    assert lead.status == "new"


@pytest.mark.parametrize("who", ["other_rep", "marketer", "marketing_manager", "other_manager"])
def test_only_the_owner_the_manager_or_an_admin_log_touches(users, sales_team, who):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], created_at=NOW)
    with pytest.raises(PermissionDenied):
        services.touch_log(lead=lead, by=users[who], kind="call", now=NOW)


def test_a_manager_logs_a_touch_for_a_rep_of_the_team_only(users, sales_team):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], created_at=NOW)
    touch = services.touch_log(lead=lead, by=users["sales_manager"], user=users["sales_rep"], kind="meeting", now=NOW)
    assert touch.user == users["sales_rep"]
    with pytest.raises(ValidationError) as excinfo:
        services.touch_log(lead=lead, by=users["sales_manager"], user=users["other_team_rep"], kind="call", now=NOW)
    assert "user" in excinfo.value.message_dict


def test_touch_edits_and_deletions_are_kept_in_history(users, sales_team, hooks):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], created_at=NOW)
    touch = services.touch_log(lead=lead, by=users["sales_rep"], kind="call", now=NOW)
    services.touch_update(touch=touch, by=users["sales_rep"], outcome="voicemail", now=NOW)
    with pytest.raises(PermissionDenied):
        services.touch_update(touch=touch, by=users["other_rep"], outcome="connected", now=NOW)
    touch_id = touch.pk
    services.touch_delete(touch=touch, by=users["sales_manager"], now=NOW)
    records = Touch.history.filter(id=touch_id).order_by("history_date")
    assert [r.history_type for r in records] == ["+", "~", "-"]
    assert [r.history_user for r in records] == [users["sales_rep"], users["sales_rep"], users["sales_manager"]]
    assert records[1].outcome == "voicemail"
    assert not Touch.objects.exists()


# -- rejection and the pipeline ---------------------------------------------------------------
def test_reject_closes_the_lead_with_a_reason(users, sales_team, hooks):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], created_at=NOW)
    rejection = services.lead_reject(lead=lead, by=users["sales_rep"], reason="not_icp", note="Student", now=NOW)
    assert (rejection.reason, rejection.note, rejection.by) == ("not_icp", "Student", users["sales_rep"])
    assert (lead.status, lead.closed_at) == ("rejected", NOW)
    assert hooks["refresh"] == [([lead.pk], NOW)]
    with pytest.raises(ValidationError, match="closed"):
        services.lead_reject(lead=lead, by=users["sales_rep"], reason="spam", now=NOW)


def test_reject_needs_a_known_reason(users, sales_team):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"])
    with pytest.raises(ValidationError) as excinfo:
        services.lead_reject(lead=lead, by=users["sales_rep"], reason="boring")
    assert "reason" in excinfo.value.message_dict
    assert not Rejection.objects.exists()
    assert Lead.objects.get(pk=lead.pk).status == "new"


def test_forward_jumps_are_allowed_and_closing_sets_closed_at(users, sales_team):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], created_at=NOW)
    services.lead_status_change(lead=lead, by=users["sales_rep"], status="won", value=Decimal("25000000"), now=NOW)
    lead.refresh_from_db()
    assert (lead.status, lead.closed_at, lead.value) == ("won", NOW, Decimal("25000000.00"))


def test_only_managers_reopen_or_move_back(users, sales_team):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], status="qualified")
    with pytest.raises(PermissionDenied):
        services.lead_status_change(lead=lead, by=users["sales_rep"], status="working")
    services.lead_status_change(lead=lead, by=users["sales_rep"], status="lost", now=NOW)
    with pytest.raises(PermissionDenied):
        services.lead_status_change(lead=lead, by=users["sales_rep"], status="working")
    services.lead_status_change(lead=lead, by=users["sales_manager"], status="working", now=NOW)
    lead.refresh_from_db()
    assert (lead.status, lead.closed_at) == ("working", None)


def test_status_change_refuses_rejected_and_unknown(users, sales_team):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"])
    with pytest.raises(ValidationError, match="reason"):
        services.lead_status_change(lead=lead, by=users["sales_rep"], status="rejected")
    with pytest.raises(ValidationError, match="Unknown status"):
        services.lead_status_change(lead=lead, by=users["sales_rep"], status="dormant")


def test_setting_the_same_status_changes_nothing(users, sales_team):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], status="working")
    services.lead_status_change(lead=lead, by=users["sales_rep"], status="working")
    assert not StatusChange.objects.exists()


def test_lead_history_records_who_changed_what(users, sales_team):
    lead = create(users, sales_team)
    services.lead_update(lead=lead, by=users["sales_manager"], company="PT Baru")
    latest = lead.history.latest()
    assert (latest.company, latest.history_user) == ("PT Baru", users["sales_manager"])


def test_lead_update_refuses_owner_and_status_fields(users, sales_team):
    lead = create(users, sales_team)
    with pytest.raises(TypeError):
        services.lead_update(lead=lead, by=users["sales_manager"], status="won")


# -- the rep's queue --------------------------------------------------------------------------
def test_queue_puts_unanswered_leads_first(users, sales_team, django_assert_num_queries):
    rep = users["sales_rep"]
    answered = LeadFactory(team=sales_team, owner=rep, created_at=NOW - timedelta(days=2))
    services.touch_log(lead=answered, by=rep, kind="call", now=NOW)
    waiting_long = LeadFactory(team=sales_team, owner=rep, created_at=NOW - timedelta(days=1))
    waiting_short = LeadFactory(team=sales_team, owner=rep, created_at=NOW)
    LeadFactory(team=sales_team, owner=rep, status="won")
    LeadFactory(team=sales_team, owner=users["other_rep"])
    with django_assert_num_queries(1):
        queue = list(selectors.lead_queue(user=rep))
    assert [lead.pk for lead in queue] == [waiting_long.pk, waiting_short.pk, answered.pk]
    assert [lead.answered for lead in queue] == [False, False, True]


def test_a_reassigned_lead_is_unanswered_for_its_new_owner(users, sales_team):
    lead = LeadFactory(team=sales_team, owner=users["sales_rep"], created_at=NOW)
    services.touch_log(lead=lead, by=users["sales_rep"], kind="call", now=NOW)
    services.lead_assign(lead=lead, owner=users["other_rep"], by=users["sales_manager"], now=NOW + timedelta(hours=1))
    assert selectors.lead_queue(user=users["other_rep"]).get().answered is False
