"""A throwaway Dovecot IMAP server on a loopback port, for the e-mail capture tests, the fault
tests and the benchmark: Debian's `dovecot-imapd`, with a configuration and mail store in a
temporary directory, run as a normal user (nobody, when started by root).

Any user name logs in with the password PASSWORD and has a mailbox of its own, so that each
test reads a mailbox nobody else writes to.
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

PASSWORD = "capture-secret"

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_max_userip_connections = 100
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
"""


def available() -> bool:
    return shutil.which("dovecot") is not None or Path("/usr/sbin/dovecot").exists()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Dovecot:
    root: Path
    port: int
    process: subprocess.Popen | None = None

    @classmethod
    def start(cls, port: int | None = None) -> Dovecot:
        root = Path(tempfile.mkdtemp(prefix="selaras-dovecot-"))
        server = cls(root=root, port=port or free_port())
        server.launch()
        return server

    def launch(self) -> None:
        """Start (or start again, on the same port and mail store) in the foreground of a child."""
        account = _account()
        (self.root / "home").mkdir(exist_ok=True)
        config = self.root / "dovecot.conf"
        config.write_text(
            CONFIG.format(
                root=self.root,
                port=self.port,
                user=account.pw_name,
                group=grp.getgrgid(account.pw_gid).gr_name,
                uid=account.pw_uid,
                gid=account.pw_gid,
                password=PASSWORD,
            )
        )
        if os.geteuid() == 0:
            _chown_tree(self.root, account.pw_uid, account.pw_gid)
            become = ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--clear-groups"]
        else:
            become = []
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        # On the machine's own clock: under faketime (the pinned-date runs of .ci/run) Dovecot
        # would see time jump back and stop taking connections for three minutes.
        environment = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}
        self.process = subprocess.Popen(
            [*become, binary, "-F", "-c", str(config)], start_new_session=True, env=environment
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        log = (self.root / "dovecot.log").read_text() if (self.root / "dovecot.log").exists() else ""
        raise RuntimeError(f"Dovecot did not start on port {self.port}: {log[-2000:]}")

    def stop(self) -> None:
        """Stop the server (its mail store stays, for `launch` to serve again)."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def mailbox(self, user: str | None = None) -> Mailbox:
        return Mailbox(self, user or f"capture-{uuid.uuid4().hex[:12]}@example.test")


@dataclass
class Mailbox:
    server: Dovecot
    user: str

    @property
    def url(self) -> str:
        return f"imap://{self.user}:{PASSWORD}@127.0.0.1:{self.server.port}/INBOX"

    def connect(self) -> imaplib.IMAP4:
        connection = imaplib.IMAP4("127.0.0.1", self.server.port, timeout=10)
        connection.login(self.user, PASSWORD)
        return connection

    def append(self, *messages: bytes, arrived_at: datetime | None = None) -> None:
        """Put `messages` in the INBOX with IMAP APPEND, as delivery would (arrival `arrived_at`)."""
        connection = self.connect()
        try:
            when = imaplib.Time2Internaldate(arrived_at) if arrived_at else None
            for raw in messages:
                status, data = connection.append("INBOX", None, when, raw)
                assert status == "OK", data
        finally:
            connection.logout()

    def state(self) -> tuple[int, list[tuple[int, bytes]]]:
        """(UIDVALIDITY, [(uid, flags)]): what a test checks to see the mailbox unchanged."""
        connection = self.connect()
        try:
            connection.select("INBOX", readonly=True)
            validity = int(connection.untagged_responses["UIDVALIDITY"][-1])
            status, data = connection.uid("FETCH", "1:*", "(UID FLAGS)")
            # \Recent belongs to whoever opened the mailbox first, not to the messages.
            found = (
                [line.replace(b"\\Recent", b"") for line in data if isinstance(line, bytes)] if status == "OK" else []
            )
            return validity, sorted((int(line.split(b"UID ")[1].split()[0]), line) for line in found)
        finally:
            connection.logout()


def _account() -> pwd.struct_passwd:
    if os.geteuid() == 0:
        return pwd.getpwnam("nobody")
    return pwd.getpwuid(os.geteuid())


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    os.chown(root, uid, gid)
    for path in root.rglob("*"):
        os.chown(path, uid, gid)
