"""The mail server refusing connections: digests fail visibly, are retried, and nothing is
marked sent that was not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import F
from django.test import Client

from slas.models import Delivery
from tests.faults.conftest import SmtpSink, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_refusing_mail_server_leaves_digests_failed_then_they_go_out_once(
    processes, own_redis, smtp_sink, digest_world
):
    recipients = sorted(Delivery.objects.values_list("recipient__email", flat=True))
    smtp_sink.stop()  # the port now refuses connections
    processes.worker()
    own_redis.send_task("slas.send_digests")
    wait_for(lambda: Delivery.objects.filter(status="failed").count() == 6, timeout=60, what="six failures")
    assert not Delivery.objects.filter(status="sent").exists()
    assert not Delivery.objects.filter(sent_at__isnull=False).exists()
    failed = Delivery.objects.filter(status="failed")
    assert {row.attempts for row in failed} == {1}
    assert all("Connection refused" in row.last_error or "ConnectionRefused" in row.last_error for row in failed)
    assert all(row.next_attempt_at > row.claimed_at for row in failed)  # backoff before the next attempt

    # Visible in the admin, with the reason.
    operator = digest_world.users["admin"]
    operator.is_staff = operator.is_superuser = True
    operator.save()
    admin = Client()
    admin.force_login(operator)
    page = admin.get("/admin/slas/delivery/?status__exact=failed")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('<td class="field-status">Failed, will retry</td>') == 6
    assert html.count("Connection refused") == 6

    # A run before the backoff is over leaves them alone.
    own_redis.send_task("slas.send_digests")
    wait_for(lambda: processes.started[0].output().count("succeeded") >= 2, timeout=60, what="the second run")
    assert Delivery.objects.filter(status="failed").count() == 6

    # The server is back and the backoff has passed: each goes out exactly once.
    back = SmtpSink(port=smtp_sink.port)
    back.start()
    try:
        Delivery.objects.update(next_attempt_at=F("next_attempt_at") - timedelta(hours=1))
        own_redis.send_task("slas.send_digests")
        wait_for(lambda: Delivery.objects.filter(status="sent").count() == 6, timeout=60, what="all sent")
        assert back.recipients() == recipients
        assert {row.attempts for row in Delivery.objects.all()} == {2}
    finally:
        back.stop()
