"""Weekly breach digest and e-mails of notifications: content, languages, time zones, exactly once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.core.management import call_command
from django.db import connection

from leads import services as leads
from notifications.services import notifications_email_schedule as email_schedule
from slas import services
from slas.models import Delivery
from slas.services import notifications
from tests.factories import LeadFactory
from tests.slas.conftest import jkt

pytestmark = pytest.mark.django_db
MONDAY_9 = jkt(2026, 8, 10, 9)  # the Monday after the week of 3–9 August


@pytest.fixture
def week_with_breaches(users, sales_team, response_sla, volume_sla):
    """One breach each for rep1 and rep2 in the week of 3 August, Jakarta (and July's volume
    breach owed by Marketing: the people have been in their teams since January)."""
    from datetime import date

    from teams.models import Membership

    Membership.objects.update(started_on=date(2026, 1, 1))
    for rep in ("sales_rep", "other_rep"):
        lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 4, 9), name=f"Lead of {rep}")
        leads.lead_assign(lead=lead, owner=users[rep], by=users["sales_manager"], now=jkt(2026, 8, 4, 9))
    services.sla_sweep(now=jkt(2026, 8, 6))


def send(now=MONDAY_9):
    notifications.digests_schedule(now=now)
    return notifications.deliveries_send(now=now)


def test_managers_get_both_sides_and_reps_their_own(users, week_with_breaches, mailoutbox):
    result = send()
    by_to = {message.to[0]: message for message in mailoutbox}
    manager = by_to["sales.manager@example.com"]
    assert "2 breaches" in manager.subject and "Sales Jakarta" in manager.subject
    text = manager.body
    assert users["sales_rep"].get_full_name() in text and users["other_rep"].get_full_name() in text
    assert "First touch within 1 business day: 2" in text
    assert "Response SLA compliance: 0 % (week before: —)" in text  # Sales' side
    assert "50 leads per rep per month:" in text  # Marketing's side
    assert "http://127.0.0.1:8000/breaches/?status=open" in text
    html = manager.alternatives[0][0]
    assert "Lead of sales_rep" in html and "<html" in html
    rep = by_to["rep1@example.com"]
    assert "1 breach this week." in rep.body and "Lead of other_rep" not in rep.body
    marketing = by_to["marketing.manager@example.com"]
    assert "Response SLA compliance" in marketing.body  # both teams see both sides
    assert result.sent == len(mailoutbox)


def test_nothing_is_sent_twice_even_when_run_again(users, week_with_breaches, mailoutbox):
    send()
    first = len(mailoutbox)
    send(MONDAY_9 + timedelta(hours=1))
    with time_machine.travel(MONDAY_9 + timedelta(hours=2), tick=False):
        call_command("send_breach_digest")
    assert len(mailoutbox) == first
    assert Delivery.objects.filter(kind="digest", status="sent").count() == first


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_digest_once(users, week_with_breaches, mailoutbox):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database serialises threads; CI runs this on PostgreSQL")
    notifications.digests_schedule(now=MONDAY_9)

    def run():
        try:
            notifications.deliveries_send(now=MONDAY_9)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    recipients = [message.to[0] for message in mailoutbox]
    assert len(recipients) == len(set(recipients)) == Delivery.objects.filter(status="sent").count()


def test_a_failure_is_retried_and_only_the_missing_one_is_sent(users, week_with_breaches, mailoutbox, monkeypatch):
    from django.core.mail import EmailMultiAlternatives

    original = EmailMultiAlternatives.send

    def refuse_the_manager(self, *args, **kwargs):
        if self.to == ["sales.manager@example.com"]:
            raise ConnectionRefusedError("SMTP refused")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse_the_manager)
    result = send()
    assert result.failed == 1
    failed = Delivery.objects.get(recipient=users["sales_manager"])
    assert (failed.status, failed.attempts, failed.sent_at) == ("failed", 1, None)
    assert "SMTP refused" in failed.last_error
    sent_before = len(mailoutbox)
    monkeypatch.setattr(EmailMultiAlternatives, "send", original)
    assert notifications.deliveries_send(now=MONDAY_9 + timedelta(minutes=1)).sent == 0  # backoff: not yet
    assert notifications.deliveries_send(now=MONDAY_9 + timedelta(minutes=3)).sent == 1
    assert len(mailoutbox) == sent_before + 1 and mailoutbox[-1].to == ["sales.manager@example.com"]


def test_the_recipients_language_and_time_zone(users, week_with_breaches, mailoutbox):
    manager = users["sales_manager"]
    manager.language = "id"
    manager.save()
    send()
    message = next(m for m in mailoutbox if m.to == ["sales.manager@example.com"])
    assert "pelanggaran" in message.subject.lower()
    assert "Asia/Jakarta" in message.body


def test_a_team_in_jayapura_gets_its_digest_at_its_own_monday_0800(users, other_sales_team, response_sla):
    # 08:00 in Jayapura is 06:00 in Jakarta.
    assert notifications.digests_schedule(now=jkt(2026, 8, 10, 5, 59)) == 0
    created = notifications.digests_schedule(now=jkt(2026, 8, 10, 6, 1))
    recipients = set(Delivery.objects.values_list("recipient__username", flat=True))
    assert created == 2 and recipients == {"papua.manager", "rep3"}
    notifications.digests_schedule(now=jkt(2026, 8, 10, 8, 1))
    assert "sales.manager" in set(Delivery.objects.values_list("recipient__username", flat=True))


def test_no_empty_digest_unless_asked(users, sales_team, mailoutbox):
    send()
    assert mailoutbox == []
    manager = users["sales_manager"]
    manager.digest_when_empty = True
    manager.save()
    Delivery.objects.all().delete()
    send()
    assert [m.to[0] for m in mailoutbox] == ["sales.manager@example.com"]
    assert "0 breaches" in mailoutbox[0].subject


def test_opted_out_users_get_nothing(users, week_with_breaches, mailoutbox):
    manager = users["sales_manager"]
    manager.digest_enabled = False
    manager.save()
    send()
    assert "sales.manager@example.com" not in [m.to[0] for m in mailoutbox]


def test_one_click_unsubscribe_works_without_login_and_refuses_tampering(client, users):
    token = notifications.unsubscribe_token(user=users["sales_manager"], kind="digest")
    page = client.get(f"/notifications/unsubscribe/{token}/")
    assert page.status_code == 200 and "Stop the weekly breach digest?" in page.content.decode()
    users["sales_manager"].refresh_from_db()
    assert users["sales_manager"].digest_enabled  # a GET (a mail scanner) changes nothing
    assert client.post(f"/notifications/unsubscribe/{token}/").status_code == 200
    users["sales_manager"].refresh_from_db()
    assert not users["sales_manager"].digest_enabled
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert client.post(f"/notifications/unsubscribe/{tampered}/").status_code == 400
    forged = signing.dumps({"u": users["other_rep"].pk, "k": "digest"}, salt="another-salt")
    assert client.post(f"/notifications/unsubscribe/{forged}/").status_code == 400
    users["other_rep"].refresh_from_db()
    assert users["other_rep"].digest_enabled


def test_the_preferences_page(client, users):
    client.force_login(users["sales_rep"])
    form = client.get("/accounts/notifications/").context["form"]
    assert form.initial["email_notifications"] == ["lead_assigned", "breach_team", "no_rep_available"]  # the default
    response = client.post(
        "/accounts/notifications/", {"digest_enabled": "on", "email_notifications": ["clock_at_risk", "breach_owner"]}
    )
    assert response.status_code == 302
    users["sales_rep"].refresh_from_db()
    assert users["sales_rep"].digest_enabled
    assert users["sales_rep"].email_notifications == ["clock_at_risk", "breach_owner"]
    bad = client.post("/accounts/notifications/", {"email_notifications": ["gossip"]})
    assert bad.status_code == 200 and "gossip" in bad.content.decode()
    users["sales_rep"].refresh_from_db()
    assert users["sales_rep"].email_notifications == ["clock_at_risk", "breach_owner"]


def test_one_e_mail_when_a_clock_falls_at_risk_for_a_rep_who_asked(users, sales_team, response_sla, mailoutbox):
    rep = users["sales_rep"]
    rep.email_notifications = ["clock_at_risk"]
    rep.save(update_fields=["email_notifications"])
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 5, 9), name="Siti Rahma")
    leads.lead_assign(lead=lead, owner=rep, by=users["sales_manager"], now=jkt(2026, 8, 5, 9))
    for minutes in (0, 5, 10):  # at risk from 15:00 (75 % of 8 business hours)
        now = jkt(2026, 8, 5, 15, minutes)
        services.sla_sweep(now=now)
        email_schedule(now=now)
        notifications.deliveries_send(now=now)
    assert len(mailoutbox) == 1
    assert "Siti Rahma" in mailoutbox[0].subject and f"/leads/{lead.pk}/" in mailoutbox[0].body


def test_the_command_dry_run_prints_and_sends_nothing(users, week_with_breaches, capsys, mailoutbox):
    call_command("send_breach_digest", "--week", "2026-W32", "--dry-run")
    out = capsys.readouterr().out
    assert "sales.manager@example.com" in out and "2 breach(es)" in out
    assert mailoutbox == [] and not Delivery.objects.exists()


def test_the_command_refuses_a_bad_week():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ISO week"):
        call_command("send_breach_digest", "--week", "last week")


def test_html_in_names_is_escaped_in_the_email(users, sales_team, response_sla, mailoutbox):
    lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 4, 9), name="<script>alert(1)</script>")
    leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=jkt(2026, 8, 4, 9))
    services.sla_sweep(now=jkt(2026, 8, 6))
    send()
    html = next(m for m in mailoutbox if m.to == ["sales.manager@example.com"]).alternatives[0][0]
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_the_admin_retries_failed_e_mails_past_their_last_attempt_and_nothing_else(
    client, users, week_with_breaches, mailoutbox
):
    send()
    Delivery.objects.filter(recipient=users["sales_manager"]).update(
        status="failed", attempts=notifications.MAX_ATTEMPTS, next_attempt_at=MONDAY_9, last_error="SMTP refused"
    )
    assert notifications.deliveries_send(now=MONDAY_9 + timedelta(days=1)).sent == 0  # given up
    operator = users["admin"]
    operator.is_staff = operator.is_superuser = True
    operator.save()
    client.force_login(operator)
    everyone = list(Delivery.objects.values_list("pk", flat=True))
    others = Delivery.objects.exclude(recipient=users["sales_manager"])
    others_before = sorted(others.values_list("pk", "status", "attempts", "next_attempt_at"))
    assert {status for _, status, _, _ in others_before} == {"sent", "skipped"}
    with time_machine.travel(MONDAY_9 + timedelta(days=1), tick=False):
        response = client.post(
            "/admin/slas/delivery/", {"action": "retry_now", "_selected_action": everyone}, follow=True
        )
    assert response.status_code == 200
    assert "1 e-mail will be retried." in response.content.decode()
    failed = Delivery.objects.get(recipient=users["sales_manager"])
    assert (failed.status, failed.attempts) == ("failed", 0)
    assert sorted(others.values_list("pk", "status", "attempts", "next_attempt_at")) == others_before
    sent_before = len(mailoutbox)
    assert notifications.deliveries_send(now=MONDAY_9 + timedelta(days=1)).sent == 1
    assert len(mailoutbox) == sent_before + 1 and mailoutbox[-1].to == ["sales.manager@example.com"]


def test_marketing_hears_of_a_week_when_only_sales_broke_its_promises(
    users, sales_team, response_sla, volume_sla, mailoutbox
):
    """The two-sided digest: Sales' breaches alone are news for the marketing manager, whose
    team owes nothing that week (the reps joined in September: July expected no leads)."""
    from datetime import date

    from teams.models import Membership

    Membership.objects.update(started_on=date(2026, 9, 1))
    for n in range(3):
        lead = LeadFactory(team=sales_team, created_at=jkt(2026, 8, 4, 9), name=f"Lead {n}")
        leads.lead_assign(lead=lead, owner=users["sales_rep"], by=users["sales_manager"], now=jkt(2026, 8, 4, 9))
    services.sla_sweep(now=jkt(2026, 8, 6))
    send()
    marketing = next(message for message in mailoutbox if message.to == ["marketing.manager@example.com"])
    assert "Sales, Sales Jakarta:" in marketing.body
    assert "3 response or cadence breaches this week" in marketing.body
    assert "0 breaches this week." in marketing.body  # none of Marketing's own
    assert "3 response or cadence breaches this week" in marketing.alternatives[0][0]


def test_a_quiet_week_on_both_sides_sends_nothing_to_either_manager(users, sales_team, response_sla, mailoutbox):
    send()
    assert not [m for m in mailoutbox if m.to[0] in ("marketing.manager@example.com", "sales.manager@example.com")]


def test_the_english_digest_writes_dates_day_month_year_on_a_24_hour_clock(users, week_with_breaches, mailoutbox):
    send()
    manager = next(message for message in mailoutbox if message.to == ["sales.manager@example.com"])
    assert "week of 3 Aug 2026 to 9 Aug 2026" in manager.body
    assert "04/08/2026 17:00 · First touch within 1 business day · Lead: Lead of sales_rep · Rep:" in manager.body
    assert "Aug." not in manager.body and "midnight" not in manager.body and "a.m." not in manager.body


def test_a_cadence_clock_behind_its_pace_sends_one_e_mail(users, sales_team, cadence_sla, mailoutbox):
    """At risk as the pages say it: 5 follow-ups in 30 days owe the first by day 6."""
    rep = users["sales_rep"]
    rep.email_notifications = ["clock_at_risk"]
    rep.save(update_fields=["email_notifications"])
    assigned = jkt(2026, 8, 3, 9)
    lead = LeadFactory(team=sales_team, created_at=assigned, name="Budi Santoso")
    leads.lead_assign(lead=lead, owner=rep, by=users["sales_manager"], now=assigned)
    for days in (5, 6, 7, 12):
        now = assigned + timedelta(days=days, minutes=1)
        services.sla_sweep(now=now)
        email_schedule(now=now)
        notifications.deliveries_send(now=now)
        if days == 5:
            assert mailoutbox == []  # on pace: nothing owed yet
    assert len(mailoutbox) == 1
    assert "“Budi Santoso” is at risk of breaching “5 touches in 30 days”" in mailoutbox[0].body


def test_only_admins_may_choose_to_hear_of_a_webhook_switched_off_by_e_mail(client, users):
    client.force_login(users["sales_rep"])
    assert "A webhook was switched off" not in client.get("/accounts/notifications/").content.decode()
    client.post("/accounts/notifications/", {"email_notifications": ["webhook_off"]})
    users["sales_rep"].refresh_from_db()
    assert users["sales_rep"].email_notifications == ["lead_assigned", "breach_team", "no_rep_available"]
    client.force_login(users["admin"])
    assert "A webhook was switched off" in client.get("/accounts/notifications/").content.decode()
    client.post("/accounts/notifications/", {"email_notifications": ["webhook_off"]})
    users["admin"].refresh_from_db()
    assert users["admin"].email_notifications == ["webhook_off"]
