"""E-mail capture on what mail really holds (SPEC §14): broken MIME, undecodable headers,
oversized messages, no Message-ID, two senders, markup in a subject. A bad message is skipped
with its reason or read for what it holds, and never stops the run nor blocks the others.
Then the reading of forwarded-message blocks, on raw bytes (no IMAP)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from leads.models import Inquiry, Lead, Touch
from mailcapture.models import CapturedMail
from mailcapture.reading import Unreadable, mail_read
from mailcapture.services import mail_fetch
from tests.factories import LeadFactory
from tests.mailcapture.messages import (
    NOW,
    fetch_twice,
    forward_attached,
    forward_inline,
    gmail_block,
    letter,
    outlook_block,
    raw,
)

pytestmark = pytest.mark.django_db

SENT = NOW - timedelta(hours=2)
ARRIVED = NOW - timedelta(hours=1)
BUDI = "budi@client.co.id"


@pytest.fixture
def rep(users):
    return users["sales_rep"]  # rep1@example.com


@pytest.fixture
def lead(rep) -> Lead:
    return LeadFactory(team=rep.team, owner=rep, email=BUDI, created_at=NOW - timedelta(days=1))


def _good(rep, message_id: str = "<good@x>") -> bytes:
    return raw(letter(sender=rep.email, to=[BUDI], subject="Tindak lanjut", sent=SENT, message_id=message_id))


def _states() -> list[tuple[str, str]]:
    return list(CapturedMail.objects.order_by("uid").values_list("state", "reason"))


def _crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("latin-1")


BROKEN_BOUNDARY = _crlf(
    """From: rep1@example.com
To: budi@client.co.id
Subject: Penawaran rusak
Message-ID: <broken@x>
Date: Mon, 07 Dec 2026 01:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="AAA"

--BBB
Content-Type: text/plain

Halo
--BBB--
"""
)
GARBAGE = bytes(range(1, 256)).replace(b"\r", b"").replace(b"\n", b"") * 40 + b"\r\n"


# -- malformed and undecodable ----------------------------------------------------------------------
def test_garbage_is_skipped_as_malformed_and_the_run_goes_on(mailbox, rep, lead):
    mailbox.append(GARBAGE, b"Subject: no sender at all\r\n\r\nhi\r\n", _good(rep), arrived_at=ARRIVED)
    result = fetch_twice()
    assert (result.read, result.skipped, result.touches, result.failed) == (3, 2, 1, 0)
    assert _states() == [("skipped", "malformed"), ("skipped", "malformed"), ("captured", "")]
    assert Touch.objects.get().external_id == "good@x"


def test_a_multipart_with_a_broken_boundary_is_read_for_its_headers(mailbox, rep, lead):
    mailbox.append(BROKEN_BOUNDARY, _good(rep), arrived_at=ARRIVED)
    result = fetch_twice()
    assert (result.read, result.touches, result.failed) == (2, 2, 0)
    touch = Touch.objects.get(external_id="broken@x")
    assert (touch.notes, touch.occurred_at) == ("Penawaran rusak", datetime(2026, 12, 7, 1, 0, tzinfo=UTC))
    assert "StartBoundaryNotFoundDefect" in CapturedMail.objects.get(message_id="broken@x").summary["notes"]


@pytest.mark.parametrize(
    ("subject", "name"),
    [
        pytest.param(b"Penawaran \xff\xfe\xe9 spesial", b"Rina W\xe1ti", id="raw 8-bit bytes"),
        pytest.param(b"=?x-unknown?Q?Penawaran_=E9_spesial?=", b"=?x-unknown?Q?Rina_W=E1ti?=", id="unknown charset"),
        pytest.param(b"=?utf-8?B?////?= Penawaran", b"=?utf-8?Q?Rina_W=FF=FEti?=", id="bad encoded-words"),
    ],
)
def test_undecodable_headers_never_stop_the_capture(mailbox, rep, lead, subject, name):
    message = (
        b"From: " + name + b" <rep1@example.com>\r\nTo: Budi <budi@client.co.id>\r\nSubject: " + subject + b"\r\n"
        b"Message-ID: <undecodable@x>\r\nDate: Mon, 07 Dec 2026 01:00:00 +0000\r\n"
        b"Content-Type: text/plain; charset=x-unknown\r\nContent-Transfer-Encoding: 8bit\r\n\r\nHalo \xe9\xff\r\n"
    )
    mailbox.append(message, _good(rep), arrived_at=ARRIVED)
    result = fetch_twice()
    assert (result.read, result.touches, result.failed) == (2, 2, 0)
    touch = Touch.objects.get(external_id="undecodable@x")
    assert "Penawaran" in touch.notes and touch.user == rep
    row = CapturedMail.objects.get(message_id="undecodable@x")
    assert row.state == "captured" and row.sender == "rep1@example.com"
    for text in (touch.notes, row.subject, json.dumps(row.summary)):
        text.encode("utf-8")  # stored as proper text: no lone surrogates left by the parser


def test_utf8_headers_are_read_as_utf8(mailbox, rep, lead):
    message = (
        "From: Rina Wáti <rep1@example.com>\r\nTo: Budi <budi@client.co.id>\r\n"
        "Subject: Penawaran — spesial Rp 1.000.000 ✓\r\nMessage-ID: <utf8@x>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nHalo\r\n"
    ).encode()
    mailbox.append(message, arrived_at=ARRIVED)
    fetch_twice()
    assert Touch.objects.get().notes == "Penawaran — spesial Rp 1.000.000 ✓"


def test_an_encoded_word_subject_is_decoded(mailbox, rep, lead):
    message = letter(sender=rep.email, to=[BUDI], subject="Penawaran — spesial ✓", sent=SENT, message_id="<ew@x>")
    assert b"=?utf-8?" in raw(message)
    mailbox.append(raw(message), arrived_at=ARRIVED)
    fetch_twice()
    assert Touch.objects.get().notes == "Penawaran — spesial ✓"


def test_an_attached_message_without_a_sender_does_not_lose_the_follow_up(mailbox, rep, lead):
    attached = letter(sender="Mail Delivery System", to=["someone@elsewhere.example"], subject="Undelivered")
    message = letter(sender=rep.email, to=[BUDI], subject="Seperti dibahas", sent=SENT, message_id="<att@x>")
    message.add_attachment(attached)
    mailbox.append(raw(message), arrived_at=ARRIVED)
    fetch_twice()
    assert Touch.objects.get().notes == "Seperti dibahas"


def test_a_nul_byte_in_a_leads_message_neither_breaks_the_run_nor_is_stored(mailbox, rep, lead):
    message = letter(sender=BUDI, to=[rep.email], subject="Tanya", sent=SENT, message_id="<nul@x>")
    message.set_content("Halo\x00 apa kabar", cte="base64")  # Dovecot would turn a raw NUL into 0x80
    mailbox.append(raw(message), _good(rep), arrived_at=ARRIVED)
    result = mail_fetch(now=NOW)
    assert (result.read, result.inquiries, result.touches, result.failed) == (2, 1, 1, 0)
    assert "\x00" not in Inquiry.objects.get().message
    assert "\\u0000" not in json.dumps(CapturedMail.objects.get(message_id="nul@x").summary)


# -- too large --------------------------------------------------------------------------------------
def test_a_message_over_the_limit_is_skipped_and_the_next_one_captured(mailbox, settings, rep, lead):
    settings.MAIL_CAPTURE_MAX_BYTES = 50_000
    big = letter(sender=rep.email, to=[BUDI], subject="Katalog", sent=SENT, message_id="<big@x>")
    big.add_attachment(b"\x89PNG" + bytes(60_000), maintype="image", subtype="png", filename="katalog.png")
    mailbox.append(raw(big), _good(rep), arrived_at=ARRIVED)
    result = fetch_twice()
    assert (result.read, result.skipped, result.touches) == (2, 1, 1)
    assert _states() == [("skipped", "too_large"), ("captured", "")]
    row = CapturedMail.objects.order_by("uid").first()
    assert row.size > 50_000 and "50,000" in row.detail
    assert Touch.objects.get().external_id == "good@x"


def test_a_real_30_mb_message_is_skipped_without_being_downloaded(mailbox, rep, lead):
    big = letter(sender=rep.email, to=[BUDI], subject="Video demo", sent=SENT, message_id="<huge@x>")
    big.add_attachment(bytes(23 * 1024 * 1024), maintype="video", subtype="mp4", filename="demo.mp4")  # 30 MB in base64
    data = raw(big)
    assert len(data) > 30 * 1024 * 1024
    mailbox.append(data, _good(rep), arrived_at=ARRIVED)
    started = time.monotonic()
    result = mail_fetch(now=NOW)
    assert time.monotonic() - started < 5
    assert (result.read, result.skipped, result.touches) == (2, 1, 1)
    assert _states() == [("skipped", "too_large"), ("captured", "")]
    assert CapturedMail.objects.order_by("uid").first().summary == {}  # never read


# -- no Message-ID, two senders ---------------------------------------------------------------------
def test_a_message_without_a_message_id_appended_twice_is_one_touch(mailbox, rep, lead):
    message = raw(letter(sender=rep.email, to=[BUDI], subject="Tanpa id", sent=SENT))
    assert b"Message-ID" not in message
    mailbox.append(message, arrived_at=ARRIVED)
    assert mail_fetch(now=NOW).touches == 1
    mailbox.append(message, arrived_at=NOW)
    result = fetch_twice(NOW + timedelta(minutes=5))
    assert (result.read, result.repeats, result.touches) == (1, 1, 0)
    touch = Touch.objects.get()
    assert touch.external_id.startswith("sha256:") and touch.notes == "Tanpa id"


def test_messages_without_a_message_id_are_told_apart(mailbox, rep, lead):
    mailbox.append(
        raw(letter(sender=rep.email, to=[BUDI], subject="Satu", sent=SENT)),
        raw(letter(sender=rep.email, to=[BUDI], subject="Dua", sent=SENT)),
        arrived_at=ARRIVED,
    )
    fetch_twice()
    assert sorted(Touch.objects.values_list("notes", flat=True)) == ["Dua", "Satu"]


def test_a_bcc_copy_and_a_forward_of_a_message_without_a_message_id_are_one_touch(mailbox, rep, lead):
    original = letter(sender=rep.email, to=[BUDI], subject="Tanpa id", sent=SENT)
    forward = forward_attached(original, sender=rep.email, sent=NOW - timedelta(minutes=30), message_id="<fw@x>")
    mailbox.append(raw(original), raw(forward), arrived_at=ARRIVED)
    fetch_twice()
    assert Touch.objects.count() == 1


def test_a_message_from_two_senders_is_skipped(mailbox, rep, users, lead):
    message = letter(sender=f"{rep.email}, {users['sales_manager'].email}", to=[BUDI], sent=SENT, message_id="<2@x>")
    mailbox.append(raw(message), _good(rep), arrived_at=ARRIVED)
    result = fetch_twice()
    assert result.touches == 1
    assert _states() == [("skipped", "two_senders"), ("captured", "")]
    assert Touch.objects.get().external_id == "good@x"


def test_a_very_long_message_id_is_one_touch_however_often_it_is_read(mailbox, rep, lead):
    message = raw(letter(sender=rep.email, to=[BUDI], sent=SENT, message_id=f"<{'a' * 400}@x>"))
    mailbox.append(message, message, arrived_at=ARRIVED)
    result = fetch_twice()
    assert (result.touches, result.repeats) == (1, 1)
    assert len(Touch.objects.get().external_id) <= 255


# -- markup in what is shown -----------------------------------------------------------------------------
SCRIPT = "<script>alert('x')</script>"


def _script_mail(rep) -> bytes:
    html = f"<html><body><p>Halo {SCRIPT}</p><img src=x onerror=alert(1)></body></html>"
    return raw(letter(sender=rep.email, to=[BUDI], subject=f"Promo {SCRIPT}", sent=SENT, message_id="<s@x>", html=html))


def test_a_subject_with_markup_is_shown_escaped_on_the_lead_page(client, mailbox, rep, lead):
    mailbox.append(_script_mail(rep), arrived_at=ARRIVED)
    fetch_twice()
    assert Touch.objects.get().notes == f"Promo {SCRIPT}"
    client.force_login(rep)
    response = client.get(reverse("leads:detail", args=[lead.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert SCRIPT not in page and "<script>alert" not in page
    assert "Promo &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


def test_a_leads_message_with_markup_is_shown_escaped_on_the_lead_page(client, mailbox, rep, lead):
    html = f"<p>Harga? {SCRIPT}</p><b onmouseover=alert(1)>tebal</b>"
    message = letter(sender=BUDI, to=[rep.email], subject=f"Tanya {SCRIPT}", sent=SENT, message_id="<i@x>", html=html)
    mailbox.append(raw(message), arrived_at=ARRIVED)
    fetch_twice()
    assert Inquiry.objects.get().message.startswith(f"Tanya {SCRIPT}")
    client.force_login(rep)
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert "<script>alert" not in page and "onmouseover" not in page
    assert "Tanya &lt;script&gt;" in page


def test_a_subject_with_markup_is_shown_escaped_on_the_captured_mail_page(client, mailbox, users, rep, lead):
    mailbox.append(_script_mail(rep), arrived_at=ARRIVED)
    fetch_twice()
    client.force_login(users["admin"])
    response = client.get(reverse("mailcapture:list"), {"state": "captured"})
    assert response.status_code == 200
    page = response.content.decode()
    assert SCRIPT not in page and "<script>alert" not in page
    assert "Promo &lt;script&gt;" in page


# -- one bad message among good ones -----------------------------------------------------------------
def test_bad_messages_never_block_the_good_ones_in_the_same_run(mailbox, settings, rep, users, lead):
    settings.MAIL_CAPTURE_MAX_BYTES = 50_000
    ani = LeadFactory(team=rep.team, owner=rep, email="ani@client.co.id", created_at=NOW - timedelta(days=1))
    too_large = letter(sender=rep.email, to=[BUDI], sent=SENT, message_id="<big@x>", body="x" * 60_000)
    mailbox.append(
        GARBAGE,
        _good(rep, "<g1@x>"),
        raw(too_large),
        BROKEN_BOUNDARY,
        raw(letter(sender=f"{rep.email}, {users['admin'].email}", to=[BUDI], sent=SENT, message_id="<two@x>")),
        raw(letter(sender="stranger@elsewhere.example", to=[BUDI], sent=SENT)),
        raw(letter(sender=rep.email, to=["ani@client.co.id"], sent=SENT, message_id="<g2@x>")),
        arrived_at=ARRIVED,
    )
    result = fetch_twice()
    assert (result.read, result.touches, result.failed) == (7, 3, 0)
    assert _states() == [
        ("skipped", "malformed"),
        ("captured", ""),
        ("skipped", "too_large"),
        ("captured", ""),
        ("skipped", "two_senders"),
        ("skipped", "unknown_sender"),
        ("captured", ""),
    ]
    assert sorted(Touch.objects.filter(lead=lead).values_list("external_id", flat=True)) == ["broken@x", "g1@x"]
    assert Touch.objects.get(lead=ani).external_id == "g2@x"


# -- reading forwarded-message blocks (no IMAP) ---------------------------------------------------------
def _forwarded(block: str):
    mail = mail_read(raw(forward_inline(block, sender="rep1@example.com", sent=NOW, message_id="<fwd@x>")))
    assert mail.letter.message_id == "fwd@x" and mail.letter.recipients == ("capture@selaras.example",)
    return mail.forwarded


def test_a_gmail_forward_block_in_english_is_read():
    (letter_,) = _forwarded(
        gmail_block(
            sender="Rina Wati <rina@example.com>",
            to="Budi Santoso <Budi@Client.co.id>, ani@client.co.id",
            cc="Dewi <dewi@client.co.id>",
            date="Mon, Dec 7, 2026 at 10:15\u202fAM",
            subject="Penawaran harga",
        )
    )
    assert letter_.senders == ("rina@example.com",)
    assert letter_.recipients == ("budi@client.co.id", "ani@client.co.id", "dewi@client.co.id")
    assert letter_.subject == "Penawaran harga"
    assert datetime.fromisoformat(letter_.sent_at).replace(tzinfo=None) == datetime(2026, 12, 7, 10, 15)
    assert letter_.message_id.startswith("inline:")  # made up: the block has no Message-ID


def test_a_gmail_forward_block_in_indonesian_is_read():
    (letter_,) = _forwarded(
        gmail_block(
            sender="Rina Wati <rina@example.com>",
            to="Budi Santoso <budi@client.co.id>",
            cc="ani@client.co.id",
            date="Sen, 7 Des 2026 pukul 10.15",
            subject="Penawaran harga",
            indonesian=True,
        )
    )
    assert letter_.senders == ("rina@example.com",)
    assert letter_.recipients == ("budi@client.co.id", "ani@client.co.id")
    assert letter_.subject == "Penawaran harga"


def test_the_date_of_an_indonesian_gmail_forward_is_read():
    (letter_,) = _forwarded(
        gmail_block(
            sender="Rina <rina@example.com>",
            to="budi@client.co.id",
            date="Sen, 7 Des 2026 pukul 10.15",
            subject="Penawaran",
            indonesian=True,
        )
    )
    assert letter_.sent_at is not None
    assert datetime.fromisoformat(letter_.sent_at).replace(tzinfo=None) == datetime(2026, 12, 7, 10, 15)


def test_an_outlook_original_message_block_with_mailto_addresses_is_read():
    (letter_,) = _forwarded(
        outlook_block(
            sender="Rina Wati [mailto:rina@example.com]",
            to="Budi Santoso [mailto:budi@client.co.id]; Ani <ani@client.co.id>",
            cc="'Dewi' [mailto:DEWI@client.co.id]",
            sent="Monday, December 7, 2026 10:15 AM",
            subject="RE: Penawaran harga",
        )
    )
    assert letter_.senders == ("rina@example.com",)
    assert set(letter_.recipients) == {"budi@client.co.id", "ani@client.co.id", "dewi@client.co.id"}
    assert letter_.subject == "RE: Penawaran harga"
    assert datetime.fromisoformat(letter_.sent_at).replace(tzinfo=None) == datetime(2026, 12, 7, 10, 15)


def test_a_long_recipient_list_folded_onto_the_next_line_is_read():
    block = gmail_block(
        sender="rina@example.com", to="budi@client.co.id,", date="Mon, Dec 7, 2026 at 10:15 AM", subject="P"
    ).replace("To: budi@client.co.id,\n", "To: budi@client.co.id,\n    ani@client.co.id\n")
    (letter_,) = _forwarded(block)
    assert letter_.recipients == ("budi@client.co.id", "ani@client.co.id")


def test_a_forward_of_a_forward_gives_both_blocks():
    inner = gmail_block(
        sender="budi@client.co.id", to="rina@example.com", date="Mon, Dec 7, 2026 at 9:00 AM", subject="Q"
    )
    outer = gmail_block(
        sender="rina@example.com",
        to="ani@client.co.id",
        date="Mon, Dec 7, 2026 at 10:00 AM",
        subject="Fwd: Q",
        body=inner,
    )
    letters = _forwarded(outer)
    assert [(item.senders, item.recipients) for item in letters] == [
        (("rina@example.com",), ("ani@client.co.id",)),
        (("budi@client.co.id",), ("rina@example.com",)),
    ]
    assert letters[0].message_id != letters[1].message_id


def test_the_same_block_gives_the_same_id():
    block = gmail_block(sender="rina@example.com", to=BUDI, date="Mon, Dec 7, 2026 at 10:15 AM", subject="P")
    assert _forwarded(block)[0].message_id == _forwarded(block)[0].message_id


@pytest.mark.parametrize(
    "text",
    [
        "Halo Budi,\nFrom: our side, the offer stands.\nTo: be confirmed.\n",
        "---------- Forwarded message ---------\nSubject: no sender here\nTo: budi@client.co.id\n\nhalo\n",
        "-----Original Message-----\n\nThis is not a header block.\n",
    ],
    ids=["no marker", "no From", "no header block"],
)
def test_text_that_only_looks_like_a_forward_is_not_one(text):
    assert _forwarded(text) == ()


def test_a_gmail_forward_in_html_only_is_read():
    html = (
        '<div dir="ltr">Lihat<br><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
        "---------- Forwarded message ---------<br>From: <strong>Rina Wati</strong> "
        '<span>&lt;<a href="mailto:rina@example.com">rina@example.com</a>&gt;</span><br>'
        "Date: Mon, Dec 7, 2026 at 10:15 AM<br>Subject: Penawaran<br>"
        'To: Budi &lt;<a href="mailto:budi@client.co.id">budi@client.co.id</a>&gt;<br></div><br><br>'
        '<div dir="ltr">Halo Budi</div></div></div>'
    )
    mail = mail_read(raw(letter(sender="rep1@example.com", to=["capture@selaras.example"], html=html)))
    (letter_,) = mail.forwarded
    assert (letter_.senders, letter_.recipients, letter_.subject) == (
        ("rina@example.com",),
        ("budi@client.co.id",),
        "Penawaran",
    )


def test_an_attached_message_is_read_with_its_own_headers():
    original = letter(
        sender="Rina <rina@example.com>",
        to=[BUDI],
        cc=["ani@client.co.id"],
        subject="Asli",
        sent=SENT,
        message_id="<o@x>",
    )
    mail = mail_read(raw(forward_attached(original, sender="rina@example.com", sent=NOW, message_id="<f@x>")))
    (letter_,) = mail.forwarded
    assert (letter_.message_id, letter_.senders, letter_.recipients, letter_.sent_at, letter_.subject) == (
        "o@x",
        ("rina@example.com",),
        (BUDI, "ani@client.co.id"),
        SENT.isoformat(),
        "Asli",
    )


def test_a_message_with_no_sender_is_unreadable():
    with pytest.raises(Unreadable):
        mail_read(b"To: budi@client.co.id\r\nSubject: x\r\n\r\nhi\r\n")
    with pytest.raises(Unreadable):
        mail_read(GARBAGE)
