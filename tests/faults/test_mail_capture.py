"""E-mail capture under fault with the real processes (SPEC §10, §14): the IMAP server is down
while a Celery beat and worker run the capture every two seconds. Every run fails cleanly
(the error on the mailbox, nothing stored); once the server is back, the next beat captures
every message, each exactly once, and later beats add nothing.
(A refused login and a connection cut mid-fetch are in tests/mailcapture/test_faults.py.)"""

from __future__ import annotations

import time
from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.utils import timezone

from leads.models import Touch
from mailcapture.models import CapturedMail, Mailbox
from tests.dovecot import Dovecot
from tests.factories import LeadFactory, UserFactory
from tests.faults.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def sent_mail(number: int, *, to: str) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "rina@example.com", to, f"Penawaran {number}"
    mail["Date"] = (timezone.now() - timedelta(minutes=30)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    mail["Message-ID"] = f"<offer-{number}@example.com>"
    mail.set_content("Halo.")
    return bytes(mail)


def test_the_mailbox_down_under_a_running_beat_then_back_captures_every_message_once(processes):
    server = Dovecot.start()
    try:
        box = server.mailbox()
        rep = UserFactory(email="rina@example.com")
        leads = [
            LeadFactory(
                team=rep.team, owner=rep, email=f"lead{n}@client.co.id", created_at=timezone.now() - timedelta(days=1)
            )
            for n in range(4)
        ]
        box.append(*(sent_mail(n, to=leads[n % 4].email) for n in range(20)))
        server.stop()

        every = {"MAIL_CAPTURE_IMAP_URL": box.url, "MAIL_CAPTURE_EVERY_SECONDS": "2"}
        processes.worker(**every)
        processes.beat(**every)
        wait_for(
            lambda: Mailbox.objects.filter(error__contains="refused").exists(), timeout=60, what="a failed run recorded"
        )
        time.sleep(4)  # more beats, each failing the same way
        assert not CapturedMail.objects.exists() and not Touch.objects.exists()
        assert Mailbox.objects.get().leased_until is None  # a failed run lets go of the mailbox

        server.launch()
        back = time.monotonic()
        wait_for(lambda: Touch.objects.count() >= 20, timeout=60, what="every message captured")
        recovered = time.monotonic() - back
        time.sleep(5)  # later beats find nothing new
        assert Touch.objects.count() == 20 and CapturedMail.objects.count() == 20
        assert Touch.objects.values("lead", "external_id").distinct().count() == 20
        assert Mailbox.objects.get().error == "" and recovered < 30
    finally:
        server.remove()
