"""E-mail capture against the real Dovecot: the path of one BCC from a rep to their lead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from leads.models import Touch
from mailcapture.models import CapturedMail
from mailcapture.services import mail_fetch
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


def message(*, sender: str, to: str, subject: str = "Penawaran", sent: datetime, message_id: str = "") -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, subject
    mail["Date"] = sent.strftime("%a, %d %b %Y %H:%M:%S +0000")
    if message_id:
        mail["Message-ID"] = message_id
    mail.set_content("Halo, terlampir penawaran kami.")
    return bytes(mail)


def test_a_bcc_to_the_capture_mailbox_is_one_touch_however_often_it_is_read(mailbox):
    rep = UserFactory(email="Rina@Example.com")
    lead = LeadFactory(team=rep.team, owner=rep, email="budi@client.co.id", created_at=NOW - timedelta(days=1))
    sent = NOW - timedelta(hours=2)
    mailbox.append(
        message(sender="Rina <rina@example.com>", to="Budi <Budi@Client.co.id>", sent=sent, message_id="<m1@x>"),
        arrived_at=NOW - timedelta(hours=1),
    )
    before = mailbox.state()
    first = mail_fetch(now=NOW)
    again = mail_fetch(now=NOW + timedelta(minutes=1))
    touch = Touch.objects.get(lead=lead)
    assert (touch.user, touch.kind, touch.origin, touch.external_id) == (rep, "email", "email", "m1@x")
    assert touch.occurred_at == sent and touch.notes == "Penawaran"
    assert first.read == 1 and first.touches == 1 and again.read == 0 and again.commands == 1
    assert CapturedMail.objects.get().state == CapturedMail.State.CAPTURED
    assert mailbox.state() == before  # nothing in the mailbox changed, not even \Seen
