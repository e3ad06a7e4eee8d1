"""The lead list's rows and filter choices, formatted once in Python.

Printed through template tags and filters, 50 rows cost more than the rest of the page:
a `{% url %}` (a `reverse()`) per row, an included status badge, choice labels looked up
through gettext, `date` and `floatformat` filters, ten variables a row through the
template engine (about 10 µs each), and the filter form's selects rendered option by
option through Django's widget templates (6 ms for four selects), and a model instance
for every lead, owner, team and campaign on the page and every option of the selects. Here
rows and options are read as column values; the page computes once what the rows share
(the URL pattern, the labels of statuses and sources); each row is a handful of ready
strings, and the table's body `ROW` a row through `format_html_join`, every value escaped
by it, as are the selects' options. tests/leads/test_rows.py checks the rows and options
against the models and Django's own choices, in both languages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Model, QuerySet
from django.forms import BoundField, ModelChoiceField
from django.template.defaultfilters import floatformat
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from leads.cards import url_maker
from leads.models import Campaign, Lead, Source, Status
from leads.selectors import leads_with_sla_state
from leads.templatetags.leads_tags import status_class
from slas.badges import DueBadge, due_badge, due_words
from teams.models import Team, User


@dataclass(frozen=True, slots=True)
class LeadRow:
    pk: int
    url: str
    name: str
    company: str
    status: str
    status_class: str
    source: str
    campaign: str  # "" without a campaign
    owner: str  # "" when unassigned
    team: str
    value: str  # "" without a value; with the team's currency
    sla: DueBadge | None  # the most urgent SLA clock's state and time; None without one
    created_iso: str
    created: str  # short date in the user's zone and language
    select_label: str


# The columns a row reads, in this order (one statement, no model instance).
ROW_COLUMNS = (
    "pk",
    "name",
    "company",
    "status",
    "source",
    "value",
    "created_at",
    "campaign__name",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
    "team__name",
    "team__currency",
    "sla_due_at",
    "sla_warn_at",
    "sla_kind",
)


def person_name(first_name: str, last_name: str, username: str) -> str:
    """`str(user)` from its columns: the full name, or the username without one."""
    return f"{first_name} {last_name}".strip() or username


def lead_rows(leads: QuerySet[Lead], *, now: datetime) -> list[LeadRow]:
    """One row per lead of `leads`, in its order, read as column values with their owner's,
    team's and campaign's names (building 50 leads with three related objects each cost
    more than their statement) and their SLA state at `now`."""
    lead_url = url_maker("leads:detail")
    words = due_words()
    statuses = {value: str(label) for value, label in Status.choices}
    sources = {value: str(label) for value, label in Source.choices}
    select = gettext("Select %(name)s")
    rows = []
    for (
        pk,
        name,
        company,
        status,
        source,
        value,
        created_at,
        campaign,
        first_name,
        last_name,
        username,
        team,
        currency,
        sla_due_at,
        sla_warn_at,
        sla_kind,
    ) in leads_with_sla_state(leads).values_list(*ROW_COLUMNS):
        created = timezone.localtime(created_at)
        rows.append(
            LeadRow(
                pk=pk,
                url=lead_url(pk),
                name=name,
                company=company,
                status=statuses.get(status, status),
                status_class=status_class(status),
                source=sources.get(source, source),
                campaign=campaign or "",
                owner="" if username is None else person_name(first_name, last_name, username),
                team=team,
                value="" if value is None else f"{currency} {floatformat(value, '0g')}",
                sla=due_badge(sla_due_at, sla_warn_at, now, words, sla_kind),
                created_iso=formats.date_format(created, "c"),
                created=formats.date_format(created, "SHORT_DATE_FORMAT"),
                select_label=select % {"name": name},
            )
        )
    return rows


# One row of the table; its columns are those of the header in templates/leads/lead_list.html.
ROW = (
    "<tr>{select}"
    '<td><a href="{url}" class="fw-semibold">{name}</a>{company}</td>'
    '<td><span class="badge {status_class}">{status}</span></td>'
    "<td>{sla}</td>"
    '<td class="d-none d-md-table-cell">{source}{campaign}</td>'
    "<td>{owner}</td>"
    '<td class="d-none d-lg-table-cell">{team}</td>'
    '<td class="d-none d-md-table-cell text-end">{value}</td>'
    '<td class="d-none d-md-table-cell small"><time datetime="{created_iso}">{created}</time></td>'
    "</tr>\n"
)
SELECT = '<td><input class="form-check-input" type="checkbox" name="leads" value="{}" aria-label="{}"></td>'
SMALL = '<div class="small text-body-secondary">{}</div>'
SLA = '<span class="badge text-wrap text-start {}"><i class="bi bi-{}" aria-hidden="true"></i> {}</span>'


def lead_rows_html(rows: list[LeadRow], *, selectable: bool) -> SafeString:
    """The table body's rows; with a tick box each when the user may assign in bulk."""
    unassigned = format_html('<span class="text-body-secondary">{}</span>', gettext("Unassigned"))
    cells = (
        {
            "select": format_html(SELECT, row.pk, row.select_label) if selectable else "",
            "url": row.url,
            "name": row.name,
            "company": format_html(SMALL, row.company) if row.company else "",
            "status_class": row.status_class,
            "status": row.status,
            "sla": format_html(SLA, row.sla.style, row.sla.icon, row.sla.text) if row.sla else "",
            "source": row.source,
            "campaign": format_html(SMALL, row.campaign) if row.campaign else "",
            "owner": row.owner or unassigned,
            "team": row.team,
            "value": row.value,
            "created_iso": row.created_iso,
            "created": row.created,
        }
        for row in rows
    )
    return format_html_join("", ROW, cells)


OPTION = '<option value="{}"{}>{}</option>'
SELECTED = " selected"  # nothing in it to escape

# Each model's `__str__` from its columns, so that choices are read without model instances.
LABELS: dict[type[Model], tuple[tuple[str, ...], Callable[..., str]]] = {
    User: (("first_name", "last_name", "username"), person_name),
    Team: (("name",), str),
    Campaign: (("name",), str),
}


def select_options(field: BoundField, *, blank: bool = True) -> SafeString:
    """The `<option>`s of a choice field's `<select>`, the submitted ones selected, as the
    field's widget would render them; `blank=False` leaves the empty choice out. A model
    choice's options are read as column values (the pk and what its `__str__` shows) in one
    statement instead of a model instance per option."""
    chosen = field.value()
    chosen = {str(v) for v in chosen} if isinstance(chosen, list | tuple) else {"" if chosen is None else str(chosen)}
    choices = _model_choices(field.field) or field.field.choices
    return format_html_join(
        "",
        OPTION,
        ((value, SELECTED if str(value) in chosen else "", label) for value, label in choices if blank or value != ""),
    )


def _model_choices(field) -> list[tuple[Any, str]] | None:
    """A plain model choice field's choices from column values; None for any other field."""
    if not isinstance(field, ModelChoiceField) or field.to_field_name or getattr(field, "null_label", None) is not None:
        return None
    if type(field).label_from_instance is not ModelChoiceField.label_from_instance:
        return None
    model = field.queryset.model
    if model not in LABELS:
        return None
    columns, label = LABELS[model]
    choices = [] if field.empty_label is None else [("", field.empty_label)]
    choices += [(pk, label(*values)) for pk, *values in field.queryset.values_list("pk", *columns)]
    return choices


def owner_options(owners: QuerySet[User], *, home_team: int | None) -> SafeString:
    """The bulk assignment's owner `<option>`s: each of `owners` by name, with their team's
    name after it when that is not `home_team`."""
    rows = owners.values_list("pk", "first_name", "last_name", "username", "team_id", "team__name")
    return format_html_join(
        "",
        '<option value="{}">{}{}</option>',
        (
            (pk, person_name(first, last, username), "" if team_id == home_team else f" ({team})")
            for pk, first, last, username, team_id, team in rows
        ),
    )
