"""E-mail: the weekly breach digest, and the notifications of the app (SPEC §12) gathered a
few minutes at a time, each sent at most once.

Every message is a `Delivery` row: a digest unique per (recipient, week), created with ON
CONFLICT DO NOTHING; notifications each name the delivery that carries them
(`notifications.services.notifications_email_schedule`). A delivery is claimed with a conditional UPDATE (pending or
failed → sending) before it is sent and marked sent after. A repeated or concurrent run
finds nothing left to claim. A failed send (SMTP refused) is marked failed and retried
with exponential backoff; nothing is marked sent that was not.

The crash window: if a worker dies after the mail server accepted a message but before
the row was marked sent, the row stays `sending`; after `STALE_SENDING` it is claimed
again and that one message is sent a second time. That is the only duplicate possible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from notifications import selectors
from notifications.models import Kind
from slas.digests import digest_for, digest_recipients, link, previous_week
from slas.models import Delivery
from teams.models import Team, User

STALE_SENDING = timedelta(hours=1)
MAX_ATTEMPTS = 8
UNSUBSCRIBE_SALT = "selaras.unsubscribe"


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    skipped: int = 0


# -- scheduling ------------------------------------------------------------------------------
def digests_schedule(*, now: datetime, week_start: date | None = None) -> int:
    """Create the digest deliveries that are due: for each team whose local time has passed
    Monday 08:00, one per recipient for the previous ISO week (or for `week_start`, for
    every team). Idempotent: existing deliveries are left alone. Returns rows created."""
    rows = []
    for team in Team.objects.order_by("name"):
        week = week_start or previous_week(team=team, now=now)
        if week is None:
            continue
        rows += [
            Delivery(kind=Delivery.Kind.DIGEST, recipient=user, week_start=week, next_attempt_at=now, created_at=now)
            for user in digest_recipients(team=team)
        ]
    before = Delivery.objects.filter(kind=Delivery.Kind.DIGEST).count()
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return Delivery.objects.filter(kind=Delivery.Kind.DIGEST).count() - before


# -- sending ----------------------------------------------------------------------------------
def deliveries_send(*, now: datetime, limit: int = 500) -> SendResult:
    """Send every delivery that is due, each claimed first so that no two runs send it."""
    result = SendResult()
    due = Q(status__in=[Delivery.Status.PENDING, Delivery.Status.FAILED], next_attempt_at__lte=now) | Q(
        status=Delivery.Status.SENDING, claimed_at__lt=now - STALE_SENDING
    )
    candidates = list(
        Delivery.objects.filter(due, attempts__lt=MAX_ATTEMPTS)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    connection = get_connection(timeout=settings.EMAIL_TIMEOUT)
    for pk in candidates:
        claimed = Delivery.objects.filter(due, pk=pk).update(status=Delivery.Status.SENDING, claimed_at=now)
        if claimed != 1:
            continue  # another run took it
        delivery = Delivery.objects.select_related("recipient__team").get(pk=pk)
        _send_one(delivery, now=now, connection=connection, result=result)
    return result


def deliveries_retry(*, deliveries: QuerySet[Delivery], now: datetime) -> int:
    """Make failed deliveries due now with a fresh count of attempts (an operator's action
    once the mail server works again). Only failed rows: sent or sending ones are left."""
    return deliveries.filter(status=Delivery.Status.FAILED).update(attempts=0, next_attempt_at=now)


def _send_one(delivery: Delivery, *, now: datetime, connection, result: SendResult) -> None:
    message = build_message(delivery, now=now)
    if message is None:
        Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.SKIPPED, sent_at=None)
        result.skipped += 1
        return
    try:
        message.connection = connection
        message.send()
    except Exception as exc:
        attempts = delivery.attempts + 1
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.FAILED,
            attempts=attempts,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            next_attempt_at=now + min(timedelta(minutes=2**attempts), timedelta(hours=6)),
        )
        result.failed += 1
        return
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENT, sent_at=now, attempts=delivery.attempts + 1, last_error="", body="", html=""
    )
    result.sent += 1


def build_message(delivery: Delivery, *, now: datetime) -> EmailMultiAlternatives | None:
    """The e-mail for a delivery in the recipient's language and team time zone; None when there
    is nothing to send: a digest that would be empty and the recipient did not ask for empty
    ones, notifications no longer there, or a kind of e-mail notifications replaced."""
    user = delivery.recipient
    team = user.team
    if not user.email:
        return None
    zone = team.timezone if team else settings.TIME_ZONE
    with translation.override(user.language or settings.LANGUAGE_CODE), timezone.override(ZoneInfo(zone)):
        if delivery.kind == Delivery.Kind.DIGEST:
            if team is None or not user.digest_enabled:
                return None
            content = digest_for(user=user, team=team, week_start=delivery.week_start, now=now)
            if content.is_empty and not user.digest_when_empty:
                return None
            context, template, kind = {"digest": content}, "emails/digest", "digest"
        elif delivery.kind == Delivery.Kind.NOTICES:
            notices = [
                (selectors.notification_text(notice), link(selectors.notification_link(notice)))
                for notice in selectors.notification_list(user=user)
                .filter(delivery=delivery)
                .order_by("created_at", "pk")
            ]
            if not notices:
                return None
            context, template, kind = {"notices": notices}, "emails/notices", "notices"
        elif delivery.kind == Delivery.Kind.PASSWORD_RESET:
            if not delivery.body:
                return None
            message = EmailMultiAlternatives(subject=delivery.subject, body=delivery.body, to=[user.email])
            if delivery.html:
                message.attach_alternative(delivery.html, "text/html")
            return message
        else:  # kinds of e-mail that notifications replaced: nothing more is sent of them
            return None
        unsubscribe = link(reverse("unsubscribe", args=[unsubscribe_token(user=user, kind=kind)]))
        preferences = link(reverse("notification_preferences"))
        context.update(user=user, team=team, unsubscribe=unsubscribe, preferences=preferences, zone=zone)
        # One line: a name with a line break (a quoted CSV cell) would make the header
        # invalid, and the message would fail on every retry.
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    message = EmailMultiAlternatives(subject=subject, body=text, to=[user.email], headers=headers)
    message.attach_alternative(html, "text/html")
    return message


def password_reset_schedule(*, user: User, subject: str, body: str, html: str, now: datetime) -> Delivery:
    """The password reset e-mail a person asked for, made now (its link is valid from now) and
    sent by the next run of the e-mail job, never from the request: a mail server that is
    slow or down keeps no page waiting (SPEC §10)."""
    return Delivery.objects.create(
        kind=Delivery.Kind.PASSWORD_RESET,
        recipient=user,
        subject=" ".join(subject.split())[:200],
        body=body,
        html=html,
        next_attempt_at=now,
        created_at=now,
    )


# -- unsubscribing ----------------------------------------------------------------------------
def unsubscribe_token(*, user: User, kind: str) -> str:
    """A signed token that switches one kind of e-mail off for `user`, no login needed."""
    return signing.dumps({"u": user.pk, "k": kind}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe(*, token: str) -> tuple[User, str]:
    """Switch off what the token names. Raises signing.BadSignature for a tampered token."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    user = User.objects.get(pk=data["u"])
    if data["k"] == "digest":
        user.digest_enabled = False
        user.save(update_fields=["digest_enabled"])
    elif data["k"] == "notices":
        user.email_notifications = []
        user.save(update_fields=["email_notifications"])
    else:
        raise signing.BadSignature("unknown kind")
    return user, data["k"]


def preferences_update(
    *, user: User, digest_enabled: bool, digest_when_empty: bool, email_notifications: list[str]
) -> User:
    """What `user` gets by e-mail: the weekly digest (even an empty one), and which kinds of
    notification (the rest stay in the app)."""
    unknown = set(email_notifications) - set(Kind.values)
    if unknown:
        raise ValidationError(
            {"email_notifications": [_("Unknown kind: %(kinds)s.") % {"kinds": ", ".join(sorted(unknown))}]}
        )
    user.digest_enabled, user.digest_when_empty = digest_enabled, digest_when_empty
    user.email_notifications = [kind for kind in Kind.values if kind in email_notifications]
    user.save(update_fields=["digest_enabled", "digest_when_empty", "email_notifications"])
    return user


def digest_dry_run(*, week_start: date, now: datetime) -> list[tuple[User, Team, int, bool]]:
    """Who would get which digest for a week: (recipient, team, breaches, empty?). Writes nothing."""
    found = []
    for team in Team.objects.order_by("name"):
        for user in digest_recipients(team=team):
            content = digest_for(user=user, team=team, week_start=week_start, now=now)
            found.append((user, team, len(content.breaches), content.is_empty and not user.digest_when_empty))
    return found
