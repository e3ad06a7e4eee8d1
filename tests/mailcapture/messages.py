"""Raw messages for the e-mail capture tests, built the way mail clients write them: a BCC
copy, a calendar invitation, a forward with the original attached (message/rfc822), and the
inline forwards of Gmail and Outlook."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

from mailcapture.services import Result, mail_fetch

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # a Monday, 10:00 in Jakarta
CAPTURE = "capture@selaras.example"


def rfc_date(when: datetime) -> str:
    return format_datetime(when)


def letter(
    *,
    sender: str,
    to: Sequence[str] = (),
    cc: Sequence[str] = (),
    bcc: Sequence[str] = (),
    subject: str = "Penawaran",
    sent: datetime | None = None,
    message_id: str | None = None,
    body: str = "Halo, terlampir penawaran kami.",
    html: str | None = None,
) -> EmailMessage:
    """A message as its sender's client wrote it. No Date or Message-ID unless given."""
    mail = EmailMessage()
    mail["From"] = sender
    if to:
        mail["To"] = ", ".join(to)
    if cc:
        mail["Cc"] = ", ".join(cc)
    if bcc:
        mail["Bcc"] = ", ".join(bcc)
    mail["Subject"] = subject
    if sent is not None:
        mail["Date"] = rfc_date(sent)
    if message_id:
        mail["Message-ID"] = message_id
    if html is None:
        mail.set_content(body)
    else:
        mail.set_content(html, subtype="html")
    return mail


def raw(mail: EmailMessage) -> bytes:
    return mail.as_bytes(policy=policy.SMTP)


def invitation(*, method: str = "REQUEST", in_content_type: bool = True, **fields) -> EmailMessage:
    """A calendar invitation as Google Calendar and Outlook send it: text and a text/calendar
    part (its METHOD in the part's Content-Type too, unless `in_content_type` is false)."""
    mail = letter(body="Undangan: demo produk", **fields)
    calendar = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
            "VERSION:2.0",
            f"METHOD:{method}",
            "BEGIN:VEVENT",
            "DTSTART:20261209T030000Z",
            "DTEND:20261209T040000Z",
            "SUMMARY:Demo produk",
            "UID:demo-1@selaras.example",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )
    params = {"method": method} if in_content_type else {}
    mail.add_alternative(calendar, subtype="calendar", params=params)
    return mail


def forward_attached(
    original: EmailMessage,
    *,
    sender: str,
    sent: datetime,
    message_id: str,
    to: Sequence[str] = (CAPTURE,),
) -> EmailMessage:
    """`sender` forwards `original` as an attachment (message/rfc822)."""
    mail = letter(
        sender=sender,
        to=to,
        subject=f"Fwd: {original['Subject']}",
        sent=sent,
        message_id=message_id,
        body="Lihat pesan terlampir.",
    )
    mail.add_attachment(original)
    return mail


def gmail_block(
    *, sender: str, to: str, date: str, subject: str, cc: str = "", indonesian: bool = False, body: str = "Halo Budi"
) -> str:
    """The text Gmail puts in a forward, above the forwarded message (English or Indonesian)."""
    if indonesian:
        lines = ["---------- Pesan terusan ---------", f"Dari: {sender}", f"Tanggal: {date}", f"Subjek: {subject}"]
        lines.append(f"Kepada: {to}")
        if cc:
            lines.append(f"Cc: {cc}")
    else:
        lines = ["---------- Forwarded message ---------", f"From: {sender}", f"Date: {date}", f"Subject: {subject}"]
        lines.append(f"To: {to}")
        if cc:
            lines.append(f"Cc: {cc}")
    return "\n".join(["Lihat di bawah.", "", *lines, "", "", body, ""])


def outlook_block(*, sender: str, to: str, sent: str, subject: str, cc: str = "", body: str = "Halo Budi") -> str:
    """The text Outlook puts above a forwarded (or replied-to) message."""
    lines = ["-----Original Message-----", f"From: {sender}", f"Sent: {sent}", f"To: {to}"]
    if cc:
        lines.append(f"Cc: {cc}")
    lines.append(f"Subject: {subject}")
    return "\n".join(["FYI", "", *lines, "", body, ""])


def forward_inline(block: str, *, sender: str, sent: datetime, message_id: str, subject: str = "Fwd: Penawaran"):
    """`sender` forwards a message inline (the client's header block in the text)."""
    return letter(sender=sender, to=[CAPTURE], subject=subject, sent=sent, message_id=message_id, body=block)


def fetch_twice(now: datetime = NOW) -> Result:
    """One capture run, then another a minute later that must find nothing new: the first
    run's result."""
    first = mail_fetch(now=now)
    again = mail_fetch(now=now + timedelta(minutes=1))
    assert (again.read, again.touches, again.inquiries, again.commands) == (0, 0, 0, 1)
    return first
