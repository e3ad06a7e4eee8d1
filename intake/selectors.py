"""Reads of intake: forms and hooks scoped to the user (SPEC §1), their events and counts."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from intake.models import Channel, InboundEvent, InboundHook, LeadForm, WhatsAppNumber
from teams import permissions
from teams.models import User

State = InboundEvent.State


def lead_form_list(*, user: User) -> QuerySet[LeadForm]:
    """The lead forms `user` may see and manage, with their leads and spam counts."""
    return (
        LeadForm.objects.filter(permissions.intake_scope(user))
        .select_related("team", "campaign")
        .annotate(**_counts(Channel.FORM))
    )


def inbound_hook_list(*, user: User) -> QuerySet[InboundHook]:
    """The inbound hooks `user` may see and manage, with their events' counts."""
    return (
        InboundHook.objects.filter(permissions.intake_scope(user))
        .select_related("team", "campaign")
        .annotate(**_counts(Channel.HOOK))
    )


def whatsapp_number_list(*, user: User) -> QuerySet[WhatsAppNumber]:
    numbers = WhatsAppNumber.objects.select_related("team", "campaign")
    return numbers if permissions.can_manage_whatsapp_numbers(user) else numbers.none()


def _counts(channel: str) -> dict:
    """Per endpoint: leads made, inquiries, spam, failed (one aggregate subquery each)."""
    events = InboundEvent.objects.filter(channel=channel, endpoint=OuterRef("pk"))
    return {
        f"{state}_count": _count(events.filter(state=state))
        for state in (State.DONE, State.INQUIRY, State.SPAM, State.FAILED)
    }


def _count(events: QuerySet[InboundEvent]):
    """How many of `events` (0 for none, not NULL)."""
    counted = events.order_by().values("endpoint").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def endpoint_events(*, channel: str, endpoint: int, limit: int = 50) -> QuerySet[InboundEvent]:
    """An endpoint's latest events, newest first (inbound_endpoint_idx)."""
    return InboundEvent.objects.filter(channel=channel, endpoint=endpoint).select_related("lead")[:limit]


def failed_events(*, user: User) -> QuerySet[InboundEvent]:
    """Events that failed processing, oldest first, for admins to see and retry."""
    if not permissions.is_admin(user):
        return InboundEvent.objects.none()
    return InboundEvent.objects.filter(state=State.FAILED).order_by("received_at", "pk")


def has_failed_events() -> bool:
    return InboundEvent.objects.filter(state=State.FAILED).exists()
