"""Disputes of rejections (SPEC §15): Marketing disputes a rejection within 14 days, the sales
team's manager (or an admin) upholds or overturns it; overturned, the lead goes back to Sales
and the rejection leaves Marketing's figures. Services, the `disputes/` API and the pages."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from kpis import metrics
from kpis.insights import quality_by
from kpis.metrics import Scope, scope_range
from kpis.models import Scorecard
from kpis.scorecards import scorecards_compute, scorecards_refresh
from kpis.tasks import refresh_scorecards
from leads import services
from leads.models import Assignment, Dispute, Lead, Rejection, StatusChange
from notifications import services as notification_services
from notifications.models import Kind, Notification
from notifications.selectors import notification_link, notification_list, notification_text
from routing.models import Decision
from slas import services as sla_services
from slas.models import Clock
from slas.selectors import volume_delivered
from teams.models import Role, User
from tests.factories import CampaignFactory, LeadFactory, UserFactory, seed_slas

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 10, 14, 3, 0, tzinfo=UTC)  # 10:00 in Jakarta, mid-October
REJECTED_AT = NOW - timedelta(days=2)
DISPUTES = "/api/v1/disputes/"
FIELDS = ["id", "lead", "rejection", "raised_by", "raised_at", "note", "state", "ruled_by", "ruled_at", "ruling_note"]


@pytest.fixture
def campaign(marketing_team):
    return CampaignFactory(team=marketing_team, name="Google Ads", start_date=date(2026, 6, 1))


def rejected_lead(users, team, *, by="sales_rep", at=REJECTED_AT, reason="spam", campaign=None, created=None, **kw):
    """A lead of `team` owned by `by`, who rejected it at `at`."""
    lead = LeadFactory(
        team=team, owner=users[by], created_at=created or at - timedelta(days=1), campaign=campaign, **kw
    )
    services.lead_reject(lead=lead, by=users[by], reason=reason, note="Looks like a bot.", now=at)
    return lead


@pytest.fixture
def lead(users, sales_team, campaign):
    return rejected_lead(users, sales_team, campaign=campaign)


@pytest.fixture
def other_lead(users, other_sales_team):
    return rejected_lead(users, other_sales_team, by="other_team_rep")


def raise_(lead, users, who="marketer", *, now=NOW, note="A real buyer: she called us back.") -> Dispute:
    return services.dispute_raise(lead=lead, by=users[who], note=note, now=now)


def rule(dispute, users, who="sales_manager", *, ruling="overturned", note="Fair: back to the team.", now=NOW):
    return services.dispute_rule(dispute=dispute, by=users[who], ruling=ruling, ruling_note=note, now=now)


def told(kind: str) -> list[tuple[str, int]]:
    rows = Notification.objects.filter(kind=kind).values_list("user__username", "dispute_id")
    return sorted(rows)


# -- raising a dispute -------------------------------------------------------------------------------
def test_marketing_disputes_the_leads_latest_rejection_and_sales_hears_of_it(users, lead):
    dispute = raise_(lead, users)
    assert dispute.rejection == lead.rejections.get()
    assert (dispute.state, dispute.raised_by, dispute.raised_at) == ("open", users["marketer"], NOW)
    assert dispute.note == "A real buyer: she called us back."
    # The sales manager who rules, and the rep who rejected it; not the raiser, nor another team.
    assert told(Kind.DISPUTE_OPENED) == [("rep1", dispute.pk), ("sales.manager", dispute.pk)]
    assert notification_services.dispute_opened_notify(dispute=dispute, now=NOW) == 0  # once each


@pytest.mark.parametrize(
    "role,allowed",
    [
        ("admin", True),
        ("marketing_manager", True),
        ("marketer", True),
        ("sales_manager", False),
        ("sales_rep", False),
        ("other_manager", False),
        ("other_team_rep", False),
    ],
)
def test_who_may_raise_a_dispute(users, lead, role, allowed):
    if allowed:
        assert raise_(lead, users, role).state == "open"
    else:
        with pytest.raises(PermissionDenied):
            raise_(lead, users, role)
        assert not Dispute.objects.exists()


def test_the_window_ends_exactly_fourteen_days_after_the_rejection(users, lead):
    deadline = REJECTED_AT + timedelta(days=14)
    with pytest.raises(ValidationError) as refused:
        raise_(lead, users, now=deadline + timedelta(seconds=1))
    message = refused.value.message_dict["lead"][0]
    assert "14 days" in message and "26/10/2026" in message  # the deadline, day-month-year (Jakarta)
    assert not Dispute.objects.exists() and not Notification.objects.filter(kind=Kind.DISPUTE_OPENED).exists()
    assert raise_(lead, users, now=deadline).raised_at == deadline  # the last instant still counts


def test_only_a_lead_still_rejected_can_be_disputed(users, sales_team, lead):
    fresh = LeadFactory(team=sales_team, owner=users["sales_rep"])
    with pytest.raises(ValidationError) as refused:
        raise_(fresh, users)
    assert refused.value.message_dict == {"lead": ["Only a rejected lead can be disputed."]}
    services.lead_status_change(lead=lead, by=users["sales_manager"], status="working", now=NOW - timedelta(hours=1))
    with pytest.raises(ValidationError, match="Only a rejected lead"):
        raise_(lead, users)  # reopened by its manager: nothing left to dispute
    assert not Dispute.objects.exists()


@pytest.mark.parametrize("note,error", [("   ", "Say why the rejection is wrong"), ("x" * 2001, "at most 2000")])
def test_a_dispute_needs_a_note_of_at_most_2000_characters(users, lead, note, error):
    with pytest.raises(ValidationError) as refused:
        raise_(lead, users, note=note)
    assert error in refused.value.message_dict["note"][0]
    assert not Dispute.objects.exists() and not Notification.objects.filter(kind=Kind.DISPUTE_OPENED).exists()


def test_one_open_dispute_per_rejection(users, lead):
    first = raise_(lead, users)
    with pytest.raises(ValidationError) as refused:
        raise_(lead, users, "marketing_manager", now=NOW + timedelta(hours=1))
    assert refused.value.message_dict == {"lead": ["This rejection is already disputed; wait for the ruling."]}
    assert list(Dispute.objects.all()) == [first]
    # The database holds the rule too, for two raised at the same moment.
    with pytest.raises(IntegrityError), transaction.atomic():
        Dispute.objects.create(
            lead=lead, rejection=first.rejection, raised_by=users["admin"], raised_at=NOW, note="Again."
        )


def test_after_an_upheld_ruling_the_rejection_may_be_disputed_again_while_in_time(users, lead):
    rule(raise_(lead, users), users, ruling="upheld", note="A bot, we checked.")
    second = raise_(lead, users, "marketing_manager", now=NOW + timedelta(days=1), note="New evidence: a call.")
    assert second.state == "open" and Dispute.objects.count() == 2
    rule(second, users, ruling="upheld", note="Still a bot.", now=NOW + timedelta(days=2))
    with pytest.raises(ValidationError, match="14 days"):
        raise_(lead, users, now=REJECTED_AT + timedelta(days=14, seconds=1))


# -- ruling --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "role,allowed",
    [
        ("admin", True),
        ("sales_manager", True),
        ("other_manager", False),
        ("marketing_manager", False),
        ("marketer", False),
        ("sales_rep", False),
    ],
)
def test_who_may_rule_on_a_dispute(users, lead, role, allowed):
    dispute = raise_(lead, users)
    if allowed:
        assert rule(dispute, users, role, ruling="upheld").state == "upheld"
    else:
        with pytest.raises(PermissionDenied):
            rule(dispute, users, role)
        assert Dispute.objects.get().state == "open"


@pytest.mark.parametrize(
    "ruling,note,field",
    [("maybe", "Because.", "ruling"), ("overturned", "  ", "ruling_note"), ("upheld", "", "ruling_note")],
)
def test_a_ruling_is_upheld_or_overturned_with_a_reason(users, lead, ruling, note, field):
    dispute = raise_(lead, users)
    with pytest.raises(ValidationError) as refused:
        rule(dispute, users, ruling=ruling, note=note)
    assert list(refused.value.message_dict) == [field]
    dispute.refresh_from_db()
    assert (dispute.state, dispute.ruled_at, Lead.objects.get(pk=lead.pk).status) == ("open", None, "rejected")
    assert not Notification.objects.filter(kind=Kind.DISPUTE_RULED).exists()


def test_upheld_the_rejection_stands_and_marketing_hears_of_it(users, lead):
    dispute = rule(raise_(lead, users), users, ruling="upheld", note="A bot, we checked.")
    assert (dispute.state, dispute.ruled_by, dispute.ruled_at) == ("upheld", users["sales_manager"], NOW)
    lead.refresh_from_db()
    assert lead.status == "rejected" and lead.owner == users["sales_rep"]
    assert Rejection.objects.get().overturned_at is None
    # The raiser and the marketing managers of the campaign's team (and the raiser's); not the ruler.
    assert told(Kind.DISPUTE_RULED) == [("marketer1", dispute.pk), ("marketing.manager", dispute.pk)]


def test_a_dispute_is_ruled_on_once(users, lead):
    dispute = rule(raise_(lead, users), users, ruling="upheld", note="A bot.")
    before = Notification.objects.count()
    with pytest.raises(ValidationError) as refused:
        rule(dispute, users, "admin", ruling="overturned", now=NOW + timedelta(hours=1))
    assert refused.value.message_dict == {"ruling": ["This dispute was already ruled on."]}
    dispute.refresh_from_db()
    assert (dispute.state, dispute.ruled_by) == ("upheld", users["sales_manager"])
    assert Notification.objects.count() == before  # no second ruling, no second notification
    assert Lead.objects.get(pk=lead.pk).status == "rejected"


def test_overturned_the_lead_goes_back_to_sales_and_is_routed_again(users, sales_team, lead):
    seed_slas(team=sales_team, by=users["sales_manager"], now=NOW - timedelta(days=30))
    old = Assignment.objects.get(lead=lead)
    dispute = rule(raise_(lead, users), users)
    lead.refresh_from_db()
    assert (lead.status, lead.closed_at) == ("new", None)
    assert Rejection.objects.get().overturned_at == NOW  # out of the figures, still on record
    change = StatusChange.objects.filter(lead=lead).latest("at", "pk")
    assert (change.from_status, change.to_status, change.by, change.at) == (
        "rejected",
        "new",
        users["sales_manager"],
        NOW,
    )
    decision = Decision.objects.get(lead=lead, trigger="dispute")
    assert decision.step == "default" and decision.owner_id in {users["sales_rep"].pk, users["other_rep"].pk}
    assert lead.owner_id == decision.owner_id and lead.assigned_at == NOW
    old.refresh_from_db()
    assert old.ended_at == NOW
    new = Assignment.objects.get(lead=lead, ended_at__isnull=True)
    assert (new.owner_id, new.assigned_at) == (decision.owner_id, NOW)
    # Whoever has it now has new clocks; the old owner's are over and can never breach on them.
    running = Clock.objects.filter(lead=lead, state="running")
    assert {(c.kind, c.owner_id, c.started_at) for c in running} == {
        ("response", decision.owner_id, NOW),
        ("cadence", decision.owner_id, NOW),
    }
    assert not Clock.objects.filter(lead=lead, assignment=old, state="running").exists()
    assert told(Kind.DISPUTE_RULED) == [("marketer1", dispute.pk), ("marketing.manager", dispute.pk)]
    assert Notification.objects.filter(kind=Kind.LEAD_ASSIGNED, lead=lead, user_id=decision.owner_id).exists()


def test_overturned_when_nobody_can_take_it_the_lead_waits_unassigned(users, sales_team, lead):
    User.objects.filter(team=sales_team, role=Role.SALES_REP).update(away=True)
    rule(raise_(lead, users), users, "admin")
    lead.refresh_from_db()
    assert (lead.status, lead.owner) == ("new", None)
    assert Decision.objects.get(lead=lead, trigger="dispute").step == "none"
    assert not Assignment.objects.filter(lead=lead, ended_at__isnull=True).exists()
    assert Notification.objects.filter(kind=Kind.NO_REP_AVAILABLE, lead=lead, user=users["sales_manager"]).exists()


def test_overturning_an_old_rejection_leaves_a_later_one_alone(users, lead):
    dispute = raise_(lead, users)
    services.lead_status_change(lead=lead, by=users["sales_manager"], status="working", now=NOW)
    services.lead_reject(lead=lead, by=users["sales_manager"], reason="not_icp", now=NOW + timedelta(minutes=5))
    rule(dispute, users, now=NOW + timedelta(minutes=10))
    lead.refresh_from_db()
    assert lead.status == "rejected"  # rejected again since, for another reason
    assert list(Rejection.objects.order_by("at").values_list("reason", "overturned_at")) == [
        ("spam", NOW + timedelta(minutes=10)),
        ("not_icp", None),
    ]


def test_the_timeline_shows_the_dispute_and_its_ruling(users, lead):
    from leads.selectors import lead_timeline

    rule(raise_(lead, users, now=NOW - timedelta(hours=5)), users)
    kinds = [entry.kind for entry in lead_timeline(lead=lead)]
    assert kinds[:5] == ["status", "assignment", "routing", "ruling", "dispute"]


# -- the figures -----------------------------------------------------------------------------------------
def _range(team, first, last):
    return scope_range(Scope(team=team), first, last)


def test_an_overturned_rejection_leaves_the_rejection_figures_and_the_volume_exclusions(
    users, sales_team, marketing_team, campaign, lead
):
    kept = rejected_lead(users, sales_team, reason="duplicate", campaign=campaign)
    volume = sla_services.sla_create(
        by=users["marketing_manager"], team=sales_team, kind="volume", name="Volume", from_team=marketing_team,
        now=NOW - timedelta(days=90),
    )  # fmt: skip
    october = _range(sales_team, date(2026, 10, 1), date(2026, 10, 31))
    cohort = Lead.objects.filter(team=sales_team)

    def figures():
        return (
            metrics.rejection_rate(Scope(team=sales_team), *october),
            metrics.rejection_rate(
                Scope(team=marketing_team), *_range(marketing_team, date(2026, 10, 1), date(2026, 10, 31))
            ),
            quality_by(cohort, "source")[0]["reasons"],
            volume_delivered(sla=volume, start=october[0], end=october[1]),
        )

    assert figures() == (1.0, 1.0, {"spam": 1, "duplicate": 1}, 0)
    rule(raise_(lead, users), users)
    assert figures() == (0.5, 0.5, {"duplicate": 1}, 1)
    assert kept.rejections.get().overturned_at is None


def test_a_lead_rejected_again_after_an_overturn_counts_by_its_new_reason(users, sales_team, marketing_team, lead):
    volume = sla_services.sla_create(
        by=users["marketing_manager"], team=sales_team, kind="volume", name="Volume", from_team=marketing_team,
        now=NOW - timedelta(days=90),
    )  # fmt: skip
    rule(raise_(lead, users), users)
    lead.refresh_from_db()
    services.lead_reject(lead=lead, by=users["sales_manager"], reason="not_icp", now=NOW + timedelta(hours=1))
    october = _range(sales_team, date(2026, 10, 1), date(2026, 10, 31))
    assert quality_by(Lead.objects.all(), "source")[0]["reasons"] == {"not_icp": 1}
    assert volume_delivered(sla=volume, start=october[0], end=october[1]) == 1  # not_icp still counts


def _card(team, period, start):
    return Scorecard.objects.get(team=team, period=period, period_start=start)


def test_scorecards_are_recomputed_after_an_overturn_and_count_the_disputes(
    users, sales_team, other_sales_team, marketing_team, campaign
):
    # Created in July (last quarter's card), rejected on 5 October: both periods change.
    lead = rejected_lead(
        users,
        sales_team,
        campaign=campaign,
        at=datetime(2026, 10, 5, 3, tzinfo=UTC),
        created=datetime(2026, 7, 20, 3, tzinfo=UTC),
    )
    scorecards_compute(now=NOW, teams=[sales_team, other_sales_team, marketing_team])
    quarter = _card(marketing_team, "quarter", date(2026, 7, 1))
    assert quarter.metrics["rejection_reasons"] == {"spam": 1} and quarter.metrics["rejection_rate"] == 1.0
    untouched = _card(other_sales_team, "month", date(2026, 10, 1)).computed_at

    dispute = raise_(lead, users, now=NOW - timedelta(days=1))
    later = NOW + timedelta(minutes=30)
    rule(dispute, users, now=later)
    stale = set(Scorecard.objects.filter(stale_at__isnull=False).values_list("team__name", "period", "period_start"))
    assert stale == {
        (team.name, period, start)
        for team in (sales_team, marketing_team)
        for period, start in [
            ("quarter", date(2026, 7, 1)),
            ("month", date(2026, 10, 1)),
            ("quarter", date(2026, 10, 1)),
        ]
    }
    assert scorecards_refresh(now=later) == 6
    assert scorecards_refresh(now=later) == 0  # nothing left to do
    quarter = _card(marketing_team, "quarter", date(2026, 7, 1))
    assert quarter.metrics["rejection_reasons"] == {} and quarter.metrics["rejection_rate"] == 0.0
    assert quarter.metrics["acceptance_rate"] == 1.0 and quarter.computed_at == later and quarter.stale_at is None
    assert _card(sales_team, "quarter", date(2026, 7, 1)).metrics["rejection_rate"] == 0.0
    for team in (sales_team, marketing_team):  # each side counts the dispute in October
        october = _card(team, "month", date(2026, 10, 1)).metrics
        assert (october["disputes_raised"], october["disputes_overturned"]) == (1, 1), team
    assert _card(other_sales_team, "month", date(2026, 10, 1)).computed_at == untouched


def test_raising_a_dispute_marks_the_current_cards_for_recomputing(users, sales_team, marketing_team, lead):
    scorecards_compute(now=NOW, teams=[sales_team, marketing_team])
    raise_(lead, users)
    assert Scorecard.objects.filter(stale_at=NOW).count() == 4  # each side's month and quarter
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        assert refresh_scorecards() == 4  # the periodic job, called as the worker calls it
    assert _card(marketing_team, "month", date(2026, 10, 1)).metrics["disputes_raised"] == 1
    assert _card(sales_team, "month", date(2026, 10, 1)).metrics["disputes_overturned"] == 0


def test_the_refresh_costs_the_same_statements_for_two_cards_or_twelve(
    users, sales_team, other_sales_team, marketing_team
):
    teams = [sales_team, other_sales_team, marketing_team]
    scorecards_compute(now=NOW, teams=teams)
    Scorecard.objects.filter(team=sales_team, period="month").update(stale_at=NOW)
    with CaptureQueriesContext(connection) as few:
        assert scorecards_refresh(now=NOW) == 2
    Scorecard.objects.update(stale_at=NOW)
    with CaptureQueriesContext(connection) as many:
        assert scorecards_refresh(now=NOW) == 12
    assert len(many) == len(few)


# -- notifications -------------------------------------------------------------------------------------
def test_notifications_say_what_happened_and_lead_where_to_act(users, lead):
    dispute = raise_(lead, users)
    opened = notification_list(user=users["sales_manager"]).get(kind=Kind.DISPUTE_OPENED)
    assert notification_text(opened) == f"{users['marketer']} disputes the rejection of “{lead.name}”."
    assert notification_link(opened) == f"/leads/disputes/?lead={lead.pk}"
    rule(dispute, users)
    ruled = notification_list(user=users["marketer"]).get(kind=Kind.DISPUTE_RULED)
    assert notification_text(ruled) == f"The rejection of “{lead.name}” was overturned: the lead goes back to Sales."
    assert notification_link(ruled) == f"/leads/{lead.pk}/"


def test_notifying_costs_one_statement_whatever_the_number_of_managers(users, sales_team, marketing_team, lead):
    dispute = raise_(lead, users)
    for n in range(12):
        UserFactory(username=f"manager{n}", role=Role.SALES_MANAGER, team=sales_team)
        UserFactory(username=f"mm{n}", role=Role.MARKETING_MANAGER, team=marketing_team)
    Notification.objects.filter(dispute=dispute).delete()
    with CaptureQueriesContext(connection) as queries:
        assert notification_services.dispute_opened_notify(dispute=dispute, now=NOW) == 14
    assert len(queries) == 1
    dispute = rule(dispute, users)
    Notification.objects.filter(dispute=dispute, kind=Kind.DISPUTE_RULED).delete()
    with CaptureQueriesContext(connection) as queries:
        assert notification_services.dispute_ruled_notify(dispute=dispute, now=NOW) == 14
    assert len(queries) == 1


# -- API ----------------------------------------------------------------------------------------------
@time_machine.travel(NOW, tick=False)
def test_api_marketing_raises_a_dispute_with_lead_and_note(api_as, users, lead):
    response = api_as(users["marketer"]).post(DISPUTES, {"lead": lead.pk, "note": "She called back."})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert list(body) == FIELDS
    assert body["lead"] == lead.pk and body["rejection"] == lead.rejections.get().pk
    assert (body["raised_by"], body["state"], body["ruled_by"], body["ruled_at"]) == (
        users["marketer"].pk,
        "open",
        None,
        None,
    )
    assert body["raised_at"] == "2026-10-14T10:00:00+07:00"


@pytest.mark.parametrize("role", ["sales_manager", "sales_rep", "other_manager"])
@time_machine.travel(NOW, tick=False)
def test_api_sales_may_not_raise_a_dispute(api_as, users, lead, role):
    response = api_as(users[role]).post(DISPUTES, {"lead": lead.pk, "note": "x"})
    assert response.status_code == 403
    assert api_as(users[role]).post(DISPUTES, {}).status_code == 403  # whatever it sends
    assert not Dispute.objects.exists()


@pytest.mark.parametrize(
    "data,field",
    [
        ({"lead": "{lead}"}, "note"),
        ({"lead": "{lead}", "note": ""}, "note"),
        ({"lead": "{fresh}", "note": "x"}, "lead"),
        ({"lead": 999999, "note": "x"}, "lead"),
        ({"note": "x"}, "lead"),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_api_refuses_bad_input_with_field_errors(api_as, users, sales_team, lead, data, field):
    fresh = LeadFactory(team=sales_team)
    body = {k: v.format(lead=lead.pk, fresh=fresh.pk) if isinstance(v, str) else v for k, v in data.items()}
    response = api_as(users["marketer"]).post(DISPUTES, body)
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not Dispute.objects.exists()


def test_api_refuses_a_dispute_too_late_or_twice(api_as, users, lead):
    client = api_as(users["marketing_manager"])
    with time_machine.travel(REJECTED_AT + timedelta(days=14, seconds=1), tick=False):
        late = client.post(DISPUTES, {"lead": lead.pk, "note": "x"})
    assert late.status_code == 400 and "14 days" in late.json()["lead"][0]
    with time_machine.travel(REJECTED_AT + timedelta(days=14), tick=False):
        assert client.post(DISPUTES, {"lead": lead.pk, "note": "x"}).status_code == 201
        again = client.post(DISPUTES, {"lead": lead.pk, "note": "y"})
    assert again.status_code == 400 and "already disputed" in again.json()["lead"][0]
    assert Dispute.objects.count() == 1


def test_api_lists_the_disputes_of_visible_leads(api_as, users, sales_team, lead, other_lead):
    mine, theirs = raise_(lead, users), raise_(other_lead, users, "marketing_manager")
    teammate_lead = rejected_lead(users, sales_team, by="other_rep")
    teammates = raise_(teammate_lead, users, "admin")
    expected = {
        "admin": {mine.pk, theirs.pk, teammates.pk},
        "marketing_manager": {mine.pk, theirs.pk, teammates.pk},
        "marketer": {mine.pk, theirs.pk, teammates.pk},
        "sales_manager": {mine.pk, teammates.pk},
        "sales_rep": {mine.pk},  # the rep's own (rejected) lead
        "other_rep": {teammates.pk},
        "other_manager": {theirs.pk},
        "other_team_rep": {theirs.pk},
    }
    for role, ids in expected.items():
        response = api_as(users[role]).get(DISPUTES)
        assert response.status_code == 200
        assert {row["id"] for row in response.json()["results"]} == ids, role
        assert set(response.json()) == {"count", "next", "previous", "results"}
    assert api_as(users["sales_rep"]).get(f"{DISPUTES}{theirs.pk}/").status_code == 404
    assert api_as(users["other_rep"]).get(f"{DISPUTES}{mine.pk}/").status_code == 404


def test_api_filters_by_state_lead_team_and_raiser(api_as, users, marketing_team, lead, other_lead):
    mine, theirs = raise_(lead, users), raise_(other_lead, users, "admin")
    rule(theirs, users, "other_manager", ruling="upheld")
    client = api_as(users["marketing_manager"])

    def ids(**query):
        response = client.get(DISPUTES, query)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids(state="open") == {mine.pk} and ids(state="upheld") == {theirs.pk}
    assert ids(lead=other_lead.pk) == {theirs.pk}
    assert ids(team=lead.team_id) == {mine.pk} and ids(team=marketing_team.pk) == {mine.pk}  # either side's team
    assert ids(raised_by=users["admin"].pk) == {theirs.pk}
    assert client.get(DISPUTES, {"state": "pending"}).status_code == 400
    assert client.get(DISPUTES, {"lead": "x"}).status_code == 400


@time_machine.travel(NOW, tick=False)
def test_api_the_sales_manager_rules_and_others_are_refused(api_as, users, lead):
    dispute = raise_(lead, users)
    url = f"{DISPUTES}{dispute.pk}/"
    body = {"ruling": "overturned", "ruling_note": "She is a buyer."}
    for role in ("marketing_manager", "marketer", "sales_rep"):
        assert api_as(users[role]).patch(url, body).status_code == 403, role
    for role in ("other_manager", "other_rep", "other_team_rep"):
        assert api_as(users[role]).patch(url, body).status_code == 404, role
    assert Dispute.objects.get().state == "open"
    response = api_as(users["sales_manager"]).patch(url, body)
    assert response.status_code == 200, response.json()
    assert list(response.json()) == FIELDS
    assert response.json()["state"] == "overturned" and response.json()["ruled_by"] == users["sales_manager"].pk
    assert response.json()["ruling_note"] == "She is a buyer."
    assert Lead.objects.get(pk=lead.pk).status == "new"
    notes = Notification.objects.filter(kind=Kind.DISPUTE_RULED).count()
    twice = api_as(users["admin"]).patch(url, {"ruling": "upheld", "ruling_note": "No."})
    assert twice.status_code == 400 and twice.json() == {"ruling": ["This dispute was already ruled on."]}
    assert Notification.objects.filter(kind=Kind.DISPUTE_RULED).count() == notes


@pytest.mark.parametrize(
    "body,field",
    [
        ({"ruling": "maybe", "ruling_note": "x"}, "ruling"),
        ({"ruling_note": "x"}, "ruling"),
        ({"ruling": "upheld"}, "ruling_note"),
        ({"ruling": "overturned", "ruling_note": " "}, "ruling_note"),
        ({"ruling": "upheld", "ruling_note": "x" * 2001}, "ruling_note"),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_api_refuses_a_bad_ruling_with_field_errors(api_as, users, lead, body, field):
    dispute = raise_(lead, users)
    response = api_as(users["admin"]).patch(f"{DISPUTES}{dispute.pk}/", body)
    assert response.status_code == 400 and field in response.json(), response.json()
    assert Dispute.objects.get().state == "open"


def test_api_list_costs_the_same_queries_at_10_and_50_disputes(api_as, users, sales_team, campaign):
    def count() -> int:
        client = api_as(users["sales_manager"])
        with CaptureQueriesContext(connection) as queries:
            response = client.get(DISPUTES)
        assert response.status_code == 200
        return len(queries)

    _disputes(users, sales_team, campaign, 10)
    ten = count()
    _disputes(users, sales_team, campaign, 40)
    assert count() == ten


def _disputes(users, team, campaign, n: int) -> None:
    for _ in range(n):
        lead = rejected_lead(users, team, campaign=campaign)
        raise_(lead, users)


# -- pages ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["/leads/disputes/", "/leads/rejections/"])
def test_dispute_pages_need_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@time_machine.travel(NOW, tick=False)
def test_the_lead_page_offers_marketing_the_dispute_form_until_the_deadline(client, users, lead):
    client.force_login(users["marketer"])
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "Dispute this rejection" in page and "until 26/10/2026" in page
    client.force_login(users["sales_manager"])
    assert "Dispute this rejection" not in client.get(f"/leads/{lead.pk}/").content.decode()
    client.force_login(users["marketer"])
    with time_machine.travel(REJECTED_AT + timedelta(days=15), tick=False):
        page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "Dispute this rejection" not in page and "ended on 26/10/2026" in page


@time_machine.travel(NOW, tick=False)
def test_a_dispute_raised_on_the_lead_page_is_ruled_on_from_there_too(client, users, lead):
    client.force_login(users["marketer"])
    response = client.post(f"/leads/{lead.pk}/dispute/", {"note": "She called back."})
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    dispute = Dispute.objects.get()
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "Waiting for the sales team’s manager to rule on it." in page and "Rejection disputed by" in page
    client.force_login(users["sales_manager"])
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert f'action="/leads/disputes/{dispute.pk}/rule/"' in page
    response = client.post(
        f"/leads/disputes/{dispute.pk}/rule/",
        {"ruling": "overturned", "ruling_note": "Fair.", "next": f"/leads/{lead.pk}/"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/leads/{lead.pk}/"
    page = response.content.decode()
    assert "Rejection overturned:" in page and "is a new lead again" in page
    assert "Rejection overturned by" in page and "Dispute overturned" in page  # the ruling, the routing
    assert Lead.objects.get(pk=lead.pk).status == "new"


@time_machine.travel(NOW, tick=False)
def test_the_lead_page_shows_why_a_dispute_was_refused(client, users, lead):
    client.force_login(users["marketer"])
    response = client.post(f"/leads/{lead.pk}/dispute/", {"note": ""})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    raise_(lead, users, "admin")
    response = client.post(f"/leads/{lead.pk}/dispute/", {"note": "Me too."})
    assert response.status_code == 400 and "already disputed" in response.content.decode()
    assert Dispute.objects.count() == 1
    fresh = LeadFactory(team=lead.team)  # not rejected (say, reopened since the page was loaded)
    response = client.post(f"/leads/{fresh.pk}/dispute/", {"note": "A buyer."})
    assert response.status_code == 400 and "Only a rejected lead can be disputed." in response.content.decode()


@pytest.mark.parametrize(
    "role,status", [("sales_manager", 403), ("sales_rep", 403), ("other_rep", 404), ("other_manager", 404)]
)
@time_machine.travel(NOW, tick=False)
def test_sales_cannot_raise_a_dispute_on_the_page(client, users, lead, role, status):
    client.force_login(users[role])
    assert client.post(f"/leads/{lead.pk}/dispute/", {"note": "x"}).status_code == status
    assert not Dispute.objects.exists()


@pytest.mark.parametrize(
    "role,status",
    [("marketing_manager", 403), ("marketer", 403), ("sales_rep", 403), ("other_manager", 404), ("other_rep", 404)],
)
@time_machine.travel(NOW, tick=False)
def test_only_the_teams_manager_or_an_admin_rules_on_the_page(client, users, lead, role, status):
    dispute = raise_(lead, users)
    client.force_login(users[role])
    response = client.post(f"/leads/disputes/{dispute.pk}/rule/", {"ruling": "overturned", "ruling_note": "x"})
    assert response.status_code == status
    assert Dispute.objects.get().state == "open"


@time_machine.travel(NOW, tick=False)
def test_a_bad_ruling_on_the_page_says_why_and_changes_nothing(client, users, lead):
    dispute = raise_(lead, users)
    client.force_login(users["sales_manager"])
    response = client.post(f"/leads/disputes/{dispute.pk}/rule/", {"ruling": "overturned"}, follow=True)
    assert "This field is required." in response.content.decode()
    response = client.post(f"/leads/disputes/{dispute.pk}/rule/", {"ruling": "maybe", "ruling_note": "x"}, follow=True)
    assert "Select a valid choice." in response.content.decode()
    assert Dispute.objects.get().state == "open"
    rule(dispute, users, "admin", ruling="upheld")
    response = client.post(
        f"/leads/disputes/{dispute.pk}/rule/", {"ruling": "overturned", "ruling_note": "x"}, follow=True
    )
    assert "This dispute was already ruled on." in response.content.decode()
    assert Dispute.objects.get().state == "upheld"


@time_machine.travel(NOW, tick=False)
def test_the_disputes_page_lists_both_sides_with_the_ruling_form_for_the_manager(
    client, users, marketing_team, lead, other_lead
):
    mine, theirs = raise_(lead, users), raise_(other_lead, users, "admin")
    client.force_login(users["sales_manager"])
    response = client.get("/leads/disputes/")
    page = response.content.decode()
    assert [d.pk for d, _may in response.context["rows"]] == [mine.pk]
    assert f'action="/leads/disputes/{mine.pk}/rule/"' in page and "1 open" in page
    client.force_login(users["marketer"])
    response = client.get("/leads/disputes/")
    assert {d.pk for d, _may in response.context["rows"]} == {mine.pk, theirs.pk}
    assert "/rule/" not in response.content.decode()
    assert "Waiting for the sales team’s manager to rule on it." in response.content.decode()
    rule(theirs, users, "other_manager", ruling="upheld")
    filtered = client.get("/leads/disputes/", {"state": "upheld"}).context["rows"]
    assert [d.pk for d, _may in filtered] == [theirs.pk]
    by_team = client.get("/leads/disputes/", {"team": marketing_team.pk}).context["rows"]
    assert [d.pk for d, _may in by_team] == [mine.pk]  # raised by the marketer of that team
    assert [d.pk for d, _may in client.get("/leads/disputes/", {"lead": lead.pk}).context["rows"]] == [mine.pk]
    assert (
        "No dispute matches these filters." in client.get("/leads/disputes/", {"state": "overturned"}).content.decode()
    )


def test_an_empty_disputes_page_says_what_comes_there(client, users):
    client.force_login(users["marketer"])
    assert "Find it among the rejections" in client.get("/leads/disputes/").content.decode()
    client.force_login(users["sales_manager"])
    assert "appears here for you to rule on" in client.get("/leads/disputes/").content.decode()


@time_machine.travel(NOW, tick=False)
def test_the_rejections_page_lets_marketing_dispute_within_the_window(client, users, sales_team, lead, other_lead):
    old = rejected_lead(users, sales_team, reason="not_icp", at=NOW - timedelta(days=20))
    raise_(other_lead, users)
    client.force_login(users["marketer"])
    response = client.get("/leads/rejections/")
    rows = {rejection.lead_id: disputable for rejection, disputable, _deadline in response.context["rows"]}
    assert rows == {lead.pk: True, old.pk: False, other_lead.pk: False}
    page = response.content.decode()
    assert f'action="/leads/{lead.pk}/dispute/"' in page and "until 26/10/2026" in page
    assert f'action="/leads/{old.pk}/dispute/"' not in page and "Disputed" in page
    opened = client.get("/leads/rejections/", {"open": "on"}).context["rows"]
    assert [rejection.lead_id for rejection, *_ in opened] == [lead.pk]
    assert [r.lead_id for r, *_ in client.get("/leads/rejections/", {"reason": "not_icp"}).context["rows"]] == [old.pk]
    response = client.post(f"/leads/{lead.pk}/dispute/", {"note": "A buyer.", "next": "/leads/rejections/?open=on"})
    assert response["Location"] == "/leads/rejections/?open=on"
    client.force_login(users["sales_manager"])
    response = client.get("/leads/rejections/")
    assert {r.lead_id for r, *_ in response.context["rows"]} == {lead.pk, old.pk}  # the team's only
    assert "/dispute/" not in response.content.decode()


def test_an_empty_rejections_page_says_so(client, users):
    client.force_login(users["marketer"])
    assert "Sales has accepted every lead so far" in client.get("/leads/rejections/").content.decode()
    assert "No rejection matches" in client.get("/leads/rejections/", {"reason": "spam"}).content.decode()


def test_the_menu_links_to_disputes_for_those_who_raise_or_rule(client, users):
    for role, shown in [("marketer", True), ("marketing_manager", True), ("sales_manager", True), ("sales_rep", False)]:
        client.force_login(users[role])
        assert ('href="/leads/disputes/"' in client.get("/").content.decode()) is shown, role


@time_machine.travel(NOW, tick=False)
def test_the_scorecards_show_the_disputes(client, users, sales_team, marketing_team, lead):
    raise_(lead, users, now=NOW - timedelta(hours=1))
    scorecards_compute(now=NOW, teams=[sales_team, marketing_team])
    client.force_login(users["marketing_manager"])
    page = client.get("/scorecards/").content.decode()
    assert "Disputes raised / overturned" in page and "Rejections disputed / overturned" in page


@pytest.mark.parametrize("url", ["/leads/disputes/", "/leads/rejections/"])
def test_the_pages_cost_the_same_queries_at_10_and_50_rows(client, users, sales_team, campaign, url):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    with time_machine.travel(NOW, tick=False):  # signed in at NOW: a session of today would expire there
        client.force_login(users["marketing_manager"])
        _disputes(users, sales_team, campaign, 10)
        ten = count()
        _disputes(users, sales_team, campaign, 40)
        assert count() == ten
