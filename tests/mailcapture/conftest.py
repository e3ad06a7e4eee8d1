"""A real IMAP server (Debian's Dovecot) for the e-mail capture tests: one per test process,
a mailbox of its own for each test. Without Dovecot the tests are skipped, unless
MAIL_TESTS_REQUIRED or E2E_REQUIRED is set (CI), where its absence is a failure."""

from __future__ import annotations

import os

import pytest

from tests import dovecot


@pytest.fixture(scope="session")
def imap_server():
    if not dovecot.available():
        if os.environ.get("MAIL_TESTS_REQUIRED") or os.environ.get("E2E_REQUIRED"):
            pytest.fail("Dovecot is needed for the e-mail capture tests: apt-get install dovecot-imapd")
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    server = dovecot.Dovecot.start()
    yield server
    server.remove()


@pytest.fixture
def mailbox(imap_server, settings):
    """An empty mailbox of this test's own, set as the capture mailbox."""
    box = imap_server.mailbox()
    settings.MAIL_CAPTURE_IMAP_URL = box.url
    settings.MAIL_CAPTURE_ADDRESS = "capture@selaras.example"
    return box
