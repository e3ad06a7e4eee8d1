"""E-mail capture (SPEC §14): what reps BCC or forward to the capture mailbox becomes their
follow-ups, exactly once.

A run (`mail_fetch`) holds the mailbox by a lease, reads what arrived since the last UID it
read (under the same UIDVALIDITY), stores every message as a row with what was read from it
and moves its cursor in the same transaction, then processes the rows it stored. The
mailbox is never changed. A run that breaks off (the server down, a login refused, the
connection cut) has stored and moved past only whole batches: the next run starts where
it stopped. A row whose processing failed is `failed` and retried by the next runs.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from leads import services as leads_services
from leads.models import OPEN, Inquiry, Lead, Touch
from mailcapture.imap import Listed, MailboxError, Session, address_parse
from mailcapture.models import CapturedMail, Mailbox
from mailcapture.reading import INLINE, Letter, Mail, Unreadable, clean, mail_read
from teams import permissions
from teams.models import User

logger = logging.getLogger(__name__)

State, Reason = CapturedMail.State, CapturedMail.Reason
LEASE = timedelta(minutes=10)
BATCH_BYTES = 20 * 1024 * 1024  # bodies fetched in one command at most
RETRIES = 10  # a failed row is retried by this many runs, then left for an admin


@dataclass
class Result:
    read: int = 0
    captured: int = 0
    touches: int = 0
    inquiries: int = 0
    repeats: int = 0
    skipped: int = 0
    failed: int = 0
    commands: int = 0  # IMAP commands after logging in
    busy: bool = False  # another run holds the mailbox

    def add(self, other: Result) -> None:
        for name in ("captured", "touches", "inquiries", "repeats", "skipped", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def mail_capture_configured() -> bool:
    return bool(settings.MAIL_CAPTURE_IMAP_URL)


def mail_fetch(*, now: datetime | None = None, url: str | None = None) -> Result:
    """Read and process what is new in the capture mailbox (`url`, default
    MAIL_CAPTURE_IMAP_URL). Raises MailboxError when the mailbox cannot be read (recorded on
    the mailbox, retried by the next run). Safe to run twice or at once: a second run finds
    the mailbox held and returns at once (`busy`)."""
    now = now or timezone.now()
    address = address_parse(url if url is not None else settings.MAIL_CAPTURE_IMAP_URL)
    mailbox, _ = Mailbox.objects.get_or_create(address=address.name)
    held = Mailbox.objects.filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now), pk=mailbox.pk)
    if not held.update(leased_until=now + LEASE):
        return Result(busy=True)
    try:
        result = _read(mailbox, address, now)
    except Exception as exc:
        # The mailbox unreadable, or the database refusing a batch: what was stored stays, the
        # next run starts after it; the mailbox is let go whatever went wrong.
        error = str(exc) if isinstance(exc, MailboxError) else f"{type(exc).__name__}: {exc}"
        Mailbox.objects.filter(pk=mailbox.pk).update(checked_at=now, error=clean(error)[:2000], leased_until=None)
        raise
    Mailbox.objects.filter(pk=mailbox.pk).update(checked_at=now, read_at=now, error="", leased_until=None)
    result.add(mails_retry(now=now))
    return result


def _read(mailbox: Mailbox, address, now: datetime) -> Result:
    result = Result()
    limit = settings.MAIL_CAPTURE_MAX_BYTES
    with Session(address, timeout=settings.MAIL_CAPTURE_TIMEOUT_SECONDS) as box:
        validity, following = box.examine()
        last = mailbox.last_uid if validity == mailbox.uidvalidity else 0  # a new UIDVALIDITY: read all again
        if following is not None and following - 1 <= last:
            result.commands = box.commands
            return result
        for batch in _batches(box.list_after(last), limit):
            bodies = dict(box.fetch([listed.uid for listed in batch if listed.size <= limit]))
            rows = [_row(mailbox, validity, listed, bodies.get(listed.uid), limit, now) for listed in batch]
            with transaction.atomic():
                CapturedMail.objects.bulk_create(rows, ignore_conflicts=True)
                Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=validity, last_uid=batch[-1].uid)
            result.read += len(rows)
            stored = CapturedMail.objects.filter(
                mailbox=mailbox, uidvalidity=validity, uid__in=[listed.uid for listed in batch]
            )
            result.add(mails_process(mails=list(stored.filter(state=State.PENDING)), now=now))
            result.skipped += sum(1 for row in rows if row.state == State.SKIPPED)
        result.commands = box.commands
    return result


def _batches(listed: list[Listed], limit: int) -> Iterator[list[Listed]]:
    batch, size = [], 0
    for item in listed:
        weight = item.size if item.size <= limit else 0
        if batch and (len(batch) >= settings.MAIL_CAPTURE_BATCH or size + weight > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += weight
    if batch:
        yield batch


def _row(mailbox: Mailbox, validity: int, listed: Listed, raw: bytes | None, limit: int, now: datetime):
    row = CapturedMail(
        mailbox=mailbox, uidvalidity=validity, uid=listed.uid, arrived_at=listed.arrived_at or now, size=listed.size
    )
    row.read_at = now
    if listed.size > limit:
        row.state, row.reason = State.SKIPPED, Reason.TOO_LARGE
        row.detail = f"{listed.size:,} > {limit:,} bytes"
        return row
    if raw is None:
        row.state, row.reason, row.detail = State.SKIPPED, Reason.MALFORMED, "no longer in the mailbox"
        return row
    try:
        mail = mail_read(raw)
    except Unreadable as exc:
        row.state, row.reason, row.detail = State.SKIPPED, Reason.MALFORMED, clean(exc)[:500]
        return row
    row.summary = mail.as_json()
    row.message_id = mail.letter.message_id
    row.sender = ", ".join(mail.letter.senders)[:254]
    row.subject = mail.letter.subject
    return row


def mails_retry(*, now: datetime) -> Result:
    """Process again the rows whose processing failed (at most RETRIES times each), and those
    a run stored but did not live to process."""
    waiting = CapturedMail.objects.filter(
        Q(state=State.FAILED, attempts__lt=RETRIES) | Q(state=State.PENDING, read_at__lt=now - LEASE)
    ).order_by("pk")[: settings.MAIL_CAPTURE_BATCH]
    return mails_process(mails=list(waiting), now=now)


def mails_process(*, mails: list[CapturedMail], now: datetime) -> Result:
    """Act on stored messages (SPEC §14): follow-ups, inquiries, repeats or a skip with its
    reason. All in one transaction and a constant number of statements; when that fails, one
    message at a time, so that a bad one is `failed` alone."""
    if not mails:
        return Result()
    try:
        with transaction.atomic():
            return _process(mails, now)
    except Exception:
        logger.exception("e-mail capture: a batch of %d failed; processing one at a time", len(mails))
    result = Result()
    for mail in mails:
        try:
            with transaction.atomic():
                result.add(_process([mail], now))
        except Exception as exc:
            logger.exception("e-mail capture: message %s failed", mail.pk)
            CapturedMail.objects.filter(pk=mail.pk).update(
                state=State.FAILED, detail=clean(f"{type(exc).__name__}: {exc}")[:500], attempts=mail.attempts + 1
            )
            result.failed += 1
    return result


@dataclass
class _Plan:
    touches: list[Touch]
    inquiries: list[tuple[Lead, Letter]]
    reason: str = ""


def _process(mails: list[CapturedMail], now: datetime) -> Result:
    read = {mail.pk: Mail.from_json(mail.summary) for mail in mails}
    addresses = {address for mail in read.values() for address in _addresses(mail)}
    users = _users(addresses)
    leads = _leads(addresses)
    plans = {mail.pk: _plan(mail, read[mail.pk], users, leads, now) for mail in mails}
    source = {id(touch): pk for pk, plan in plans.items() for touch in plan.touches}
    planned = _copies_drop([touch for plan in plans.values() for touch in plan.touches])
    written = leads_services.touches_capture(touches=planned, now=now)
    logged = defaultdict(int)
    for touch in written:
        logged[source[id(touch)]] += 1
    asked = _inquiries_record(mails, plans, now)
    result = Result()
    for mail in mails:
        plan = plans[mail.pk]
        mail.touches, mail.processed_at, mail.attempts = logged[mail.pk], now, mail.attempts + 1
        mail.reason, mail.detail = plan.reason, ""
        if plan.reason:
            mail.state = State.SKIPPED
        elif mail.touches:
            mail.state = State.CAPTURED
        elif asked[mail.pk]:
            mail.state = State.INQUIRY
        else:
            mail.state = State.REPEAT
        result.captured += mail.state == State.CAPTURED
        result.skipped += mail.state == State.SKIPPED
        result.repeats += mail.state == State.REPEAT
        result.inquiries += asked[mail.pk]
    result.touches = len(written)
    _outcomes_save(mails, now)
    return result


def _outcomes_save(mails: list[CapturedMail], now: datetime) -> None:
    """What became of each message: one UPDATE per distinct outcome (a handful a batch),
    rather than one per message or a CASE over them all."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for mail in mails:
        groups[(mail.state, mail.reason, mail.touches, mail.attempts)].append(mail.pk)
    for (state, reason, touches, attempts), pks in groups.items():
        CapturedMail.objects.filter(pk__in=pks).update(
            state=state, reason=reason, detail="", touches=touches, attempts=attempts, processed_at=now
        )


def _addresses(mail: Mail) -> Iterable[str]:
    for letter in (mail.letter, *mail.forwarded):
        yield from letter.senders
        yield from letter.recipients


def _users(addresses: set[str]) -> dict[str, User]:
    """The active users by (lower-cased) e-mail; an address two users share names neither."""
    found: dict[str, list[User]] = defaultdict(list)
    for user in User.objects.annotate(address=Lower("email")).filter(is_active=True, address__in=addresses):
        found[user.address].append(user)
    return {address: people[0] for address, people in found.items() if len(people) == 1}


def _leads(addresses: set[str]) -> dict[str, list[Lead]]:
    """Leads by e-mail (stored lower-cased), newest first. Reads lead_email_idx."""
    found: dict[str, list[Lead]] = defaultdict(list)
    for lead in Lead.objects.filter(email__in=addresses).order_by("-created_at", "-pk"):
        found[lead.email].append(lead)
    return found


def _plan(mail: CapturedMail, read: Mail, users: dict[str, User], leads: dict[str, list[Lead]], now) -> _Plan:
    letter = read.letter
    if len(letter.senders) > 1:
        return _Plan([], [], Reason.TWO_SENDERS)
    sender = letter.senders[0]
    user = users.get(sender)
    if user is None:
        if sender not in leads:
            return _Plan([], [], Reason.UNKNOWN_SENDER)
        if not any(address in users for address in letter.recipients):
            return _Plan([], [], Reason.NO_USER)
        return _Plan([], [(lead, letter) for lead in _asking(leads[sender])])
    touches, inquiries, addressed = [], [], False
    for part in (letter, *read.forwarded):
        author = part.senders[0] if part.senders else ""
        if part is not letter and author in leads and author not in users:
            # A lead's message, forwarded by the user: the person wrote again.
            mine = [lead for lead in _asking(leads[author]) if permissions.can_work_lead(user, lead)]
            inquiries += [(lead, part) for lead in mine]
            addressed = True
            continue
        for address in part.recipients:
            for lead in leads.get(address, []):
                addressed = True
                if permissions.can_work_lead(user, lead):
                    touches.append(_touch(mail, read, part, lead, user, now))
    if touches or inquiries:
        return _Plan(touches, inquiries)
    return _Plan([], [], Reason.NOT_THEIRS if addressed else Reason.NO_LEAD)


def _touch(mail: CapturedMail, read: Mail, part: Letter, lead: Lead, user: User, now: datetime) -> Touch:
    """An `email` touch by the sender: at the Date header, no later than the message's arrival
    in the mailbox (nor now), no earlier than the lead's creation (SPEC §14)."""
    when = mail.arrived_at
    if part.sent_at:
        when = min(when, datetime.fromisoformat(part.sent_at))
    when = max(min(when, now), lead.created_at)
    return Touch(
        lead=lead,
        user=user,
        kind=Touch.Kind.EMAIL,
        occurred_at=when,
        outcome=Touch.Outcome.MEETING_BOOKED if read.invitation else "",
        notes=part.subject,
        origin=Touch.Origin.EMAIL,
        external_id=part.message_id,
    )


def _asking(leads: list[Lead]) -> list[Lead]:
    """The leads a person's message is an inquiry on: their open ones, or the newest."""
    return [lead for lead in leads if lead.status in OPEN] or leads[:1]


def _said(letter: Letter) -> str:
    return "\n".join(part for part in (letter.subject, letter.text.strip()) if part)


def _inquiries_record(mails: list[CapturedMail], plans: dict[int, _Plan], now: datetime) -> dict[int, int]:
    """Record the planned inquiries: each message of a lead once on each lead, by its own
    Message-ID (a copy of it and a rep's forward of it are one)."""
    asked: dict[int, int] = defaultdict(int)
    for mail in mails:
        for lead, letter in plans[mail.pk].inquiries:
            recorded = leads_services.inquiry_record(
                lead=lead, channel=Inquiry.Channel.EMAIL, message=_said(letter), now=now, external_id=letter.message_id
            )
            asked[mail.pk] += recorded is not None
    return asked


def _copies_drop(touches: list[Touch]) -> list[Touch]:
    """The touches left once those that are another copy of a message already logged are
    dropped: a message forwarded inline has no Message-ID of its own (reading.INLINE), so it
    and a copy of it that came by BCC are told apart by their sender, lead, subject and minute.
    One query for the batch."""
    if not touches:
        return touches
    seen: dict[tuple[int, int, str], list[tuple[datetime, str]]] = defaultdict(list)
    earlier = Touch.objects.filter(
        lead_id__in={t.lead_id for t in touches},
        user_id__in={t.user_id for t in touches},
        notes__in={t.notes for t in touches},
        origin=Touch.Origin.EMAIL,
    )
    if not any(touch.external_id.startswith(INLINE) for touch in touches):
        earlier = earlier.filter(external_id__startswith=INLINE)  # only an inline copy can match
    earlier = earlier.values_list("lead_id", "user_id", "notes", "occurred_at", "external_id")
    for lead_id, user_id, notes, occurred_at, external_id in earlier:
        seen[(lead_id, user_id, notes)].append((occurred_at, external_id))
    kept = []
    for touch in touches:
        key = (touch.lead_id, touch.user_id, touch.notes)
        inline = touch.external_id.startswith(INLINE)
        if any(
            abs(when - touch.occurred_at) < timedelta(minutes=1)
            and (inline or other.startswith(INLINE))
            and other != touch.external_id
            for when, other in seen[key]
        ):
            continue
        seen[key].append((touch.occurred_at, touch.external_id))
        kept.append(touch)
    return kept
