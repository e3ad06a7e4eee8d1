"""Writes of notifications (SPEC §12). Each kind is created set-based and at most once per
person and object (the table's unique constraints, ON CONFLICT DO NOTHING), so a repeated or
concurrent job, or a retried request, never tells anyone twice. The functions that create
them write with INSERT … SELECT (no Python object per row) and return how many they wrote."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import DateTimeField, Exists, F, IntegerField, Max, OuterRef, Q, QuerySet, Value

from leads.models import Assignment, Dispute, Inquiry, Lead
from notifications.models import Kind, Notification
from salesmarketing.sql import insert_select
from slas.models import Breach, Clock, Delivery, Sla
from teams.models import Role, User
from webhooks import outbox
from webhooks.models import Event

# A breach that fell due longer ago than this is history by the time it is recorded (the
# first sweep of a new install, a backfill): it is in the breach list and the digest, but
# nobody's bell rings for it.
NEWS_WITHIN = timedelta(days=7)
# Never more than one e-mail of notifications per person in this time (SPEC §12).
EMAIL_EVERY = timedelta(minutes=5)
MANAGERS = (Role.SALES_MANAGER, Role.MARKETING_MANAGER)


def leads_assigned_notify(*, assignments: Sequence[Assignment], by: User | None, now: datetime) -> int:
    """Tell each new owner of the lead they were given, unless they took it themselves. One
    statement."""
    given = Assignment.objects.filter(pk__in=[assignment.pk for assignment in assignments])
    if by is not None:
        given = given.exclude(owner_id=by.pk)
    return insert_select(Notification, given, _row(Kind.LEAD_ASSIGNED, user=F("owner_id"), now=now))


def no_rep_notify(*, leads: Sequence[Lead], now: datetime) -> int:
    """Tell the active sales managers of each new lead's team that routing found nobody for
    it. One statement."""
    nobody = Lead.objects.filter(
        pk__in=[lead.pk for lead in leads], team__members__role=Role.SALES_MANAGER, team__members__is_active=True
    )
    return insert_select(
        Notification, nobody, _row(Kind.NO_REP_AVAILABLE, user=F("team__members__pk"), lead=F("pk"), now=now)
    )


def leads_rerouted_notify(*, clocks: QuerySet[Clock], now: datetime) -> int:
    """Tell the owners of these clocks that their leads went to someone else, and the leads'
    teams' active sales managers that they were routed again. Two statements."""
    told = insert_select(Notification, clocks, _row(Kind.LEAD_REROUTED, user=F("owner_id"), now=now))
    leads = Lead.objects.filter(
        pk__in=clocks.values("lead_id"), team__members__role=Role.SALES_MANAGER, team__members__is_active=True
    )
    return told + insert_select(
        Notification, leads, _row(Kind.LEAD_REROUTED, user=F("team__members__pk"), lead=F("pk"), now=now)
    )


def inquiry_notify(*, inquiry: Inquiry, now: datetime) -> int:
    """Tell the owner of the inquiry's lead (its team's active sales managers while nobody owns
    it) that the person got in touch again, unless an unread notification of an earlier
    inquiry on the lead already says so: a chat of five messages rings once. One statement."""
    lead = Lead.objects.filter(pk=inquiry.lead_id)
    if inquiry.lead.owner_id is not None:
        told = lead.annotate(person=F("owner_id"))
    else:
        told = lead.filter(team__members__role=Role.SALES_MANAGER, team__members__is_active=True).annotate(
            person=F("team__members__pk")
        )
    unread = Notification.objects.filter(
        user_id=OuterRef("person"), kind=Kind.INQUIRY, lead_id=inquiry.lead_id, read_at__isnull=True
    )
    row = _row(Kind.INQUIRY, user=F("person"), lead=F("pk"), now=now)
    row["inquiry_id"] = Value(inquiry.pk, output_field=IntegerField())
    return insert_select(Notification, told.exclude(Exists(unread)), row)


def dispute_opened_notify(*, dispute: Dispute, now: datetime) -> int:
    """Tell Sales that Marketing disputes a rejection: the active sales managers of the lead's
    team, who rule on it, and the person who rejected the lead (not whoever raised it). Once
    per person and dispute, however often it is called. One statement."""
    told = User.objects.filter(
        Q(role=Role.SALES_MANAGER, team_id=dispute.lead.team_id) | Q(pk=dispute.rejection.by_id), is_active=True
    ).exclude(pk=dispute.raised_by_id)
    return insert_select(Notification, told, _dispute_row(Kind.DISPUTE_OPENED, dispute=dispute, now=now))


def dispute_ruled_notify(*, dispute: Dispute, now: datetime) -> int:
    """Tell Marketing how a dispute was ruled: whoever raised it, and the active marketing
    managers of the lead's campaign's team and of the raiser's team (not whoever ruled). Once
    per person and dispute, however often it is called. One statement."""
    teams = {dispute.lead.campaign.team_id if dispute.lead.campaign_id else None, dispute.raised_by.team_id} - {None}
    told = User.objects.filter(
        Q(pk=dispute.raised_by_id) | Q(role=Role.MARKETING_MANAGER, team_id__in=teams), is_active=True
    ).exclude(pk=dispute.ruled_by_id)
    return insert_select(Notification, told, _dispute_row(Kind.DISPUTE_RULED, dispute=dispute, now=now))


def _dispute_row(kind: str, *, dispute: Dispute, now: datetime) -> dict:
    """A notification of `dispute` for each user of the source rows."""
    row = _row(kind, user=F("pk"), lead=Value(dispute.lead_id, output_field=IntegerField()), now=now)
    row["dispute_id"] = Value(dispute.pk, output_field=IntegerField())
    return row


def webhook_switched_off_notify(*, webhook_id: int, now: datetime) -> int:
    """Tell every active admin that a webhook was switched off for failing everything for
    24 hours. Called once per switch-off, in its transaction. Two statements."""
    admins = User.objects.filter(Q(role=Role.ADMIN) | Q(is_superuser=True), is_active=True).values_list("pk", flat=True)
    kind = Kind.WEBHOOK_SWITCHED_OFF
    rows = [Notification(user_id=pk, kind=kind, webhook_id=webhook_id, created_at=now) for pk in admins]
    return len(Notification.objects.bulk_create(rows))


def breaches_notify(*, now: datetime) -> int:
    """Tell of every breach recorded since the last call: the rep who owed it
    (`breach_owner`) and the active managers of the team that owns the SLA and of the team
    that owed it (`breach_team`; of a response or cadence SLA only when it escalates to the
    managers). A breach due more than NEWS_WITHIN before `now` is marked told without telling
    anyone.

    Five statements (and one per webhook that wants `breach.recorded`, plus one to find them),
    whatever the number of breaches, which are found by a partial index of
    those not yet told, so a run costs what was recorded since the last one. In one
    transaction: a run that dies tells nobody and the next tells all; the breaches it marks
    are those it read, so one recorded meanwhile waits for the next run."""
    with transaction.atomic():
        untold = Breach.objects.filter(notified_at__isnull=True)
        last = untold.aggregate(last=Max("pk"))["last"]
        if last is None:
            return 0
        untold = untold.filter(pk__lte=last)
        news = untold.filter(due_at__gte=now - NEWS_WITHIN)
        managers = {"members__role__in": MANAGERS, "members__is_active": True}
        told = insert_select(
            Notification,
            news.filter(responsible_user__isnull=False),
            _row(Kind.BREACH_OWNER, user=F("responsible_user_id"), breach=F("pk"), now=now),
        )
        escalated = news.filter(Q(sla__escalate_to_managers=True) | Q(kind__in=[Sla.Kind.VOLUME, Sla.Kind.ASSIGNMENT]))
        for team in ("team", "responsible_team"):
            rows = escalated.filter(**{f"{team}__{key}": value for key, value in managers.items()})
            told += insert_select(
                Notification, rows, _row(Kind.BREACH_TEAM, user=F(f"{team}__members__pk"), breach=F("pk"), now=now)
            )
        # And the systems that listen (SPEC §12): the same news, as webhook events.
        outbox.webhook_events_from(event=Event.BREACH_RECORDED, rows=news, subject=F("pk"), lead=F("lead_id"), now=now)
        untold.update(notified_at=now)
    return told


def clocks_at_risk_notify(*, now: datetime, since: datetime | None = None) -> int:
    """Tell each rep, once per clock, that a running clock of theirs fell at risk after `since`
    and is at risk at `now` (past its `warn_at`, before its due time): the queue's amber badge,
    brought to them; and to the webhooks that want `clock.at_risk`. One statement (and one to
    find those webhooks, one per webhook), over the clocks that fell at risk in that time (and never
    more than NEWS_WITHIN before `now`: older ones are old news), so a sweep costs what fell
    at risk since the last."""
    at_risk = Clock.objects.filter(
        state=Clock.State.RUNNING,
        warn_at__gt=max(since or now - NEWS_WITHIN, now - NEWS_WITHIN),  # from clock_running_warn_idx
        warn_at__lte=now,
        due_at__gt=now,
        owner__isnull=False,
        owner__is_active=True,
    )
    # Webhooks hear of each such clock once (their outbox is unique per clock).
    outbox.webhook_events_from(event=Event.CLOCK_AT_RISK, rows=at_risk, subject=F("pk"), lead=F("lead_id"), now=now)
    at_risk = at_risk.exclude(Exists(Notification.objects.filter(clock=OuterRef("pk"), kind=Kind.CLOCK_AT_RISK)))
    return insert_select(Notification, at_risk, _row(Kind.CLOCK_AT_RISK, user=F("owner_id"), clock=F("pk"), now=now))


def notifications_email_schedule(*, now: datetime) -> int:
    """Gather what each person was told since their last e-mail into one e-mail (a `notices`
    delivery, which `slas.services.notifications.deliveries_send` sends in their language),
    for the kinds they get by e-mail, and never more than one per person per EMAIL_EVERY: one
    who had an e-mail within it waits, and everything that came meanwhile goes out together
    when the time is up. Kinds they do not want by e-mail (or all, for someone without an
    address or no longer active) are only marked as considered. Returns the e-mails made.

    Safe twice or at once: the people are locked (skipping those another run holds) and
    their notifications taken in the transaction that makes their e-mail. A few statements,
    whatever the number of people (a bulk update per thousand notifications taken)."""
    with transaction.atomic():
        waiting = Notification.objects.filter(emailed_at__isnull=True)
        lately = Delivery.objects.filter(kind=Delivery.Kind.NOTICES, created_at__gt=now - EMAIL_EVERY)
        people = (
            User.objects.filter(pk__in=waiting.values("user_id"))
            .exclude(pk__in=lately.values("recipient_id"))
            .select_for_update(skip_locked=True)
        )
        wants = {
            pk: set(kinds or []) if active and email else set()
            for pk, kinds, email, active in people.values_list("pk", "email_notifications", "email", "is_active")
        }
        rows = list(waiting.filter(user_id__in=wants).values_list("pk", "user_id", "kind"))
        wanted: dict[int, list[int]] = defaultdict(list)
        for pk, user_id, kind in rows:
            if kind in wants[user_id]:
                wanted[user_id].append(pk)
        deliveries = Delivery.objects.bulk_create(
            [
                Delivery(kind=Delivery.Kind.NOTICES, recipient_id=user_id, next_attempt_at=now, created_at=now)
                for user_id in wanted
            ]
        )
        taken = [
            Notification(pk=pk, emailed_at=now, delivery_id=delivery.pk)
            for delivery in deliveries
            for pk in wanted[delivery.recipient_id]
        ]
        Notification.objects.bulk_update(taken, ["emailed_at", "delivery"], batch_size=1000)
        carried = {notification.pk for notification in taken}
        Notification.objects.filter(pk__in=[pk for pk, _user, _kind in rows if pk not in carried]).update(
            emailed_at=now
        )
    return len(deliveries)


def notification_mark(*, notification: Notification, by: User, read: bool, now: datetime) -> Notification:
    """Mark one's own notification read (or unread again)."""
    if notification.user_id != by.pk:
        raise PermissionDenied
    notification.read_at = (notification.read_at or now) if read else None
    notification.save(update_fields=["read_at"])
    return notification


def notifications_read_all(*, user: User, now: datetime) -> int:
    """Mark every unread notification of `user` read; returns how many."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=now)


def _row(
    kind: str,
    *,
    user: F,
    now: datetime,
    lead: F | Value | None = None,
    breach: F | None = None,
    clock: F | None = None,
) -> dict:
    """Every column of a notification written by INSERT … SELECT, in order, with the
    expressions on the source rows that fill `user`, `lead` (default: their `lead_id`),
    `breach` and `clock`."""
    nothing = Value(None, output_field=IntegerField())
    return {
        "user_id": user,
        "kind": Value(kind),
        "lead_id": lead or F("lead_id"),
        "breach_id": breach or nothing,
        "clock_id": clock or nothing,
        "created_at": Value(now, output_field=DateTimeField()),
        "read_at": Value(None, output_field=DateTimeField()),
    }
