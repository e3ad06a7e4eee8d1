"""Reading a message from the capture mailbox (SPEC §14), with Python's own `email` package
and its modern policy: who sent it, to whom, when, its subject and id, and the messages it
forwards (an attached `message/rfc822`, or the header block that Gmail, Outlook and Apple Mail
put above a forwarded text), whether it is a calendar invitation, and the start of its text.

Everything read is plain data (`Mail.as_json`), stored before any of it is acted upon.
Nothing here raises on bad input but `Unreadable`: a message too broken to have a sender.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

ID_LENGTH = 255
TEXT_LENGTH = 2000
INLINE = "inline:"  # the made-up id of a message forwarded inline (it has no Message-ID)

# The line a mail client puts above a forwarded message's headers, in English and Indonesian.
# Gmail's and Apple Mail's say so; Outlook's ("Original Message", a line of underscores) also
# stand above the message a reply quotes, so they count only in a message whose subject says
# it is a forward (FORWARD_SUBJECT).
FORWARD_MARKERS = re.compile(
    r"^\s*(?:-{5,}\s*(?P<forward>Forwarded message|Pesan terusan)\s*-{5,}|(?P<apple>Begin forwarded message:)"
    r"|-{5,}\s*(?:Original Message|Pesan asli)\s*-{5,}|_{20,})\s*$",
    re.IGNORECASE | re.MULTILINE,
)
FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|fw|tr|wg|enc|rv|terusan)\s*:", re.IGNORECASE)
# The labels of that header block: Gmail, Outlook and Apple Mail, in English and Indonesian.
FORWARD_LABELS = {
    "from": "from",
    "dari": "from",
    "to": "to",
    "kepada": "to",
    "ke": "to",
    "cc": "cc",
    "date": "date",
    "sent": "date",
    "tanggal": "date",
    "terkirim": "date",
    "subject": "subject",
    "subjek": "subject",
    "perihal": "subject",
}
HEADER_LINE = re.compile(r"^\s*\*?([A-Za-z]+)\*?\s*:\s*\*?\s*(.*)$")
# Dates as those blocks write them, where the RFC form is not used (Indonesian names are
# put in English first, and "10.15" becomes "10:15"). They carry no zone: the company's.
FORWARD_DATE_FORMATS = (
    "%a, %b %d, %Y at %I:%M %p",  # Gmail: Mon, Dec 7, 2026 at 10:15 AM
    "%a, %d %b %Y at %H:%M",  # Gmail in Indonesian: Sen, 7 Des 2026 pukul 10.15
    "%A, %B %d, %Y %I:%M %p",  # Outlook: Monday, December 7, 2026 10:15 AM
    "%A, %B %d, %Y %H:%M",
    "%A, %d %B %Y %H:%M",  # Outlook in Indonesian: Senin, 07 Desember 2026 10.15
    "%d %B %Y at %H:%M:%S",  # Apple Mail: 7 December 2026 at 10:15:00
    "%B %d, %Y at %I:%M:%S %p",
)
INDONESIAN_DATE_WORDS = {
    "senin": "Monday", "selasa": "Tuesday", "rabu": "Wednesday", "kamis": "Thursday", "jumat": "Friday",
    "sabtu": "Saturday", "minggu": "Sunday", "sen": "Mon", "sel": "Tue", "rab": "Wed", "kam": "Thu",
    "jum": "Fri", "sab": "Sat", "min": "Sun", "januari": "January", "februari": "February",
    "maret": "March", "april": "April", "mei": "May", "juni": "June", "juli": "July", "agustus": "August",
    "september": "September", "oktober": "October", "november": "November", "desember": "December",
    "jan": "Jan", "feb": "Feb", "mar": "Mar", "apr": "Apr", "jun": "Jun", "jul": "Jul", "agu": "Aug",
    "agt": "Aug", "ags": "Aug", "sep": "Sep", "okt": "Oct", "nov": "Nov", "des": "Dec", "pukul": "at",
}  # fmt: skip


class Unreadable(Exception):
    """A message with no readable sender at all."""


@dataclass(frozen=True)
class Letter:
    """One message as captured: the one that arrived, or one that it forwards."""

    message_id: str
    senders: tuple[str, ...]
    recipients: tuple[str, ...]  # To and Cc (never Bcc), lower-cased
    sent_at: str | None  # ISO 8601, from the Date header
    subject: str
    text: str = ""  # the start of its own text (what a lead wrote, for an inquiry)


@dataclass(frozen=True)
class Mail:
    letter: Letter
    forwarded: tuple[Letter, ...] = ()
    invitation: bool = False
    text: str = ""
    notes: list[str] = field(default_factory=list)  # what was odd about it (defects)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Mail:
        def letter(item: dict[str, Any]) -> Letter:
            senders, recipients = tuple(item["senders"]), tuple(item["recipients"])
            return Letter(item["message_id"], senders, recipients, item["sent_at"], item["subject"], item["text"])

        forwarded = tuple(letter(item) for item in data.get("forwarded", []))
        return cls(letter(data["letter"]), forwarded, data["invitation"], data["text"], list(data["notes"]))


def mail_read(raw: bytes) -> Mail:
    """The message in `raw` as plain data. Raises Unreadable for one without a sender."""
    try:
        message = message_from_bytes(raw, policy=policy.default)
        parts = _Parts(message)
        text = clean_text(parts.text())
        letter = _letter(message, text=text)
    except Unreadable:
        raise
    except Exception as exc:  # the parser's own failures on broken MIME: reported, never raised on
        raise Unreadable(f"{type(exc).__name__}: {clean(str(exc))[:200]}") from exc
    forwarded = []
    for attached in parts.attached:
        with contextlib.suppress(Exception):  # an attached message without a sender adds nothing
            forwarded.append(_letter(attached, text=clean_text(_Parts(attached).text())))
    if not parts.attached:
        forwarded += _inline_forwards(text, strong_only=not FORWARD_SUBJECT.match(letter.subject))
    notes = sorted({type(defect).__name__ for defect in getattr(message, "defects", [])})
    return Mail(letter, tuple(forwarded), parts.invitation(), text, notes)


def clean_text(text: str) -> str:
    """Text safe to store, its lines kept: undecodable bytes and NULs replaced, at most
    TEXT_LENGTH characters."""
    value = (text or "").encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    return value.replace("\r\n", "\n")[:TEXT_LENGTH]


def clean(text: Any) -> str:
    """Text safe to store: undecodable bytes (kept by the parser as surrogates) and NULs
    replaced, runs of white space made one space."""
    value = str(text or "").encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    return " ".join(value.split())


def _letter(message: Message, *, text: str) -> Letter:
    senders = _addresses(message, "From")
    if not senders:
        raise Unreadable("no sender")
    recipients = tuple(dict.fromkeys(_addresses(message, "To") + _addresses(message, "Cc")))
    sent_at = _date(_header(message, "Date"))
    subject = clean(_header(message, "Subject"))[:300]
    message_id = _message_id(_header(message, "Message-ID"))
    if not message_id:
        # A stable substitute: the same message read again (BCC and forward) gives the same.
        parts = [",".join(senders), ",".join(recipients), sent_at or "", subject, text]
        message_id = "sha256:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return Letter(message_id, senders, recipients, sent_at, subject, text)


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the policy cannot parse at all
        return ""
    return clean(value) if value is not None else ""


def _addresses(message: Message, name: str) -> tuple[str, ...]:
    try:
        values = [str(value) for value in message.get_all(name, [])]
    except Exception:
        return ()
    return tuple(dict.fromkeys(a for a in (_address(addr) for _, addr in getaddresses(values)) if a))


def _address(text: str) -> str:
    address = clean(text).strip("<>").lower()
    local, at, domain = address.rpartition("@")
    return address if at and local and "." in domain and " " not in address else ""


def _message_id(text: str) -> str:
    found = re.search(r"<([^<>\s]+)>", text)
    value = found.group(1) if found else text.strip()
    if len(value) > ID_LENGTH:
        return "sha256:" + hashlib.sha256(value.encode()).hexdigest()
    return value


def _date(text: str) -> str | None:
    if not text:
        return None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        when = _block_date(text)
    if when is None:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))).isoformat()


def _block_date(text: str) -> datetime | None:
    """A date as a forward's header block writes it, in English or Indonesian."""
    words = re.sub(r"[A-Za-z]+", lambda m: INDONESIAN_DATE_WORDS.get(m.group(0).lower(), m.group(0)), text)
    words = re.sub(r"\b(\d{1,2})\.(\d{2})\b", r"\1:\2", words.replace("\u202f", " "))
    for layout in FORWARD_DATE_FORMATS:
        with contextlib.suppress(ValueError):
            return datetime.strptime(" ".join(words.split()), layout)
    return None


class _Parts:
    """The parts of a message, walked once, each content type read once: its own text parts
    (not those of a message it attaches), the messages it attaches (message/rfc822) and its
    calendar parts."""

    def __init__(self, message: Message) -> None:
        self.plain: list[Message] = []
        self.html: list[Message] = []
        self.attached: list[Message] = []
        self.calendars: list[Message] = []
        stack = [(message, True)]
        while stack:
            part, own = stack.pop()
            kind = part.get_content_type()
            if kind == "message/rfc822" and part is not message:
                payload = part.get_payload()
                if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                    self.attached.append(payload[0])
                continue  # its parts are the attached message's, not this one's
            if kind == "text/calendar":
                self.calendars.append(part)
            elif own and kind in ("text/plain", "text/html") and not _is_attachment(part):
                (self.plain if kind == "text/plain" else self.html).append(part)
            if part.is_multipart():
                stack.extend((sub, own) for sub in reversed(part.get_payload()) if isinstance(sub, Message))

    def text(self) -> str:
        """The message's own plain text: its first text/plain part, or its first HTML part
        without tags, scripts and styles."""
        if self.plain:
            return _content(self.plain[0]).replace("\r\n", "\n")
        return _HtmlText.text(_content(self.html[0])) if self.html else ""

    def invitation(self) -> bool:
        """A calendar invitation: a text/calendar part with METHOD:REQUEST (SPEC §14)."""
        for part in self.calendars:
            if str(part.get_param("method", "", header="content-type")).upper() == "REQUEST":
                return True
            if re.search(r"^METHOD:REQUEST\s*$", _content(part), re.MULTILINE | re.IGNORECASE):
                return True
        return False


def _is_attachment(part: Message) -> bool:
    return (part.get("Content-Disposition") or "").lower().startswith("attachment")


def _content(part: Message) -> str:
    try:
        if isinstance(part, EmailMessage):
            return str(part.get_content())
    except (LookupError, ValueError, AssertionError, KeyError):
        pass  # an unknown charset: decoded as UTF-8 below, bad bytes replaced
    raw = part.get_payload(decode=True) or b""
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _inline_forwards(text: str, *, strong_only: bool) -> list[Letter]:
    """The messages forwarded inline: after each marker line, the header block up to the
    first blank line (From is needed; To, Cc, Date and Subject as given), then its text up to
    the next marker. With `strong_only`, only after markers that say "forwarded" (not
    Outlook's, which a reply quotes with too)."""
    found = []
    markers = list(FORWARD_MARKERS.finditer(text))
    for index, marker in enumerate(markers):
        if strong_only and not (marker.group("forward") or marker.group("apple")):
            continue
        end = markers[index + 1].start() if index + 1 < len(markers) else len(text)
        fields, body = _header_block(text[marker.end() : end])
        if "from" in fields:
            found.append(_block_letter(fields, body))
    return found


def _header_block(section: str) -> tuple[dict[str, str], str]:
    """The labelled lines at the start of `section`, and the text after them."""
    fields: dict[str, str] = {}
    last = ""
    lines = section.lstrip("\n").split("\n")
    for number, line in enumerate(lines):
        if not line.strip():
            if fields:
                return fields, "\n".join(lines[number:]).strip()
            continue
        match = HEADER_LINE.match(line)
        label = FORWARD_LABELS.get(match.group(1).lower()) if match else None
        if label:
            fields[label], last = match.group(2).strip(), label
        elif last in ("to", "cc") and line.startswith((" ", "\t")):
            fields[last] += " " + line.strip()  # a long list folded onto the next line
        else:
            return fields, "\n".join(lines[number:]).strip()
    return fields, ""


def _block_letter(fields: dict[str, str], body: str) -> Letter:
    def addresses(value: str) -> tuple[str, ...]:
        value = re.sub(r"\[mailto:([^\]]+)\]", r"<\1>", value)  # Outlook's "Name [mailto:a@b]"
        return tuple(dict.fromkeys(a for a in (_address(addr) for _, addr in getaddresses([value])) if a))

    senders = addresses(fields["from"])
    recipients = tuple(dict.fromkeys(addresses(fields.get("to", "")) + addresses(fields.get("cc", ""))))
    sent_at = _date(fields.get("date", ""))
    subject = clean(fields.get("subject", ""))[:300]
    text = clean_text(body)
    # A made-up id (the block has none): the same block read twice is the same message. A
    # copy of it that arrived itself has its own id; services tell the two apart by sender,
    # lead, subject and minute.
    parts = [",".join(senders), ",".join(recipients), fields.get("date", ""), subject, text]
    message_id = INLINE + hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return Letter(message_id, senders, recipients, sent_at, subject, text)


class _HtmlText(HTMLParser):
    """The text of an HTML body, without its scripts and styles."""

    SKIP = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in ("br", "p", "div", "tr", "li"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)

    @classmethod
    def text(cls, html: str) -> str:
        parser = cls()
        with contextlib.suppress(Exception):  # a parser failure leaves what it had read
            parser.feed(html)
            parser.close()
        lines = ("".join(parser.parts)).split("\n")
        return "\n".join(line.strip() for line in lines if line.strip())
