"""E-mail capture, rule by rule (SPEC §14), against the real Dovecot: each test appends real
messages, runs the capture twice and finds what it logged, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads import services as leads_services
from leads.models import Inquiry, Lead, Touch
from mailcapture.models import CapturedMail, Mailbox
from mailcapture.services import mail_fetch
from slas.models import Clock
from tests.dovecot import free_port
from tests.factories import LeadFactory, UserFactory, seed_slas
from tests.mailcapture.messages import (
    CAPTURE,
    NOW,
    fetch_twice,
    forward_attached,
    forward_inline,
    gmail_block,
    invitation,
    letter,
    outlook_block,
    raw,
)

pytestmark = pytest.mark.django_db

ARRIVED = NOW - timedelta(hours=1)
SENT = NOW - timedelta(hours=2)
BUDI = "budi@client.co.id"
ANI = "ani@client.co.id"


@pytest.fixture
def rep(users):
    return users["sales_rep"]  # rep1@example.com


def _lead(rep, email: str = BUDI, **fields) -> Lead:
    fields.setdefault("created_at", NOW - timedelta(days=1))
    return LeadFactory(team=rep.team, owner=rep, email=email, **fields)


def _mail() -> CapturedMail:
    return CapturedMail.objects.get()


def _skipped(reason: str) -> None:
    mail = _mail()
    assert (mail.state, mail.reason, mail.touches) == ("skipped", reason, 0)


# -- who sent it -----------------------------------------------------------------------------------
def test_a_sender_who_is_neither_a_user_nor_a_lead_is_skipped(mailbox, rep):
    lead = _lead(rep)
    mailbox.append(raw(letter(sender="stranger@elsewhere.example", to=[BUDI], sent=SENT)), arrived_at=ARRIVED)
    result = fetch_twice()
    assert (result.read, result.skipped, result.touches) == (1, 1, 0)
    _skipped("unknown_sender")
    assert not Touch.objects.filter(lead=lead).exists()


def test_an_inactive_users_mail_is_skipped_as_from_an_unknown_sender(mailbox, sales_team):
    gone = UserFactory(email="gone@example.com", team=sales_team)
    lead = _lead(gone)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    mailbox.append(raw(letter(sender="gone@example.com", to=[BUDI], sent=SENT)), arrived_at=ARRIVED)
    fetch_twice()
    _skipped("unknown_sender")
    assert not Touch.objects.filter(lead=lead).exists()


def test_the_senders_address_is_matched_whatever_its_case(mailbox, sales_team):
    rina = UserFactory(email="Rina@Example.com", team=sales_team)
    lead = _lead(rina)
    message = letter(sender="Rina Wati <RINA@EXAMPLE.COM>", to=["Budi <Budi@Client.CO.ID>"], sent=SENT)
    mailbox.append(raw(message), arrived_at=ARRIVED)
    result = fetch_twice()
    assert result.touches == 1
    assert Touch.objects.get().user == rina and Touch.objects.get().lead == lead


# -- to whom ----------------------------------------------------------------------------------------
def test_every_lead_in_to_and_cc_gets_one_email_touch_by_the_sender(mailbox, rep):
    budi, ani, dewi = _lead(rep, BUDI), _lead(rep, ANI), _lead(rep, "dewi@client.co.id")
    message = letter(
        sender=f"Rina <{rep.email}>",
        to=[f"Budi <{BUDI}>", "someone@client.co.id"],
        cc=[ANI],
        bcc=["dewi@client.co.id", CAPTURE],
        subject="Penawaran harga Q1",
        sent=SENT,
        message_id="<CAF=abc.123@mail.gmail.com>",
    )
    mailbox.append(raw(message), arrived_at=ARRIVED)
    result = fetch_twice()
    assert (result.read, result.captured, result.touches) == (1, 1, 2)
    touches = Touch.objects.order_by("lead__email")
    assert [touch.lead for touch in touches] == [ani, budi]
    for touch in touches:
        assert (touch.user, touch.kind, touch.origin) == (rep, "email", "email")
        assert (touch.external_id, touch.notes, touch.occurred_at) == (
            "CAF=abc.123@mail.gmail.com",
            "Penawaran harga Q1",
            SENT,
        )
    assert not Touch.objects.filter(lead=dewi).exists()  # in Bcc only
    mail = _mail()
    assert (mail.state, mail.touches, mail.message_id) == ("captured", 2, "CAF=abc.123@mail.gmail.com")


def test_a_lead_only_in_bcc_gets_nothing(mailbox, rep):
    lead = _lead(rep)
    mailbox.append(raw(letter(sender=rep.email, to=["colleague@partner.example"], bcc=[BUDI], sent=SENT)))
    fetch_twice()
    _skipped("no_lead")
    assert not Touch.objects.filter(lead=lead).exists()


# -- when --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        pytest.param(SENT, SENT, id="the Date header"),
        pytest.param(NOW + timedelta(days=3), ARRIVED, id="a Date in the future: the arrival"),
        pytest.param(ARRIVED + timedelta(seconds=1), ARRIVED, id="a Date just after the arrival: the arrival"),
        pytest.param(
            datetime(1970, 1, 1, tzinfo=UTC), NOW - timedelta(days=1), id="a Date in 1970: the lead's creation"
        ),
        pytest.param(NOW - timedelta(days=2), NOW - timedelta(days=1), id="a Date before the lead: its creation"),
        pytest.param(None, ARRIVED, id="no Date: the arrival"),
    ],
)
def test_the_touch_is_at_the_date_header_within_the_lead_and_the_arrival(mailbox, rep, sent, expected):
    _lead(rep, created_at=NOW - timedelta(days=1))
    mailbox.append(raw(letter(sender=rep.email, to=[BUDI], sent=sent, message_id="<when@x>")), arrived_at=ARRIVED)
    fetch_twice()
    assert Touch.objects.get().occurred_at == expected


def test_a_date_header_with_a_zone_offset_is_read_as_that_instant(mailbox, rep):
    _lead(rep)
    message = letter(sender=rep.email, to=[BUDI], message_id="<tz@x>")
    message["Date"] = "Mon, 07 Dec 2026 08:30:00 +0700"  # 01:30 UTC
    mailbox.append(raw(message), arrived_at=ARRIVED)
    fetch_twice()
    assert Touch.objects.get().occurred_at == datetime(2026, 12, 7, 1, 30, tzinfo=UTC)


# -- invitations --------------------------------------------------------------------------------------
@pytest.mark.parametrize("in_content_type", [True, False], ids=["method in Content-Type", "METHOD in the body"])
def test_a_calendar_invitation_books_a_meeting(mailbox, rep, in_content_type):
    _lead(rep)
    message = invitation(sender=rep.email, to=[BUDI], sent=SENT, message_id="<inv@x>", in_content_type=in_content_type)
    mailbox.append(raw(message), arrived_at=ARRIVED)
    fetch_twice()
    touch = Touch.objects.get()
    assert (touch.kind, touch.outcome, touch.origin) == ("email", "meeting_booked", "email")


def test_a_cancelled_meeting_is_not_a_booked_one(mailbox, rep):
    _lead(rep)
    mailbox.append(raw(invitation(method="CANCEL", sender=rep.email, to=[BUDI], sent=SENT, message_id="<c@x>")))
    fetch_twice()
    assert Touch.objects.get().outcome == ""


def test_a_plain_message_has_no_outcome(mailbox, rep):
    _lead(rep)
    mailbox.append(raw(letter(sender=rep.email, to=[BUDI], sent=SENT, message_id="<p@x>")))
    fetch_twice()
    assert Touch.objects.get().outcome == ""


# -- forwards ---------------------------------------------------------------------------------------
def test_a_forward_with_the_message_attached_logs_it_on_its_leads_at_its_date(mailbox, rep):
    budi, ani = _lead(rep, BUDI), _lead(rep, ANI)
    original = letter(
        sender=f"Rina <{rep.email}>", to=[BUDI], cc=[ANI], subject="Proposal", sent=SENT, message_id="<orig@x>"
    )
    forward = forward_attached(original, sender=rep.email, sent=NOW - timedelta(minutes=90), message_id="<fwd@x>")
    mailbox.append(raw(forward), arrived_at=ARRIVED)
    result = fetch_twice()
    assert result.touches == 2
    for lead in (budi, ani):
        touch = Touch.objects.get(lead=lead)
        assert (touch.user, touch.external_id, touch.notes, touch.occurred_at) == (rep, "orig@x", "Proposal", SENT)
    assert _mail().state == "captured"


def test_a_gmail_inline_forward_logs_on_the_blocks_leads(mailbox, rep):
    budi, ani = _lead(rep, BUDI), _lead(rep, ANI)
    block = gmail_block(
        sender=f"Rina Wati <{rep.email}>",
        to=f"Budi <{BUDI}>",
        cc=ANI,
        date="Mon, Dec 7, 2026 at 1:15\u202fAM",
        subject="Penawaran harga",
    )
    mailbox.append(raw(forward_inline(block, sender=rep.email, sent=SENT, message_id="<g@x>")), arrived_at=ARRIVED)
    result = fetch_twice()
    assert result.touches == 2
    for lead in (budi, ani):
        touch = Touch.objects.get(lead=lead)
        assert (touch.user, touch.origin, touch.notes) == (rep, "email", "Penawaran harga")
        # The block's time has no zone: within a day's zones of 01:15, and never after the arrival.
        assert abs(touch.occurred_at - datetime(2026, 12, 7, 1, 15, tzinfo=UTC)) <= timedelta(hours=14)
        assert touch.occurred_at <= ARRIVED
    assert Touch.objects.get(lead=budi).external_id == Touch.objects.get(lead=ani).external_id != "g@x"


def test_an_outlook_inline_forward_logs_on_the_blocks_leads(mailbox, rep):
    lead = _lead(rep)
    block = outlook_block(
        sender=f"Rina Wati [mailto:{rep.email}]",
        to=f"Budi Santoso <{BUDI}>",
        sent="Monday, December 7, 2026 1:15 AM",
        subject="Penawaran harga",
    )
    mailbox.append(raw(forward_inline(block, sender=rep.email, sent=SENT, message_id="<o@x>")), arrived_at=ARRIVED)
    result = fetch_twice()
    assert result.touches == 1
    touch = Touch.objects.get()
    assert (touch.lead, touch.user, touch.notes) == (lead, rep, "Penawaran harga")
    assert touch.occurred_at <= ARRIVED


@pytest.mark.parametrize("one_run", [True, False], ids=["in one run", "in two runs"])
def test_a_bcc_copy_and_a_forward_of_the_same_message_are_one_touch(mailbox, rep, one_run):
    lead = _lead(rep)
    original = letter(sender=rep.email, to=[BUDI], bcc=[CAPTURE], subject="Proposal", sent=SENT, message_id="<same@x>")
    copy = letter(
        sender=rep.email, to=[BUDI], subject="Proposal", sent=SENT, message_id="<same@x>"
    )  # Bcc not delivered
    forward = forward_attached(original, sender=rep.email, sent=NOW - timedelta(minutes=30), message_id="<fwd2@x>")
    mailbox.append(raw(copy), arrived_at=SENT + timedelta(minutes=1))
    if not one_run:
        assert mail_fetch(now=NOW - timedelta(minutes=20)).touches == 1
    mailbox.append(raw(forward), arrived_at=NOW - timedelta(minutes=29))
    fetch_twice()
    touch = Touch.objects.get(lead=lead)
    assert (touch.external_id, touch.occurred_at) == ("same@x", SENT)
    assert sorted(CapturedMail.objects.values_list("state", "touches")) == [("captured", 1), ("repeat", 0)]


def test_a_bcc_copy_and_a_gmail_inline_forward_of_it_are_one_touch(mailbox, rep):
    lead = _lead(rep)
    sent = datetime(2026, 12, 7, 1, 15, tzinfo=UTC)
    mailbox.append(raw(letter(sender=f"Rina <{rep.email}>", to=[f"Budi <{BUDI}>"], sent=sent, message_id="<b@x>")))
    # Gmail writes the time in the forwarder's zone, the company's (01:15 UTC is 08:15 in Jakarta).
    block = gmail_block(
        sender=f"Rina <{rep.email}>", to=f"Budi <{BUDI}>", date="Mon, Dec 7, 2026 at 8:15\u202fAM", subject="Penawaran"
    )
    mailbox.append(raw(forward_inline(block, sender=rep.email, sent=NOW - timedelta(minutes=30), message_id="<f@x>")))
    fetch_twice()
    assert Touch.objects.filter(lead=lead).count() == 1


# -- a lead writing ---------------------------------------------------------------------------------
def test_a_leads_message_to_a_user_is_an_inquiry_once_however_often_it_is_copied(mailbox, rep):
    lead = _lead(rep)
    message = letter(
        sender=f"Budi <{BUDI}>", to=[f"Rina <{rep.email}>"], subject="Pertanyaan harga", sent=SENT, message_id="<q@x>"
    )
    mailbox.append(raw(message), raw(message), arrived_at=ARRIVED)
    result = fetch_twice()
    assert (result.read, result.inquiries, result.touches) == (2, 1, 0)
    inquiry = Inquiry.objects.get()
    assert (inquiry.lead, inquiry.channel) == (lead, "email")
    assert "Pertanyaan harga" in inquiry.message and "Halo, terlampir penawaran kami." in inquiry.message
    assert not Touch.objects.exists()
    assert sorted(CapturedMail.objects.values_list("state", flat=True)) == ["inquiry", "repeat"]
    mailbox.append(raw(message), arrived_at=NOW)
    assert mail_fetch(now=NOW + timedelta(minutes=5)).inquiries == 0
    assert Inquiry.objects.count() == 1


def test_a_leads_message_to_nobody_who_is_a_user_is_skipped(mailbox, rep):
    lead = _lead(rep)
    mailbox.append(raw(letter(sender=BUDI, to=["purchasing@client.co.id", CAPTURE], sent=SENT, message_id="<n@x>")))
    fetch_twice()
    _skipped("no_user")
    assert not Inquiry.objects.filter(lead=lead).exists() and not Touch.objects.exists()


def test_a_leads_message_forwarded_by_the_rep_is_an_inquiry(mailbox, rep):
    lead = _lead(rep)
    original = letter(sender=f"Budi <{BUDI}>", to=[rep.email], subject="Minta demo", sent=SENT, message_id="<ask@x>")
    forward = forward_attached(original, sender=rep.email, sent=NOW - timedelta(minutes=30), message_id="<fw@x>")
    mailbox.append(raw(forward), arrived_at=ARRIVED)
    result = fetch_twice()
    assert (result.inquiries, result.touches) == (1, 0)
    inquiry = Inquiry.objects.get()
    assert (inquiry.lead, inquiry.channel) == (lead, "email") and "Minta demo" in inquiry.message
    assert not Touch.objects.exists()
    assert _mail().state == "inquiry"


def test_a_leads_message_forwarded_inline_by_the_rep_is_an_inquiry(mailbox, rep):
    lead = _lead(rep)
    block = gmail_block(
        sender=f"Budi <{BUDI}>", to=f"Rina <{rep.email}>", date="Mon, Dec 7, 2026 at 1:00\u202fAM", subject="Minta demo"
    )
    mailbox.append(raw(forward_inline(block, sender=rep.email, sent=SENT, message_id="<fi@x>")), arrived_at=ARRIVED)
    fetch_twice()
    assert Inquiry.objects.get().lead == lead
    assert not Touch.objects.exists()


def test_a_copy_of_a_leads_message_and_a_forward_of_it_are_one_inquiry(mailbox, rep):
    _lead(rep)
    original = letter(sender=f"Budi <{BUDI}>", to=[rep.email], subject="Minta demo", sent=SENT, message_id="<ask2@x>")
    forward = forward_attached(original, sender=rep.email, sent=NOW - timedelta(minutes=30), message_id="<fw2@x>")
    mailbox.append(raw(original), raw(forward), arrived_at=ARRIVED)
    fetch_twice()
    assert Inquiry.objects.count() == 1


def test_the_inquiry_from_a_forward_holds_what_the_lead_wrote(mailbox, rep):
    _lead(rep)
    original = letter(
        sender=f"Budi <{BUDI}>",
        to=[rep.email],
        subject="Minta demo",
        sent=SENT,
        message_id="<w@x>",
        body="Bisa demo Kamis?",
    )
    forward = forward_attached(original, sender=rep.email, sent=NOW - timedelta(minutes=30), message_id="<fw3@x>")
    mailbox.append(raw(forward), arrived_at=ARRIVED)
    fetch_twice()
    message = Inquiry.objects.get().message
    assert "Bisa demo Kamis?" in message and "Lihat pesan terlampir." not in message


def test_a_reps_outlook_reply_quoting_the_lead_is_a_touch_and_no_inquiry(mailbox, rep):
    lead = _lead(rep, created_at=NOW - timedelta(days=3))
    quoted = outlook_block(
        sender=f"Budi [mailto:{BUDI}]",
        to=f"Rina <{rep.email}>",
        sent="Friday, December 4, 2026 9:00 AM",
        subject="Harga?",
        body="Berapa harganya?",
    ).replace("FYI\n\n-----Original Message-----", "_" * 32)
    reply = letter(
        sender=rep.email,
        to=[f"Budi <{BUDI}>"],
        subject="RE: Harga?",
        sent=SENT,
        message_id="<re@x>",
        body="Halo Budi, harganya Rp 10 juta.\n\n" + quoted,
    )
    mailbox.append(raw(reply), arrived_at=ARRIVED)
    result = fetch_twice()
    assert Touch.objects.get().lead == lead and result.touches == 1
    assert not Inquiry.objects.exists()


# -- what the first touch moves --------------------------------------------------------------------------
def test_the_first_captured_touch_moves_a_new_lead_to_working_and_meets_the_response_clock(
    mailbox, users, rep, sales_team
):
    seed_slas(team=sales_team, by=users["sales_manager"], now=NOW - timedelta(days=30))
    lead = LeadFactory(team=sales_team, email=BUDI, created_at=NOW - timedelta(hours=4))
    leads_services.lead_assign(lead=lead, owner=rep, by=users["sales_manager"], now=NOW - timedelta(hours=3))
    clock = Clock.objects.get(lead=lead, kind="response")
    assert (Lead.objects.get(pk=lead.pk).status, clock.state) == ("new", "running")
    mailbox.append(raw(letter(sender=rep.email, to=[BUDI], sent=SENT, message_id="<first@x>")), arrived_at=ARRIVED)
    fetch_twice()
    assert Lead.objects.get(pk=lead.pk).status == "working"
    clock.refresh_from_db()
    assert (clock.state, clock.satisfied_at) == ("met", SENT)
    touch = Touch.objects.get()
    assert [record.history_type for record in Touch.history.filter(id=touch.pk)] == ["+"]


# -- the mailbox: read once, never changed ------------------------------------------------------------------
@pytest.mark.parametrize("how", ["cleared", "changed"])
def test_a_new_uidvalidity_reads_everything_again_but_logs_nothing_twice(mailbox, rep, how):
    lead = _lead(rep)
    _lead(rep, ANI)
    mailbox.append(
        raw(letter(sender=rep.email, to=[BUDI], sent=SENT, message_id="<u1@x>")),
        raw(letter(sender=rep.email, to=[ANI], sent=SENT)),  # no Message-ID
        raw(letter(sender=BUDI, to=[rep.email], subject="Tanya", sent=SENT, message_id="<u2@x>")),
        raw(letter(sender="stranger@elsewhere.example", to=[BUDI], sent=SENT)),
        arrived_at=ARRIVED,
    )
    first = fetch_twice()
    assert (first.read, first.touches, first.inquiries, first.skipped) == (4, 2, 1, 1)
    if how == "cleared":
        Mailbox.objects.update(uidvalidity=None, last_uid=0)
    else:  # the server renumbered its messages: the rows read so far were under another UIDVALIDITY
        CapturedMail.objects.update(uidvalidity=1)
        Mailbox.objects.update(uidvalidity=1)
    again = mail_fetch(now=NOW + timedelta(minutes=10))
    assert again.read == 4 and again.commands > 1
    assert (again.touches, again.inquiries) == (0, 0)
    assert Touch.objects.count() == 2 and Touch.objects.filter(lead=lead).count() == 1
    assert Inquiry.objects.count() == 1
    assert mail_fetch(now=NOW + timedelta(minutes=11)).read == 0
    if how == "changed":
        assert list(CapturedMail.objects.filter(uidvalidity__gt=1).order_by("uid").values_list("state", flat=True)) == [
            "repeat",
            "repeat",
            "repeat",
            "skipped",
        ]


def test_the_mailbox_is_unchanged_by_a_run(mailbox, rep):
    _lead(rep)
    original = letter(sender=rep.email, to=[BUDI], sent=SENT, message_id="<s1@x>")
    mailbox.append(
        raw(original),
        raw(forward_attached(original, sender=rep.email, sent=SENT, message_id="<s2@x>")),
        raw(letter(sender="stranger@elsewhere.example", to=[BUDI], sent=SENT)),
        arrived_at=ARRIVED,
    )
    before = mailbox.state()
    assert len(before[1]) == 3
    fetch_twice()
    after = mailbox.state()
    assert after == before
    assert not [flags for _, flags in after[1] if b"\\Seen" in flags or b"\\Deleted" in flags]


def test_a_run_with_nothing_new_costs_one_imap_command(mailbox, rep):
    empty = mail_fetch(now=NOW)
    assert (empty.read, empty.commands) == (0, 1)
    _lead(rep)
    mailbox.append(raw(letter(sender=rep.email, to=[BUDI], sent=SENT, message_id="<c1@x>")), arrived_at=ARRIVED)
    assert mail_fetch(now=NOW + timedelta(minutes=1)).read == 1
    for minutes in (2, 3):
        result = mail_fetch(now=NOW + timedelta(minutes=minutes))
        assert (result.read, result.touches, result.commands) == (0, 0, 1)
    mailbox_row = Mailbox.objects.get()
    assert mailbox_row.last_uid == 1 and mailbox_row.uidvalidity == mailbox.state()[0]


def test_only_what_arrived_since_the_last_run_is_read(mailbox, rep):
    _lead(rep)
    mailbox.append(raw(letter(sender=rep.email, to=[BUDI], sent=SENT, message_id="<r1@x>")), arrived_at=ARRIVED)
    assert mail_fetch(now=NOW).read == 1
    mailbox.append(raw(letter(sender=rep.email, to=[BUDI], sent=SENT, message_id="<r2@x>")), arrived_at=ARRIVED)
    result = mail_fetch(now=NOW + timedelta(minutes=1))
    assert (result.read, result.touches) == (1, 1)
    assert sorted(Touch.objects.values_list("external_id", flat=True)) == ["r1@x", "r2@x"]


def test_a_run_while_another_holds_the_mailbox_does_nothing(mailbox, rep):
    _lead(rep)
    assert mail_fetch(now=NOW - timedelta(minutes=30)).read == 0  # the mailbox row exists, nothing new yet
    mailbox.append(raw(letter(sender=rep.email, to=[BUDI], sent=SENT, message_id="<busy@x>")), arrived_at=ARRIVED)
    Mailbox.objects.update(leased_until=NOW + timedelta(minutes=5))  # another run holds it
    busy = mail_fetch(now=NOW)
    assert (busy.busy, busy.read, busy.commands) == (True, 0, 0)
    with time_machine.travel(NOW, tick=False):
        assert "Another run is reading the mailbox" in _command()
    assert not Touch.objects.exists()
    done = mail_fetch(now=NOW + timedelta(minutes=6))  # the lease ran out: a run that died lets go
    assert (done.busy, done.read, done.touches) == (False, 1, 1)
    assert Mailbox.objects.get().leased_until is None


# -- the command and the task -----------------------------------------------------------------------------------
def _command() -> str:
    out = StringIO()
    call_command("fetch_mail", stdout=out)
    return out.getvalue()


def test_the_command_captures_and_prints_the_counts(mailbox, rep):
    _lead(rep)
    mailbox.append(
        raw(letter(sender=rep.email, to=[BUDI], sent=SENT, message_id="<cmd@x>")),
        raw(letter(sender="stranger@elsewhere.example", to=[BUDI], sent=SENT)),
        arrived_at=ARRIVED,
    )
    with time_machine.travel(NOW, tick=False):
        first = _command()
        again = _command()
    assert "Messages read: 2; follow-ups logged: 1; inquiries: 0; repeats: 0; skipped: 1; failed: 0." in first
    assert "Messages read: 0; follow-ups logged: 0" in again
    assert Touch.objects.get().occurred_at == SENT


def test_the_command_says_when_capture_is_not_configured(settings):
    settings.MAIL_CAPTURE_IMAP_URL = ""
    assert "not configured" in _command()
    assert not Mailbox.objects.exists()


def test_the_command_fails_on_a_mailbox_it_cannot_reach_and_records_why(settings):
    url = f"imap://capture:secret@127.0.0.1:{free_port()}/INBOX"
    settings.MAIL_CAPTURE_IMAP_URL = url
    with time_machine.travel(NOW, tick=False), pytest.raises(CommandError) as excinfo:
        _command()
    assert "could not be read" in str(excinfo.value)
    row = Mailbox.objects.get()
    assert row.address == url.replace(":secret", "")  # never the password
    assert row.error and row.checked_at == NOW and row.read_at is None and row.leased_until is None
    assert "secret" not in row.error


def test_the_task_captures_like_the_command(mailbox, rep):
    from mailcapture.tasks import fetch_mail

    _lead(rep)
    mailbox.append(raw(letter(sender=rep.email, to=[BUDI], sent=SENT, message_id="<task@x>")), arrived_at=ARRIVED)
    with time_machine.travel(NOW, tick=False):
        first = fetch_mail()
        again = fetch_mail()
    assert first == {"read": 1, "touches": 1, "inquiries": 0, "busy": False}
    assert again == {"read": 0, "touches": 0, "inquiries": 0, "busy": False}
    assert Touch.objects.get().external_id == "task@x"


def test_the_task_reports_a_mailbox_it_cannot_reach_without_raising(settings):
    from mailcapture.tasks import fetch_mail

    settings.MAIL_CAPTURE_IMAP_URL = f"imap://capture:secret@127.0.0.1:{free_port()}/INBOX"
    with time_machine.travel(NOW, tick=False):
        answer = fetch_mail()
    assert set(answer) == {"error"} and answer["error"] == Mailbox.objects.get().error


def test_the_task_does_nothing_when_capture_is_not_configured(settings):
    from mailcapture.tasks import fetch_mail

    settings.MAIL_CAPTURE_IMAP_URL = ""
    assert fetch_mail() == {"configured": False}
    assert not Mailbox.objects.exists()


# -- cost -------------------------------------------------------------------------------------------------------
def _statements(imap_server, rep, count: int) -> int:
    box = imap_server.mailbox()
    emails = [f"lead{count}-{n}@client.co.id" for n in range(count)]
    for email in emails:
        _lead(rep, email)
    box.append(*[raw(letter(sender=rep.email, to=[email], sent=SENT, message_id=f"<{email}>")) for email in emails])
    with CaptureQueriesContext(connection) as queries:
        result = mail_fetch(now=NOW, url=box.url)
    assert (result.read, result.touches) == (count, count)
    return len(queries)


def test_a_run_costs_the_same_statements_for_two_messages_or_ten(imap_server, rep):
    assert _statements(imap_server, rep, 2) == _statements(imap_server, rep, 10)


def test_a_gmail_inline_forward_then_the_bcc_copy_in_a_later_run_are_one_touch(mailbox, rep):
    lead = _lead(rep)
    block = gmail_block(
        sender=f"Rina <{rep.email}>", to=f"Budi <{BUDI}>", date="Mon, Dec 7, 2026 at 8:15\u202fAM", subject="Penawaran"
    )
    mailbox.append(raw(forward_inline(block, sender=rep.email, sent=NOW - timedelta(minutes=30), message_id="<f@x>")))
    fetch_twice()
    sent = datetime(2026, 12, 7, 1, 15, 40, tzinfo=UTC)  # the copy's own Date has its seconds
    mailbox.append(raw(letter(sender=f"Rina <{rep.email}>", to=[f"Budi <{BUDI}>"], sent=sent, message_id="<b@x>")))
    fetch_twice(NOW + timedelta(minutes=5))
    assert Touch.objects.filter(lead=lead).count() == 1
    # A different e-mail with the same subject a day later is a follow-up of its own.
    later = letter(sender=rep.email, to=[BUDI], sent=sent + timedelta(days=1), message_id="<c@x>")
    mailbox.append(raw(later))
    fetch_twice(NOW + timedelta(days=1, hours=2))
    assert Touch.objects.filter(lead=lead).count() == 2
