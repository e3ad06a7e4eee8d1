"""Reads of the leads app: scoped querysets, the rep's queue, the timeline, CSV rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from leads.models import (
    DISPUTE_WINDOW,
    OPEN,
    Assignment,
    Campaign,
    Dispute,
    Inquiry,
    Lead,
    Rejection,
    Status,
    StatusChange,
    Touch,
)
from routing.models import Decision, Skip
from salesmarketing.csv_export import csv_lines
from slas.models import Clock
from slas.selectors import urgent_clock, urgent_clocks
from teams import permissions
from teams.models import Role, Team, User
from teams.selectors import team_reps_at, unavailable_now


def lead_list(*, user: User) -> QuerySet[Lead]:
    """Leads `user` may see (SPEC §1), with what a list row shows, newest first."""
    return Lead.objects.filter(permissions.lead_scope(user)).select_related("owner", "team", "campaign")


# What a row of the lead list shows (leads/jinja2/leads/lead_table.html): a lead's other
# columns, and its owner's, are left unread.
LIST_ROW_FIELDS = (
    "name",
    "company",
    "status",
    "source",
    "value",
    "created_at",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
    "team__name",
    "team__currency",
    "campaign__name",
)


def lead_rows(*, user: User) -> QuerySet[Lead]:
    """`lead_list` with only the columns a row of the list shows."""
    return lead_list(user=user).only(*LIST_ROW_FIELDS)


# -- the rep's queue ------------------------------------------------------------------------------
def _answered() -> Exists:
    """Whether the lead has had a follow-up since it was assigned (to its current owner)."""
    return Exists(Touch.objects.filter(lead=OuterRef("pk"), occurred_at__gte=OuterRef("assigned_at")))


def _queue_order(due: str) -> tuple:
    """Unanswered first, then the nearest deadline of the lead's most urgent SLA clock (`due`;
    none: last), then the longest waiting; the id breaks ties, so that pages neither overlap
    nor skip."""
    return ("answered", F(due).asc(nulls_last=True), "assigned_at", "pk")


def lead_queue(*, user: User) -> QuerySet[Lead]:
    """The rep's open leads, most urgent first: unanswered ones (no follow-up since they got
    the lead) before the rest, and within each, the nearest deadline of the lead's most urgent
    SLA clock first (overdue, then at risk), then the longest waiting. One query; annotated
    with `answered`, `touch_count`, `last_touch_at`, `sla_due_at`, `sla_warn_at`, `sla_kind`.

    The annotations are computed for every open lead: right for a few (the dashboard's
    first five, the card an htmx follow-up refreshes); the queue page uses `lead_queue_page`."""
    touches = Touch.objects.filter(lead=OuterRef("pk")).order_by().values("lead")
    leads = (
        Lead.objects.filter(owner=user, status__in=OPEN)
        .select_related("team", "campaign")
        .annotate(
            answered=_answered(),
            touch_count=Coalesce(Subquery(touches.annotate(n=Count("pk")).values("n")), 0),
            last_touch_at=Subquery(touches.annotate(last=Max("occurred_at")).values("last")),
        )
    )
    urgent = urgent_clock(owner=user)
    leads = leads.annotate(
        sla_due_at=Subquery(urgent.values("due_at")[:1]),
        sla_warn_at=Subquery(urgent.values("warn_at")[:1]),
        sla_kind=Subquery(urgent.values("kind")[:1]),
    )
    return leads.order_by(*_queue_order("sla_due_at"))


def lead_queue_order(*, user: User) -> list[tuple[int, bool, datetime | None]]:
    """(id, answered, sla_due_at) of each of the rep's open leads, in `lead_queue`'s order, in
    one statement that computes no more than that for all of them: the pager and the counts
    need every lead, the rest of a card is read for the page's leads only."""
    leads = Lead.objects.filter(owner=user, status__in=OPEN).annotate(
        answered=_answered(), sla_due_at=Subquery(urgent_clock(owner=user).values("due_at")[:1])
    )
    return list(leads.order_by(*_queue_order("sla_due_at")).values_list("pk", "answered", "sla_due_at"))


@dataclass(frozen=True)
class QueuePage:
    """A page of the rep's queue."""

    page: Page  # the pager; its object_list holds `lead_queue_order`'s tuples
    leads: list[Lead]  # the page's, as `lead_queue_cards` reads them
    clocks: dict[int, Clock]  # the most urgent open clock of each, by lead id
    unanswered: int  # over every page


def lead_queue_page(*, user: User, number: Any, per_page: int) -> QueuePage:
    """One page of the rep's queue, with the count of unanswered leads, in three statements
    whatever the page size: `lead_queue_order`, then `lead_queue_cards` of the page's leads.
    `number` is the query string's: a page past the end is the last, a bad one the first."""
    order = lead_queue_order(user=user)
    page = Paginator(order, per_page).get_page(number)
    leads, clocks = lead_queue_cards(user=user, pks=[pk for pk, _answered, _due in page])
    return QueuePage(
        page=page,
        leads=leads,
        clocks=clocks,
        unanswered=sum(1 for _pk, answered, _due in order if not answered),
    )


def lead_queue_cards(*, user: User, pks: list[int]) -> tuple[list[Lead], dict[int, Clock]]:
    """What the queue's cards show of some of the rep's open leads, in the order of `pks` (one
    closed meanwhile is left out): the leads annotated with `answered`, `touch_count` and
    `last_touch_at`, and their most urgent open clocks by lead id. Two statements."""
    found = Lead.objects.filter(owner=user, status__in=OPEN, pk__in=pks).annotate(
        # A join and GROUP BY for fifty leads: cheaper than lead_queue's two subqueries each.
        answered=_answered(),
        touch_count=Count("touches"),
        last_touch_at=Max("touches__occurred_at"),
    )
    by_pk = {lead.pk: lead for lead in found}
    leads = [by_pk[pk] for pk in pks if pk in by_pk]
    return leads, urgent_clocks(leads=leads)


def lead_unassigned(*, user: User) -> QuerySet[Lead]:
    """Open leads of the user's team that nobody owns yet (a rep may claim them)."""
    if not user.team_id:
        return Lead.objects.none()
    return Lead.objects.filter(team_id=user.team_id, owner__isnull=True, status__in=OPEN).order_by("created_at", "pk")


def lead_claimable(*, user: User, limit: int = 20) -> QuerySet[Lead]:
    """The first `limit` unassigned leads of the user's team, oldest first, as the queue lists them."""
    return lead_unassigned(user=user).only("pk", "name", "company", "created_at")[:limit]


def lead_duplicates(*, lead: Lead, user: User) -> QuerySet[Lead]:
    """Other leads of the same team with the same e-mail that `user` may see: likely duplicates."""
    if not lead.email:
        return Lead.objects.none()
    same = Lead.objects.filter(team_id=lead.team_id, email=lead.email.lower()).exclude(pk=lead.pk)
    return same.filter(permissions.lead_scope(user))


def lead_known(*, team_id: int, email: str = "", phone: str = "") -> Lead | None:
    """The newest open lead of the team with this (lower-cased) e-mail or E.164 phone: the
    person writing again (SPEC §13). Reads lead_team_email_idx and lead_team_phone_idx."""
    match = Q(pk__in=[])
    if email:
        match |= Q(email=email.lower())
    if phone:
        match |= Q(phone=phone)
    return Lead.objects.filter(match, team_id=team_id, status__in=OPEN).order_by("-created_at", "-pk").first()


def lead_teams(*, user: User) -> QuerySet[Team]:
    """The sales teams `user` may create or import leads for."""
    return Team.objects.filter(permissions.lead_team_scope(user)).order_by("name")


def campaign_teams(*, user: User) -> QuerySet[Team]:
    """The marketing teams whose campaigns `user` may manage: every one for admins, else their own."""
    teams = Team.objects.filter(kind=Team.Kind.MARKETING)
    return teams if permissions.is_admin(user) else teams.filter(pk=user.team_id)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "created", "routing", "assignment", "inquiry", "touch", "status", "rejection", "dispute", "ruling"
    item: Any


def lead_routing_decisions(*, lead: Lead) -> list[Decision]:
    """The lead's routing decisions, newest first, each with `passed_over`: (person, why) of
    the candidates it passed over. Two queries."""
    decisions = list(Decision.objects.filter(lead=lead).select_related("owner", "by").order_by("-created_at", "-pk"))
    people = User.objects.in_bulk({skip["user"] for decision in decisions for skip in decision.skipped})
    for decision in decisions:
        decision.passed_over = [
            (people.get(skip["user"]), Skip(skip["reason"]).label)
            for skip in decision.skipped
            if skip["user"] in people
        ]
    return decisions


def lead_timeline(*, lead: Lead) -> list[TimelineEntry]:
    """Everything that happened to a lead, newest first, in ten queries: a dispute of its
    rejection shows when it was raised (`dispute`) and when it was ruled on (`ruling`)."""
    entries = [TimelineEntry(lead.created_at, "created", lead)]
    entries += [
        TimelineEntry(a.assigned_at, "assignment", a)
        for a in Assignment.objects.filter(lead=lead).select_related("owner", "assigned_by")
    ]
    entries += [
        TimelineEntry(t.occurred_at, "touch", t) for t in Touch.objects.filter(lead=lead).select_related("user")
    ]
    entries += [TimelineEntry(s.at, "status", s) for s in StatusChange.objects.filter(lead=lead).select_related("by")]
    entries += [TimelineEntry(r.at, "rejection", r) for r in Rejection.objects.filter(lead=lead).select_related("by")]
    entries += [TimelineEntry(d.created_at, "routing", d) for d in lead_routing_decisions(lead=lead)]
    entries += [TimelineEntry(i.at, "inquiry", i) for i in Inquiry.objects.filter(lead=lead)]
    for dispute in Dispute.objects.filter(lead=lead).select_related("raised_by", "ruled_by"):
        dispute.lead = lead  # for the policy (the lead's team), without reading it again
        entries.append(TimelineEntry(dispute.raised_at, "dispute", dispute))
        if dispute.ruled_at is not None:
            entries.append(TimelineEntry(dispute.ruled_at, "ruling", dispute))
    # At one instant: a ruling before the routing it set off; a rejection before its status change.
    order = {"ruling": -1, "created": 0, "routing": 1, "assignment": 2, "inquiry": 3, "touch": 4, "rejection": 5}
    order |= {"dispute": 6, "status": 7}
    return sorted(entries, key=lambda e: (e.at, order[e.kind]), reverse=True)


# -- disputes of rejections (SPEC §15) ---------------------------------------------------------
def dispute_deadline(*, rejection: Rejection) -> datetime:
    """The last instant at which `rejection` may be disputed: DISPUTE_WINDOW after it (the
    deadline itself is in time, a second later is not)."""
    return rejection.at + DISPUTE_WINDOW


@dataclass(frozen=True)
class DisputePanel:
    """Where a lead stands on disputes, for its page: its latest rejection (None: never
    rejected), until when that may be disputed, the dispute open on it, and whether a
    dispute may be raised now (rejected still, in time, none open; who may is the policy's)."""

    rejection: Rejection | None
    deadline: datetime | None
    open_dispute: Dispute | None
    in_time: bool


def lead_dispute_panel(*, lead: Lead, timeline: list[TimelineEntry], now: datetime) -> DisputePanel:
    """`DisputePanel` of a lead from its timeline (`lead_timeline`): no query of its own."""
    rejections = [entry.item for entry in timeline if entry.kind == "rejection"]
    if not rejections:
        return DisputePanel(rejection=None, deadline=None, open_dispute=None, in_time=False)
    latest = max(rejections, key=lambda rejection: (rejection.at, rejection.pk))
    deadline = dispute_deadline(rejection=latest)
    disputes = [entry.item for entry in timeline if entry.kind == "dispute"]
    open_dispute = next((d for d in disputes if d.state == Dispute.State.OPEN and d.rejection_id == latest.pk), None)
    in_time = lead.status == Status.REJECTED and open_dispute is None and now <= deadline
    return DisputePanel(rejection=latest, deadline=deadline, open_dispute=open_dispute, in_time=in_time)


def dispute_list(*, user: User) -> QuerySet[Dispute]:
    """Disputes of the leads `user` may see (SPEC §1, §15), newest first, with what a row of
    the disputes page shows (the lead's team, the rejection and who raised and ruled)."""
    return (
        Dispute.objects.filter(permissions.dispute_scope(user))
        .select_related("lead__team", "rejection__by", "raised_by", "ruled_by")
        .order_by("-raised_at", "-id")
    )


def rejection_list(*, user: User) -> QuerySet[Rejection]:
    """Rejections of the leads `user` may see, newest first, each with its lead, `latest_id`
    (its lead's latest rejection), `disputed` (a dispute is open) and `upheld` (a dispute of it
    was ruled on and it stands): what `rejection_open_to_dispute` and the page read. One
    statement a page."""
    latest = Rejection.objects.filter(lead=OuterRef("lead_id")).order_by("-at", "-pk").values("pk")[:1]
    disputes = Dispute.objects.filter(rejection=OuterRef("pk"))
    return (
        Rejection.objects.filter(permissions.lead_scope(user, prefix="lead__"))
        .select_related("lead__team", "lead__campaign", "by")
        .annotate(
            latest_id=Subquery(latest),
            disputed=Exists(disputes.filter(state=Dispute.State.OPEN)),
            upheld=Exists(disputes.filter(state=Dispute.State.UPHELD)),
        )
        .order_by("-at", "-id")
    )


def rejection_open_to_dispute(*, rejection: Rejection, now: datetime) -> bool:
    """Whether a rejection of `rejection_list` may be disputed at `now` (who may is the policy's)."""
    return (
        rejection.pk == rejection.latest_id
        and rejection.lead.status == Status.REJECTED
        and rejection.overturned_at is None
        and not rejection.disputed
        and now <= dispute_deadline(rejection=rejection)
    )


def lead_owner_choices(*, user: User, teams: QuerySet) -> QuerySet[User]:
    """Whom `user` may hand a new lead to: managers and admins any active rep of `teams`,
    a rep only themselves, marketing nobody (they do not assign)."""
    reps = (
        User.objects.filter(role=Role.SALES_REP, is_active=True, team__in=teams)
        .select_related("team")
        .order_by("first_name", "username")
    )
    role = permissions.role_of(user)
    if role in {Role.ADMIN, Role.SALES_MANAGER}:
        return reps
    if role == Role.SALES_REP:
        return reps.filter(pk=user.pk)
    return reps.none()


def lead_assign_choices(*, lead: Lead, now: datetime) -> list[tuple[User, str]]:
    """The reps `lead` may go to, each with why they cannot answer now ("" when they can):
    the lead page's owner select. One query."""
    reps = team_reps_at(team=lead.team_id, at=now).order_by("first_name", "username")
    return [(rep, Skip(unavailable_now(rep)).label if unavailable_now(rep) else "") for rep in reps]


def lead_owner_labels(*, user: User, teams: QuerySet) -> QuerySet[User]:
    """`lead_owner_choices` with only what a select's options show: names and team."""
    return lead_owner_choices(user=user, teams=teams).only("first_name", "last_name", "username", "team__name")


def campaign_status_counts(*, campaign: Campaign) -> list[tuple[str, str, int]]:
    """(status, label, leads) of a campaign in pipeline order, statuses with leads only.
    Every lead counts: campaign figures are shared with Marketing."""
    counts = dict(Lead.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("pk")).order_by())
    return [(value, label, counts[value]) for value, label in Status.choices if counts.get(value)]


def campaign_list(*, search: str = "") -> QuerySet[Campaign]:
    """Every campaign (names and spend are shared with Sales), with lead counts; with
    `search`, those whose name or team's name holds it."""
    campaigns = Campaign.objects.select_related("team").annotate(
        lead_count=Count("leads"), won_count=Count("leads", filter=Q(leads__status=Status.WON))
    )
    if search:
        campaigns = campaigns.filter(Q(name__icontains=search) | Q(team__name__icontains=search))
    return campaigns


def lead_touches(*, lead: Lead, origin: str = "") -> QuerySet[Touch]:
    """The lead's follow-ups, newest first; with `origin`, those captured that way."""
    touches = Touch.objects.filter(lead=lead).select_related("user").order_by("-occurred_at", "-id")
    return touches.filter(origin=origin) if origin else touches


# -- CSV export -----------------------------------------------------------------------------------
EXPORT_COLUMNS = [
    ("id", "id"),
    ("name", "name"),
    ("email", "email"),
    ("phone", "phone"),
    ("company", "company"),
    ("source", "source"),
    ("campaign", "campaign__name"),
    ("team", "team__name"),
    ("owner", "owner__username"),
    ("status", "status"),
    ("value", "value"),
    ("created_at", "created_at"),
    ("assigned_at", "assigned_at"),
    ("closed_at", "closed_at"),
]


TOUCH_EXPORT_COLUMNS = [
    ("id", "id"),
    ("lead", "lead_id"),
    ("lead_name", "lead__name"),
    ("team", "lead__team__name"),
    ("user", "user__username"),
    ("kind", "kind"),
    ("occurred_at", "occurred_at"),
    ("outcome", "outcome"),
    ("origin", "origin"),
    ("external_id", "external_id"),
    ("notes", "notes"),
    ("created_at", "created_at"),
]


def touch_export_lines(*, leads: QuerySet[Lead], origin: str = "", chunk_size: int = 2000) -> Iterator[str]:
    """CSV lines (header first) of the follow-ups on `leads`, with how each was captured
    (`origin`, `external_id`); with `origin`, only those captured that way."""
    touches = Touch.objects.filter(lead__in=leads.order_by().values("pk"))
    if origin:
        touches = touches.filter(origin=origin)
    return csv_lines(rows=touches.order_by("pk"), columns=TOUCH_EXPORT_COLUMNS, chunk_size=chunk_size)


def lead_export_lines(*, leads: QuerySet[Lead], chunk_size: int = 2000) -> Iterator[str]:
    """CSV lines (header first) for `leads`, streamed in chunks; text cells are formula-safe."""
    return csv_lines(rows=leads.order_by("pk"), columns=EXPORT_COLUMNS, chunk_size=chunk_size)
