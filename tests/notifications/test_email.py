"""Notifications by e-mail (SPEC §12): the kinds each person chooses, at most one e-mail per
person per five minutes, in their language, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing

from leads import services as leads
from notifications.models import Notification
from notifications.services import notifications_email_schedule
from notifications.tasks import send_email
from slas.models import Delivery
from slas.services import notifications
from tests.factories import LeadFactory
from tests.slas.conftest import jkt

pytestmark = pytest.mark.django_db

T0 = jkt(2026, 8, 5, 10)


def give(users, name, at, owner="sales_rep"):
    lead = LeadFactory(team=users["sales_manager"].team, name=name, created_at=at - timedelta(minutes=1))
    leads.lead_assign(lead=lead, owner=users[owner], by=users["sales_manager"], now=at)
    return lead


def run(at):
    notifications_email_schedule(now=at)
    return notifications.deliveries_send(now=at)


def test_what_comes_within_five_minutes_goes_out_as_one_e_mail(users, mailoutbox):
    for minute, name in enumerate(["Siti", "Budi", "Agus"]):
        give(users, name, T0 + timedelta(seconds=minute))
    run(T0 + timedelta(seconds=5))
    (first,) = mailoutbox
    assert first.to == [users["sales_rep"].email] and first.subject == "Selaras · 3 things for you"
    assert all(f"“{name}” was assigned to you." in first.body for name in ("Siti", "Budi", "Agus"))
    give(users, "Rina", T0 + timedelta(minutes=2))
    run(T0 + timedelta(minutes=2))
    run(T0 + timedelta(minutes=4, seconds=59))
    assert len(mailoutbox) == 1  # the next waits for the five minutes to pass
    give(users, "Dewi", T0 + timedelta(minutes=4))
    run(T0 + timedelta(minutes=5, seconds=6))
    assert len(mailoutbox) == 2
    assert "“Rina” was assigned to you." in mailoutbox[1].body and "“Dewi” was assigned to you." in mailoutbox[1].body
    assert "Siti" not in mailoutbox[1].body
    run(T0 + timedelta(minutes=20))
    assert len(mailoutbox) == 2 and not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_kinds_a_person_did_not_choose_stay_in_the_app(users, mailoutbox):
    rep = users["sales_rep"]
    rep.email_notifications = ["clock_at_risk"]
    rep.save(update_fields=["email_notifications"])
    give(users, "Siti", T0)
    run(T0)
    assert mailoutbox == [] and not Delivery.objects.exists()
    assert Notification.objects.get().emailed_at == T0  # considered, not e-mailed
    rep.email_notifications = ["lead_assigned"]
    rep.save(update_fields=["email_notifications"])
    run(T0 + timedelta(minutes=10))
    assert mailoutbox == []  # choosing later does not e-mail the past


def test_someone_without_an_address_or_inactive_gets_nothing(users, mailoutbox):
    rep, other = users["sales_rep"], users["other_rep"]
    rep.email = ""
    rep.save(update_fields=["email"])
    other.is_active = False
    other.save(update_fields=["is_active"])
    give(users, "Siti", T0)
    Notification.objects.create(user=other, kind="lead_assigned", lead=LeadFactory(team=rep.team), created_at=T0)
    run(T0)
    assert mailoutbox == [] and not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_the_e_mail_is_in_the_persons_language_with_a_way_to_stop_it(users, mailoutbox):
    rep = users["sales_rep"]
    rep.language = "id"
    rep.save(update_fields=["language"])
    lead = give(users, "Siti", T0)
    run(T0)
    (message,) = mailoutbox
    assert message.subject == "Selaras · “Siti” ditugaskan kepada Anda."
    assert f"/leads/{lead.pk}/" in message.body and "Waktu dalam zona Asia/Jakarta" in message.body
    token = message.extra_headers["List-Unsubscribe"].strip("<>").rsplit("/", 2)[-2]
    assert signing.loads(token, salt=notifications.UNSUBSCRIBE_SALT)["k"] == "notices"
    notifications.unsubscribe(token=token)
    rep.refresh_from_db()
    assert rep.email_notifications == []


def test_two_runs_at_once_or_again_make_one_e_mail(users, mailoutbox):
    give(users, "Siti", T0)
    assert notifications_email_schedule(now=T0) == 1
    assert notifications_email_schedule(now=T0) == 0
    assert notifications_email_schedule(now=T0 + timedelta(minutes=1)) == 0
    notifications.deliveries_send(now=T0)
    notifications.deliveries_send(now=T0)
    assert len(mailoutbox) == 1


def test_the_task_schedules_and_sends(users, mailoutbox, time_machine):
    time_machine.move_to(T0, tick=False)
    give(users, "Siti", T0)
    assert send_email.run() == {"scheduled": 1, "sent": 1, "failed": 0}
    assert len(mailoutbox) == 1
