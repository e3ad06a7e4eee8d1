"""The capture mailbox over IMAP, with Python's own `imaplib`, read-only: the mailbox is
opened with EXAMINE and messages fetched with BODY.PEEK, so nothing in it changes (not even
the \\Seen flag).

`MAIL_CAPTURE_IMAP_URL` names it: `imaps://user:password@host:993/INBOX`, or `imap://` for a
server on the same machine. Every network or protocol failure surfaces as `MailboxError`.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote, urlsplit

# An untagged FETCH answer's attributes, wherever the server puts them.
UID = re.compile(rb"\bUID (\d+)")
SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
INTERNALDATE = re.compile(rb'\bINTERNALDATE "([^"]+)"')


class MailboxError(Exception):
    """The mailbox could not be read: unreachable, refused the login, or broke off."""


@dataclass(frozen=True)
class Address:
    host: str
    port: int
    secure: bool
    user: str
    password: str
    folder: str

    @property
    def name(self) -> str:
        """The mailbox as the app shows and stores it: its URL without the password."""
        scheme = "imaps" if self.secure else "imap"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{self.folder}"


def address_parse(url: str) -> Address:
    """The parts of an `imap://` or `imaps://` URL (ValueError for anything else)."""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
        raise ValueError("MAIL_CAPTURE_IMAP_URL must be imaps://user:password@host:port/FOLDER")
    secure = parts.scheme == "imaps"
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return Address(
        host=parts.hostname,
        port=parts.port or (993 if secure else 143),
        secure=secure,
        user=unquote(parts.username),
        password=unquote(parts.password or ""),
        folder=folder,
    )


@dataclass(frozen=True)
class Listed:
    uid: int
    size: int
    arrived_at: datetime


class Session:
    """A logged-in, read-only connection: `with Session(address, timeout) as box: ...`."""

    def __init__(self, address: Address, *, timeout: float) -> None:
        self.address = address
        self.timeout = timeout
        self.connection: imaplib.IMAP4 | None = None
        self.commands = 0  # sent after logging in (a run with nothing new sends one)

    def __enter__(self) -> Session:
        address = self.address
        try:
            if address.secure:
                context = ssl.create_default_context()
                self.connection = imaplib.IMAP4_SSL(
                    address.host, address.port, ssl_context=context, timeout=self.timeout
                )
            else:
                self.connection = imaplib.IMAP4(address.host, address.port, timeout=self.timeout)
            self.connection.login(address.user, address.password)
        except (imaplib.IMAP4.error, OSError, EOFError) as exc:
            self._close()
            raise MailboxError(_describe(exc)) from exc
        return self

    def __exit__(self, *exc_info) -> None:
        if self.connection is not None:
            with contextlib.suppress(imaplib.IMAP4.error, OSError, EOFError):
                self.connection.logout()
            self._close()

    def examine(self) -> tuple[int, int | None]:
        """Open the folder read-only: its (UIDVALIDITY, UIDNEXT); one round trip."""
        folder = self.address.folder
        quoted = folder if re.fullmatch(r"[\w.\-/]+", folder) else '"' + folder.replace('"', '\\"') + '"'
        status, data = self._run(lambda c: c.select(quoted, readonly=True))
        if status != "OK":
            raise MailboxError(f"EXAMINE {folder}: {data!r}")
        responses = self.connection.untagged_responses
        validity = _number(responses.get("UIDVALIDITY"))
        if validity is None:
            raise MailboxError("the server gave no UIDVALIDITY")
        return validity, _number(responses.get("UIDNEXT"))

    def list_after(self, uid: int) -> list[Listed]:
        """The messages with a UID above `uid`: their UID, size and arrival (INTERNALDATE)."""
        status, data = self._run(lambda c: c.uid("FETCH", f"{uid + 1}:*", "(UID RFC822.SIZE INTERNALDATE)"))
        if status != "OK":
            raise MailboxError(f"FETCH: {data!r}")
        found = []
        for line in data:
            head = line[0] if isinstance(line, tuple) else line
            if not isinstance(head, bytes):
                continue
            uid_match, size, date = UID.search(head), SIZE.search(head), INTERNALDATE.search(head)
            if uid_match and int(uid_match.group(1)) > uid:  # "n:*" answers the last one when none is new
                arrived = datetime.strptime(date.group(1).decode(), "%d-%b-%Y %H:%M:%S %z") if date else None
                found.append(Listed(int(uid_match.group(1)), int(size.group(1)) if size else 0, arrived))
        return sorted(found, key=lambda listed: listed.uid)

    def fetch(self, uids: list[int]) -> Iterator[tuple[int, bytes]]:
        """The raw bytes of each message in `uids` (BODY.PEEK: nothing is marked read)."""
        if not uids:
            return
        status, data = self._run(lambda c: c.uid("FETCH", ",".join(map(str, uids)), "(UID BODY.PEEK[])"))
        if status != "OK":
            raise MailboxError(f"FETCH: {data!r}")
        pending: bytes | None = None
        for item in data:
            if isinstance(item, tuple):
                head, body = item
                found = UID.search(head)
                if found:
                    yield int(found.group(1)), body
                else:
                    pending = body  # the UID comes after the body: in the next line
            elif isinstance(item, bytes) and pending is not None:
                found = UID.search(item)
                if found:
                    yield int(found.group(1)), pending
                pending = None

    def _run(self, command):
        self.commands += 1
        try:
            return command(self.connection)
        except (imaplib.IMAP4.error, OSError, EOFError) as exc:
            self._close()
            raise MailboxError(_describe(exc)) from exc

    def _close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(OSError, AttributeError, imaplib.IMAP4.error):
                self.connection.shutdown()
            self.connection = None


def _number(values) -> int | None:
    if not values:
        return None
    try:
        return int(values[-1])
    except (TypeError, ValueError):
        return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "the server did not answer in time"
    if isinstance(exc, ConnectionRefusedError):
        return "the server refused the connection"
    text = exc.args[0] if exc.args else exc
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{type(exc).__name__}: {text}"[:500]
