"""The Jinja2 environment of the hot pages (the lead list, the rep's queue) and of the layout's
pieces that every page shares (teams/jinja2/layout/: head, menu, messages, pager, scripts).

Those templates sit in each app's `jinja2/` folder (Django's convention for this backend). A
hot page is rendered with `render(..., using="jinja2")` on `layout/base.html`; Django's pages
include the pieces, or a table or card, with `{% jinja "name" key=value %}` (teams.templatetags.
selaras), so that both engines show one layout. Jinja2 renders fifty rows several times faster
than Django's engine, with the same escaping. Plurals are translated in Python (ngettext), as
`makemessages` does not find them in these templates.

They read like Django templates, with the names below: `_("text")` translates (written so,
`makemessages` finds it; with values, `_("Hello %(name)s")|format(name=...)`), `url(name, *args)`
reverses, and the filters are Django's own formats in the active language and time zone.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.messages import get_messages
from django.forms import ModelChoiceField
from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import get_language, gettext, ngettext, pgettext
from jinja2 import Environment, StrictUndefined

from leads.models import Source, Status
from leads.templatetags.leads_tags import kind_icon, phone, quick_buttons, status_class
from slas.badges import clock_badge, due_badge
from teams.templatetags.selaras import duration, money


def url(name: str, *args) -> str:
    return reverse(name, args=args)


def date(value: datetime | None, format_name: str = "DATE_FORMAT") -> str:
    """Django's `date` filter: an aware time in the active zone, in the active language's format."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return formats.date_format(value, format_name)


def localtime(value: datetime) -> str:
    """An aware time in the active zone, ISO 8601 (for a `<time datetime>`)."""
    return timezone.localtime(value).isoformat()


def labels(choices) -> dict[str, str]:
    """A choices class's labels by value, in the active language: look them up once for a
    table (a model's `get_<field>_display()` hashes every lazy label of its field each call)."""
    return {value: str(label) for value, label in choices}


def query_with(request: HttpRequest, **changes) -> str:
    """The request's query string with some parameters replaced, or dropped when empty (for
    paging and sorting links)."""
    query = request.GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


def choices(field) -> list[tuple]:
    """A bound form field's choices as (value, label) pairs. A model choice field's rows are
    read with one plain SELECT: Django's own iterator reads them through a server-side cursor
    on PostgreSQL, three round trips for a dozen owners."""
    form_field = field.field
    if not isinstance(form_field, ModelChoiceField):
        return list(form_field.choices)
    blank = [] if form_field.empty_label is None else [("", form_field.empty_label)]
    return blank + [(form_field.prepare_value(row), form_field.label_from_instance(row)) for row in form_field.queryset]


def chosen(field) -> set[str]:
    """The submitted values of a form's choice field, as strings (to mark its options selected)."""
    value = field.value()
    values = value if isinstance(value, list | tuple) else [value]
    return {"" if v is None else str(v) for v in values}


def environment(**options) -> Environment:
    # A misspelt name is an error, not an empty string (the tests render every branch).
    options["undefined"] = StrictUndefined
    options.pop("autoescape", None)  # Django's backend asks for it too: always on
    env = Environment(autoescape=True, extensions=["jinja2.ext.i18n"], **options)
    env.install_gettext_callables(gettext, ngettext, newstyle=False, pgettext=pgettext)
    env.globals.update(
        url=url,
        static=static,
        get_language=get_language,
        get_messages=get_messages,
        LANGUAGES=settings.LANGUAGES,
        query_with=query_with,
        due_badge=due_badge,
        clock_badge=clock_badge,
        choices=choices,
        chosen=chosen,
        labels=labels,
        quick_buttons=quick_buttons,
        Status=Status,
        Source=Source,
    )
    env.filters.update(
        date=date,
        localtime=localtime,
        duration=duration,
        money=money,
        status_class=status_class,
        kind_icon=kind_icon,
        phone=phone,
    )
    return env
