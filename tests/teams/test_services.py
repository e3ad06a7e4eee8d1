"""Team and user services: validation, membership history."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from notifications.models import Notification
from slas.models import Breach
from teams import selectors, services
from teams.models import ClosedDate, Membership, Role, Team, TimeOff, User
from tests.factories import MarketingTeamFactory, TeamFactory, UserFactory
from webhooks.models import Webhook

pytestmark = pytest.mark.django_db


def test_team_create_with_defaults_of_spec():
    team = services.team_create(name="Sales Medan", kind="sales")
    assert (team.timezone, team.work_days, team.holiday_country) == ("Asia/Jakarta", [1, 2, 3, 4, 5], "ID")
    assert (team.work_start, team.work_end, team.break_start) == (time(9), time(17), None)


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"work_days": [0, 8]}, "work_days"),
        ({"work_days": []}, "work_days"),
        ({"work_start": time(17), "work_end": time(9)}, "work_end"),
        ({"break_start": time(12)}, "break_end"),
        ({"break_start": time(8), "break_end": time(10)}, "break_start"),
        ({"holiday_country": "XX"}, "holiday_country"),
        ({"kind": "finance"}, "kind"),
    ],
)
def test_team_create_refuses_a_bad_calendar_and_writes_nothing(fields, field):
    with pytest.raises(ValidationError) as excinfo:
        services.team_create(name="Bad", kind=fields.pop("kind", "sales"), **fields)
    assert field in excinfo.value.message_dict
    assert not Team.objects.exists()


def test_team_names_are_unique():
    services.team_create(name="Sales", kind="sales")
    with pytest.raises(ValidationError, match="already exists"):
        services.team_create(name="Sales", kind="sales")


def test_holiday_country_is_upper_cased():
    assert services.team_create(name="Sales SG", kind="sales", holiday_country="sg").holiday_country == "SG"


def test_a_team_with_members_cannot_change_kind():
    team = TeamFactory()
    UserFactory(team=team)
    with pytest.raises(ValidationError, match="cannot change kind"):
        services.team_update(team=team, kind="marketing")
    team.refresh_from_db()
    assert team.kind == "sales"


def test_closed_dates_once_per_day():
    team = TeamFactory()
    services.closed_date_add(team=team, day=date(2026, 12, 24), name=" Cuti bersama ")
    with pytest.raises(ValidationError, match="already closed"):
        services.closed_date_add(team=team, day=date(2026, 12, 24))
    assert ClosedDate.objects.get().name == "Cuti bersama"


def test_user_create_validates_password_and_role_team():
    team = TeamFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.user_create(username="budi", password="123", role=Role.SALES_REP, team=team)
    assert "password" in excinfo.value.message_dict
    with pytest.raises(ValidationError, match="needs a team"):
        services.user_create(username="budi", password="correct-horse-9", role=Role.SALES_REP)
    with pytest.raises(ValidationError, match="Marketing"):
        services.user_create(username="budi", password="correct-horse-9", role=Role.MARKETER, team=team)
    assert not User.objects.exists()


def test_user_create_opens_a_membership():
    team = TeamFactory()
    user = services.user_create(
        username="budi", password="correct-horse-9", role=Role.SALES_REP, team=team, on=date(2026, 1, 5)
    )
    membership = Membership.objects.get(user=user)
    assert (membership.team, membership.role, membership.started_on, membership.ended_on) == (
        team,
        Role.SALES_REP,
        date(2026, 1, 5),
        None,
    )


def test_moving_a_rep_keeps_history_for_period_rules():
    jakarta, medan = TeamFactory(), TeamFactory()
    rep = UserFactory(team=jakarta, on=date(2026, 1, 5))
    services.user_update(user=rep, team=medan, on=date(2026, 3, 1))
    assert selectors.team_active_members(team_id=jakarta.pk, on=date(2026, 2, 28)).get().user == rep
    assert not selectors.team_active_members(team_id=jakarta.pk, on=date(2026, 3, 1)).exists()
    assert selectors.team_active_members(team_id=medan.pk, on=date(2026, 3, 31)).get().user == rep


def test_promotion_and_deactivation_end_the_rep_membership():
    team = TeamFactory()
    rep = UserFactory(team=team, on=date(2026, 1, 5))
    services.user_update(user=rep, role=Role.SALES_MANAGER, on=date(2026, 2, 1))
    assert not selectors.team_active_members(team_id=team.pk, on=date(2026, 2, 1)).exists()
    assert selectors.team_active_members(team_id=team.pk, on=date(2026, 2, 1), role=Role.SALES_MANAGER).exists()
    services.user_update(user=rep, is_active=False, on=date(2026, 3, 1))
    assert not Membership.objects.filter(user=rep, ended_on__isnull=True).exists()


def test_membership_sync_is_idempotent_and_same_day_changes_replace():
    team = TeamFactory()
    rep = UserFactory(team=team, on=date(2026, 1, 5))
    services.membership_sync(user=rep, on=date(2026, 1, 9))
    services.membership_sync(user=rep, on=date(2026, 1, 9))
    assert Membership.objects.filter(user=rep).count() == 1
    services.user_update(user=rep, role=Role.SALES_MANAGER, on=date(2026, 1, 5))
    assert list(Membership.objects.filter(user=rep).values_list("role", "started_on")) == [
        (Role.SALES_MANAGER, date(2026, 1, 5))
    ]


def test_user_update_rejects_a_weak_password_and_keeps_the_old_one():
    rep = UserFactory()
    with pytest.raises(ValidationError):
        services.user_update(user=rep, password="password")
    rep.refresh_from_db()
    assert rep.check_password("correct-horse-battery-9")


def test_marketer_needs_a_marketing_team():
    marketing = MarketingTeamFactory()
    user = UserFactory(role=Role.MARKETER, team=marketing)
    assert user.team.kind == "marketing"


def test_seed_demo_is_idempotent():
    from django.core.management import call_command

    from routing.models import Decision
    from webhooks.models import WebhookDelivery

    def counted():
        # Not what the sweep makes: a clock may fall due between the two runs.
        return [
            model.objects.count() for model in (Team, User, Membership, ClosedDate, TimeOff, Decision, WebhookDelivery)
        ]

    call_command("seed_demo")
    counts = counted()
    call_command("seed_demo")
    assert counted() == counts
    assert counts[1] == 8
    manager = User.objects.get(username="sales.manager")
    assert manager.check_password("selaras-demo")
    # The manager's bell rings with last week's breaches.
    week_ago = timezone.now() - timedelta(days=7)
    told = Notification.objects.filter(user=manager, kind="breach_team", breach__due_at__gte=week_ago)
    assert told.exists() and told.count() == Breach.objects.filter(team=manager.team, due_at__gte=week_ago).count()
    # The admin finds two webhooks, both switched off: the CRM's, with what it was sent, and Slack's.
    assert list(Webhook.objects.values_list("name", "active", "format")) == [
        ("CRM sync (demo)", False, "json"),
        ("Sales channel in Slack (demo)", False, "slack"),
    ]
    # Intake: a form, a Google Ads hook and a WhatsApp number, with leads that arrived through
    # each; the WhatsApp person wrote twice (one lead, one inquiry), Google's test made none.
    from intake.models import InboundEvent, InboundHook, LeadForm, WhatsAppNumber
    from leads.models import Inquiry, Lead

    assert (LeadForm.objects.count(), InboundHook.objects.count(), WhatsAppNumber.objects.count()) == (1, 1, 1)
    arrived = Lead.objects.values_list("arrived_via", "source")
    assert {("form", "web"), ("hook", "ads"), ("whatsapp", "ads")} <= set(arrived)
    assert Inquiry.objects.filter(channel="whatsapp").count() == 1
    assert sorted(InboundEvent.objects.values_list("state", flat=True)) == [
        "done", "done", "done", "done", "inquiry", "spam", "test",
    ]  # fmt: skip
    assert manager.team.name == "Sales Jakarta"
    assert User.objects.get(username="admin").is_superuser
