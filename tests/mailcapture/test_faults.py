"""E-mail capture when the IMAP server misbehaves (SPEC §10, §14): it refuses the login, or
cuts the connection in the middle of a fetch. The run fails cleanly (MailboxError, recorded
on the mailbox, whole batches kept), and the next run captures every message exactly once.
(The server down under a running beat is in tests/faults/test_mail_capture.py.)"""

from __future__ import annotations

import contextlib
import socket
import threading
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from leads.models import Touch
from mailcapture.imap import MailboxError
from mailcapture.models import CapturedMail, Mailbox
from mailcapture.services import mail_fetch
from tests.dovecot import PASSWORD
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


def sent_mail(number: int, *, to: str, padding: int = 0) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "rina@example.com", to, f"Penawaran {number}"
    mail["Date"] = (NOW - timedelta(hours=2)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    mail["Message-ID"] = f"<offer-{number}@example.com>"
    mail.set_content("Halo.\n" + "x" * padding)
    return bytes(mail)


@pytest.fixture
def rep_and_leads():
    rep = UserFactory(email="rina@example.com")
    leads = [
        LeadFactory(team=rep.team, owner=rep, email=f"lead{n}@client.co.id", created_at=NOW - timedelta(days=1))
        for n in range(3)
    ]
    return rep, leads


class CuttingProxy:
    """A TCP relay to the IMAP server that cuts every connection once the server has sent
    `limit` bytes through it: a network that drops in the middle of a fetch."""

    def __init__(self, port: int, limit: int) -> None:
        self.upstream, self.limit = port, limit
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self.listener.accept()
                server = socket.create_connection(("127.0.0.1", self.upstream))
                threading.Thread(target=self._pump, args=(client, server, None), daemon=True).start()
                threading.Thread(target=self._pump, args=(server, client, "limit"), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, limited: str | None) -> None:
        sent = 0
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if limited and sent + len(data) > self.limit:
                    self.cuts += 1
                    break
                target.sendall(data)
                sent += len(data)
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def close(self) -> None:
        self.listener.close()


def test_a_refused_login_fails_cleanly_and_the_next_run_captures_everything_once(mailbox, rep_and_leads):
    _, leads = rep_and_leads
    mailbox.append(*(sent_mail(n, to=leads[n % 3].email) for n in range(6)), arrived_at=NOW - timedelta(hours=1))
    wrong = mailbox.url.replace(f":{PASSWORD}@", ":not-the-password@")
    with pytest.raises(MailboxError, match=r"AUTHENTICATIONFAILED|Authentication failed"):
        mail_fetch(now=NOW, url=wrong)
    box = Mailbox.objects.get()
    assert "Authentication failed" in box.error or "AUTHENTICATIONFAILED" in box.error
    assert box.leased_until is None and box.last_uid == 0 and not CapturedMail.objects.exists()

    result = mail_fetch(now=NOW + timedelta(minutes=1))
    again = mail_fetch(now=NOW + timedelta(minutes=2))
    assert (result.read, result.touches, again.read) == (6, 6, 0)
    assert Touch.objects.filter(origin="email").count() == 6
    assert Mailbox.objects.get().error == ""


def test_a_connection_cut_mid_fetch_keeps_whole_batches_and_the_next_run_captures_the_rest_once(
    mailbox, rep_and_leads, settings
):
    _, leads = rep_and_leads
    settings.MAIL_CAPTURE_BATCH = 10
    messages = [sent_mail(n, to=leads[n % 3].email, padding=20_000) for n in range(60)]
    mailbox.append(*messages, arrived_at=NOW - timedelta(hours=1))
    proxy = CuttingProxy(mailbox.server.port, limit=500_000)  # about the third batch of bodies
    through_proxy = mailbox.url.replace(f":{mailbox.server.port}/", f":{proxy.port}/")
    try:
        with pytest.raises(MailboxError):
            mail_fetch(now=NOW, url=through_proxy)
        assert proxy.cuts == 1
        kept = CapturedMail.objects.count()
        box = Mailbox.objects.get()
        # What was kept is whole batches, processed, and the cursor stands after the last of them.
        assert 0 < kept < 60 and kept % 10 == 0 and box.last_uid == kept and box.error
        assert Touch.objects.count() == kept and box.leased_until is None

        proxy.limit = 10**9  # the network is back
        mail_fetch(now=NOW + timedelta(minutes=1), url=through_proxy)
        mail_fetch(now=NOW + timedelta(minutes=2), url=through_proxy)
    finally:
        proxy.close()
    assert CapturedMail.objects.count() == 60
    assert Touch.objects.count() == 60
    assert sorted(Touch.objects.values_list("external_id", flat=True)) == sorted(
        f"offer-{n}@example.com" for n in range(60)
    )
