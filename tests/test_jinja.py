"""The Jinja2 environment of the hot pages' templates (salesmarketing/jinja.py)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import TemplateSyntaxError, engines
from django.test import RequestFactory
from django.utils import timezone, translation
from jinja2 import UndefinedError

JINJA = engines["jinja2"]
INSTANT = datetime(2026, 12, 31, 17, 5, tzinfo=ZoneInfo("UTC"))  # 1 January 2027, 00:05 in Jakarta


def render(source: str, **context) -> str:
    return JINJA.from_string(source).render(context)


def test_it_escapes_what_it_prints_and_keeps_what_is_already_safe():
    html = render("{{ name }} {{ url('leads:detail', 7) }}", name='<b>O\'Brien & "Co"</b>')
    assert html == "&lt;b&gt;O&#39;Brien &amp; &#34;Co&#34;&lt;/b&gt; /leads/7/"


def test_a_misspelt_name_is_an_error_not_an_empty_string():
    with pytest.raises(UndefinedError):
        render("{{ lead.nmae }}", lead=object())


@pytest.mark.parametrize(
    "language,expected",
    [("en", "01/01/2027 · IDR 84,000,000 · New"), ("id", "01-01-2027 · IDR 84.000.000 · Baru")],
)
def test_dates_money_and_labels_in_the_active_language_and_zone(language, expected):
    source = "{{ at|date('SHORT_DATE_FORMAT') }} · {{ value|money('IDR') }} · {{ labels(Status.choices)['new'] }}"
    with translation.override(language), timezone.override("Asia/Jakarta"):
        assert render(source, at=INSTANT, value=Decimal("84000000")) == expected
        assert render("{{ at|localtime }}", at=INSTANT) == "2027-01-01T00:05:00+07:00"


def test_underscore_translates_and_format_fills_in():
    with translation.override("id"):
        assert render('{{ _("Select %(name)s")|format(name="<i>") }}') == "Pilih &lt;i&gt;"


def test_the_django_tag_includes_a_jinja_template_with_the_request():
    request = RequestFactory().get("/leads/")
    html = engines["django"].from_string(
        '{% load selaras %}<p>{% jinja "leads/quick_touch.html" lead=lead kinds=kinds fragment="f" target="t" '
        'next="/n" %}</p>'
    )
    lead = type("L", (), {"pk": 3, "name": "Ana", "phone": ""})()
    out = html.render({"lead": lead, "kinds": []}, request)
    assert out.startswith('<p><form method="post" action="/leads/3/touch/"')
    assert 'name="csrfmiddlewaretoken"' in out and "&lt;form" not in out


@pytest.mark.parametrize(
    "tag",
    ["{% jinja %}", '{% jinja "leads/quick_touch.html" lead %}'],
)
def test_the_django_tag_wants_a_name_and_only_named_values(tag):
    with pytest.raises(TemplateSyntaxError):
        engines["django"].from_string("{% load selaras %}" + tag)


@pytest.mark.django_db
def test_a_model_choice_fields_options_are_djangos_own_read_in_one_plain_select(sales_team, django_assert_num_queries):
    from django import forms

    from leads.models import Campaign
    from salesmarketing.jinja import choices

    Campaign.objects.create(name="<i>Flash</i>", channel="ads", team=sales_team, start_date="2026-11-01")
    Campaign.objects.create(name="Expo", channel="event", team=sales_team, start_date="2026-11-02")

    class Form(forms.Form):
        campaign = forms.ModelChoiceField(queryset=Campaign.objects.order_by("name"), empty_label="Any")
        kind = forms.ChoiceField(choices=[("a", "A"), ("b", "B")])

    form = Form()
    djangos = [(str(value), str(label)) for value, label in form["campaign"].field.choices]
    with django_assert_num_queries(1):
        ours = choices(form["campaign"])
    assert [(str(value), label) for value, label in ours] == djangos
    assert ours[0] == ("", "Any") and ours[1][1] == "<i>Flash</i>" and len(ours) == 3
    assert choices(form["kind"]) == [("a", "A"), ("b", "B")]
