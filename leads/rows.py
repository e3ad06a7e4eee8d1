"""The lead list's rows and filter choices, formatted once in Python.

Printed through template tags and filters, 50 rows cost more than the rest of the page:
a `{% url %}` (a `reverse()`) per row, an included status badge, choice labels looked up
through gettext, `date` and `floatformat` filters, ten variables a row through the
template engine (about 10 µs each), and the filter form's selects rendered option by
option through Django's widget templates (6 ms for four selects). Here the page computes
once what the rows share (the URL pattern, the labels of statuses and sources, each
owner's, team's and campaign's name); each row is a handful of ready strings, and the
table's body `ROW` a row through `format_html_join`, every value escaped by it.
tests/leads/test_rows.py checks the rows against the models, in both languages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.forms import BoundField
from django.template.defaultfilters import floatformat
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from leads.cards import url_maker
from leads.models import Lead, Source, Status
from leads.templatetags.leads_tags import status_class


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
    created_iso: str
    created: str  # short date in the user's zone and language
    select_label: str


def lead_rows(leads: Iterable[Lead]) -> list[LeadRow]:
    """One row per lead, in order. Reads `lead.owner`, `lead.team` and `lead.campaign`:
    select them with the leads, or each is a query."""
    lead_url = url_maker("leads:detail")
    statuses = {value: str(label) for value, label in Status.choices}
    sources = {value: str(label) for value, label in Source.choices}
    select = gettext("Select %(name)s")
    names: dict[tuple[str, int], str] = {}

    def name_of(kind: str, obj) -> str:
        if obj is None:
            return ""
        key = (kind, obj.pk)
        if key not in names:
            names[key] = str(obj)
        return names[key]

    rows = []
    for lead in leads:
        created = timezone.localtime(lead.created_at)
        rows.append(
            LeadRow(
                pk=lead.pk,
                url=lead_url(lead.pk),
                name=lead.name,
                company=lead.company,
                status=statuses.get(lead.status, lead.status),
                status_class=status_class(lead.status),
                source=sources.get(lead.source, lead.source),
                campaign=name_of("campaign", lead.campaign),
                owner=name_of("owner", lead.owner),
                team=name_of("team", lead.team),
                value="" if lead.value is None else f"{lead.team.currency} {floatformat(lead.value, '0g')}",
                created_iso=formats.date_format(created, "c"),
                created=formats.date_format(created, "SHORT_DATE_FORMAT"),
                select_label=select % {"name": lead.name},
            )
        )
    return rows


# One row of the table; its columns are those of the header in templates/leads/lead_list.html.
ROW = (
    "<tr>{select}"
    '<td><a href="{url}" class="fw-semibold">{name}</a>{company}</td>'
    '<td><span class="badge {status_class}">{status}</span></td>'
    '<td class="d-none d-md-table-cell">{source}{campaign}</td>'
    "<td>{owner}</td>"
    '<td class="d-none d-lg-table-cell">{team}</td>'
    '<td class="d-none d-md-table-cell text-end">{value}</td>'
    '<td class="d-none d-md-table-cell small"><time datetime="{created_iso}">{created}</time></td>'
    "</tr>\n"
)
SELECT = '<td><input class="form-check-input" type="checkbox" name="leads" value="{}" aria-label="{}"></td>'
SMALL = '<div class="small text-body-secondary">{}</div>'


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


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str
    selected: bool


def select_options(field: BoundField) -> list[Option]:
    """The options of a choice field's `<select>`, with the submitted ones selected, as the
    field's widget would render them."""
    chosen = field.value()
    chosen = {str(v) for v in chosen} if isinstance(chosen, list | tuple) else {"" if chosen is None else str(chosen)}
    return [Option(str(value), str(label), str(value) in chosen) for value, label in field.field.choices]
