"""What a delivery sends (SPEC §12): `{"id", "event", "created_at", "data"}`, `data` being the
API's representation of the lead, touch or breach (from the API's own serializers), or for the
`slack` format `{"text"}`: one readable line with a link into the app.

A body is made at a delivery's first attempt and kept: retries send the same bytes. What it
shows of a lead is the lead as it is then; what the event itself names (the owner an
assignment gave, the SLA clock that fell at risk) is added beside it under `assignment` or
`clock`. Made for a batch in a constant number of statements.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from rest_framework.utils.encoders import JSONEncoder

from leads.api import LeadSerializer, TouchSerializer
from leads.models import Assignment, Lead, Touch
from slas.api import BreachSerializer
from slas.models import Breach, Clock
from webhooks.models import Event, Webhook, WebhookDelivery

LEAD_EVENTS = {Event.LEAD_CREATED, Event.LEAD_ASSIGNED, Event.LEAD_REROUTED, Event.CLOCK_AT_RISK}
CLOCK_EVENTS = {Event.CLOCK_AT_RISK, Event.LEAD_REROUTED}


def bodies(deliveries: Sequence[WebhookDelivery]) -> dict[int, str]:
    """The body of each delivery that has none yet, by delivery id. Six statements at most."""
    todo = [d for d in deliveries if not d.body]
    if not todo:
        return {}
    found = _load(todo)
    made = {}
    with translation.override(settings.LANGUAGE_CODE):
        for delivery in todo:
            made[delivery.pk] = _body(delivery, found)
    return made


def _ids(deliveries: Sequence[WebhookDelivery], events: set[str], *, lead: bool = False) -> set[int]:
    return {(d.lead_id if lead else d.subject_id) for d in deliveries if d.event in events and (d.lead_id or not lead)}


def _load(todo: Sequence[WebhookDelivery]) -> dict[str, dict[int, Any]]:
    """What the bodies show, by kind and id, each kind's representations made by one
    serializer for all (DRF builds a serializer's fields once per instance of it)."""
    lead_ids = _ids(todo, LEAD_EVENTS, lead=True)
    leads = _in_bulk(Lead.objects.select_related("team", "owner"), lead_ids)
    touches = _in_bulk(Touch.objects.select_related("user", "lead"), _ids(todo, {Event.TOUCH_LOGGED}))
    breaches = _in_bulk(
        Breach.objects.select_related("sla", "lead", "team", "responsible_user", "responsible_team"),
        _ids(todo, {Event.BREACH_RECORDED, Event.BREACH_RESOLVED}),
    )
    return {
        "lead": leads,
        "assignment": _in_bulk(Assignment.objects.select_related("owner"), _ids(todo, {Event.LEAD_ASSIGNED})),
        "clock": _in_bulk(Clock.objects.select_related("sla"), _ids(todo, CLOCK_EVENTS)),
        "touch": touches,
        "breach": breaches,
        "lead_data": _represented(LeadSerializer, leads),
        "touch_data": _represented(TouchSerializer, touches),
        "breach_data": _represented(BreachSerializer, breaches),
    }


def _represented(serializer, objects: dict[int, Any]) -> dict[int, dict]:
    rows = list(objects.values())
    return {row.pk: _plain(data) for row, data in zip(rows, serializer(rows, many=True).data, strict=True)}


def _in_bulk(queryset, ids: set[int]) -> dict[int, Any]:
    return queryset.in_bulk(ids) if ids else {}


def _body(delivery: WebhookDelivery, found: dict[str, dict[int, Any]]) -> str:
    if delivery.webhook.format == Webhook.Format.SLACK:
        return json.dumps({"text": _line(delivery, found)}, ensure_ascii=False)
    body = {
        "id": delivery.pk,
        "event": delivery.event,
        "created_at": timezone.localtime(delivery.created_at).isoformat(),
        "data": _data(delivery, found),
    }
    return json.dumps(body, cls=JSONEncoder, ensure_ascii=False)


def _data(delivery: WebhookDelivery, found: dict[str, dict[int, Any]]) -> dict[str, Any]:
    event, subject = delivery.event, delivery.subject_id
    if event in LEAD_EVENTS:
        data = dict(found["lead_data"].get(delivery.lead_id) or {"id": delivery.lead_id, "deleted": True})
        if event == Event.LEAD_ASSIGNED and subject in found["assignment"]:
            assignment = found["assignment"][subject]
            data["assignment"] = _plain(
                {"id": assignment.pk, "owner": assignment.owner_id, "at": assignment.assigned_at}
            )
        if event in CLOCK_EVENTS and subject in found["clock"]:
            clock = found["clock"][subject]
            data["clock"] = _plain({"id": clock.pk, "sla": clock.sla_id, "kind": clock.kind, "due_at": clock.due_at})
        return data
    kind = "touch_data" if event == Event.TOUCH_LOGGED else "breach_data"
    return found[kind].get(subject) or {"id": subject, "deleted": True}


def _plain(data: Any) -> dict[str, Any]:
    """Serializer output (and the datetimes added to it) as JSON's plain values."""
    return json.loads(json.dumps(data, cls=JSONEncoder))


# -- the one line of the slack format --------------------------------------------------------
def _line(delivery: WebhookDelivery, found: dict[str, dict[int, Any]]) -> str:
    event, subject = delivery.event, delivery.subject_id
    if event == Event.TOUCH_LOGGED:
        touch = found["touch"].get(subject)
        if touch is None:
            return _("A follow-up was logged and removed since.")
        return _("%(who)s logged a %(kind)s with %(lead)s.") % {
            "who": _escape(str(touch.user)),
            "kind": touch.get_kind_display().lower(),
            "lead": _lead_link(touch.lead),
        }
    if event in (Event.BREACH_RECORDED, Event.BREACH_RESOLVED):
        return _breach_line(event, found["breach"].get(subject))
    lead = found["lead"].get(delivery.lead_id)
    if lead is None:
        return _("%(event)s: a lead since removed.") % {"event": Event(event).label}
    names = {"lead": _lead_link(lead)}
    if event == Event.LEAD_CREATED:
        return _("New lead %(lead)s for %(team)s, from %(source)s.") % {
            **names,
            "team": _escape(lead.team.name),
            "source": lead.get_source_display(),
        }
    if event == Event.LEAD_ASSIGNED:
        assignment = found["assignment"].get(subject)
        owner = assignment.owner if assignment else lead.owner
        return _("%(lead)s was assigned to %(owner)s.") % {**names, "owner": _escape(str(owner or "—"))}
    clock = found["clock"].get(subject)
    if event == Event.CLOCK_AT_RISK and clock is not None:
        return _("%(lead)s is at risk of breaching “%(sla)s”, due %(due)s.") % {
            **names,
            "sla": _escape(clock.sla.name),
            "due": _when(clock.due_at, lead.team.timezone),
        }
    return _("%(lead)s was routed again: nobody answered it in time.") % names


def _breach_line(event: str, breach: Breach | None) -> str:
    if breach is None:
        return _("A breach since removed.")
    key = {"lead": breach.lead_id} if breach.lead_id else {"sla": breach.sla_id}
    where = f"{reverse('slas:breaches')}?{urlencode(key)}"
    sla = _link(where, breach.sla.name)
    if event == Event.BREACH_RESOLVED:
        return _("Breach of %(sla)s on %(lead)s resolved: answered late, %(when)s.") % {
            "sla": sla,
            "lead": _escape(breach.lead.name if breach.lead else ""),
            "when": _when(breach.resolved_at, breach.team.timezone),
        }
    if breach.lead is None:
        return _("Breach of %(sla)s: %(actual)s of %(expected)s leads delivered (%(team)s).") % {
            "sla": sla,
            "actual": breach.actual,
            "expected": breach.expected,
            "team": _escape(str(breach.responsible_team or breach.team)),
        }
    return _("Breach of %(sla)s on %(lead)s, owed by %(who)s, due %(due)s.") % {
        "sla": sla,
        "lead": _lead_link(breach.lead),
        "who": _escape(str(breach.responsible_user or breach.responsible_team or "—")),
        "due": _when(breach.due_at, breach.team.timezone),
    }


def _lead_link(lead: Lead) -> str:
    return _link(reverse("leads:detail", args=[lead.pk]), lead.name)


def _link(path: str, text: str) -> str:
    """Slack's link markup: <url|text>, the text escaped as Slack asks."""
    return f"<{settings.SITE_URL}{path}|{_escape(text)}>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _when(at: datetime | None, zone: str) -> str:
    if at is None:
        return "—"
    return formats.date_format(timezone.localtime(at, ZoneInfo(zone)), "SHORT_DATETIME_FORMAT")
