"""Filters of the breach list, shared by the page, its CSV export and the API."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from salesmarketing.limits import INSTANT_VALIDATORS
from slas.models import Breach, Sla
from teams.models import Role, Team, User


class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number in the range a database key can hold (else a 400, not a 500)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class BreachFilter(django_filters.FilterSet):
    STATUS = [("open", _("Open")), ("acknowledged", _("Acknowledged")), ("waived", _("Waived"))]

    team = django_filters.ModelChoiceFilter(queryset=Team.objects.filter(kind=Team.Kind.SALES), label=_("Team"))
    sla = django_filters.ModelChoiceFilter(queryset=Sla.objects.all(), label=_("SLA"))
    kind = django_filters.ChoiceFilter(choices=Sla.Kind.choices, label=_("Kind"))
    rep = django_filters.ModelChoiceFilter(
        field_name="responsible_user", queryset=User.objects.filter(role=Role.SALES_REP), label=_("Rep")
    )
    lead = IdFilter(field_name="lead_id", label=_("Lead"))
    status = django_filters.ChoiceFilter(choices=STATUS, method="by_status", label=_("Status"))
    since = django_filters.DateTimeFilter(
        field_name="due_at", lookup_expr="gte", label=_("Due from"), validators=INSTANT_VALIDATORS
    )
    until = django_filters.DateTimeFilter(
        field_name="due_at", lookup_expr="lt", label=_("Due before"), validators=INSTANT_VALIDATORS
    )

    class Meta:
        model = Breach
        fields = ["team", "sla", "kind", "rep", "lead", "status", "since", "until"]

    @property
    def form(self) -> forms.Form:
        form = super().form
        for name in ("team", "sla", "kind", "rep", "status"):
            form.fields[name].widget.attrs["class"] = "form-select"
            form.fields[name].empty_label = _("Any")
            if hasattr(form.fields[name], "choices") and not hasattr(form.fields[name], "queryset"):
                form.fields[name].choices = [("", _("Any")), *list(form.fields[name].choices)[1:]]
        for name in ("since", "until"):
            form.fields[name].widget = forms.DateInput(attrs={"type": "date", "class": "form-control"})
        return form

    def by_status(self, queryset, name: str, value: str):
        if value == "open":
            return queryset.filter(acknowledged_at__isnull=True, waived=False)
        if value == "acknowledged":
            return queryset.filter(acknowledged_at__isnull=False, waived=False)
        if value == "waived":
            return queryset.filter(waived=True)
        return queryset
