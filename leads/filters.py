"""Filters of the lead list, shared by the page, the CSV export and the API."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leads.models import ArrivedVia, Campaign, Lead, Source, Status
from salesmarketing.limits import INSTANT_VALIDATORS
from slas.selectors import leads_with_clock_state
from teams.models import Role, Team, User


class LeadFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, label=_("Status"))
    source = django_filters.MultipleChoiceFilter(choices=Source.choices, label=_("Source"))
    arrived_via = django_filters.MultipleChoiceFilter(choices=ArrivedVia.choices, label=_("Arrived via"))
    # Where it came from, as its form, hook or WhatsApp message told (case-insensitive).
    utm_source = django_filters.CharFilter(
        field_name="attribution__utm_source", lookup_expr="iexact", label=_("utm_source")
    )
    utm_campaign = django_filters.CharFilter(
        field_name="attribution__utm_campaign", lookup_expr="iexact", label=_("utm_campaign")
    )
    owner = django_filters.ModelChoiceFilter(queryset=User.objects.none(), label=_("Owner"))
    unassigned = django_filters.BooleanFilter(field_name="owner", lookup_expr="isnull", label=_("Unassigned"))
    campaign = django_filters.ModelChoiceFilter(queryset=Campaign.objects.all(), label=_("Campaign"))
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.filter(kind=Team.Kind.SALES), label=_("Team"))
    sla = django_filters.ChoiceFilter(
        choices=[
            ("at_risk", _("At risk")),
            ("breached", _("Breached or overdue")),
            ("pending", _("Running")),
            ("met", _("Met")),
        ],
        method="by_sla_state",
        label=_("SLA"),
    )
    created_after = django_filters.DateTimeFilter(
        field_name="created_at", lookup_expr="gte", label=_("Created from"), validators=INSTANT_VALIDATORS
    )
    created_before = django_filters.DateTimeFilter(
        field_name="created_at", lookup_expr="lt", label=_("Created before"), validators=INSTANT_VALIDATORS
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("created_at", "created_at"),
            ("name", "name"),
            ("status", "status"),
            ("value", "value"),
            ("assigned_at", "assigned_at"),
        ),
        field_labels={
            "created_at": _("Created"),
            "name": _("Name"),
            "status": _("Status"),
            "value": _("Value"),
            "assigned_at": _("Assigned"),
        },
        label=_("Sort"),
        empty_label=_("Newest first"),
    )

    class Meta:
        model = Lead
        fields = [
            "q",
            "status",
            "source",
            "arrived_via",
            "utm_source",
            "utm_campaign",
            "owner",
            "unassigned",
            "campaign",
            "team",
            "sla",
            "created_after",
            "created_before",
        ]

    def __init__(self, *args, user: User | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        user = user or getattr(self.request, "user", None)
        owners = User.objects.filter(role__in=[Role.SALES_REP, Role.SALES_MANAGER], is_active=True)
        if (
            user is not None
            and user.team_id
            and not user.is_superuser
            and user.role in (Role.SALES_MANAGER, Role.SALES_REP)
        ):
            owners = owners.filter(team_id=user.team_id)
        # The choices' labels are all a list's filter reads of them.
        self.filters["owner"].queryset = owners.order_by("first_name", "username").only(
            "pk", "first_name", "last_name", "username"
        )
        self.filters["campaign"].queryset = self.filters["campaign"].queryset.only("pk", "name")
        self.filters["team"].queryset = self.filters["team"].queryset.only("pk", "name")
        for name in ("owner", "campaign", "team"):
            self.filters[name].extra["empty_label"] = _("Any")

    @property
    def form(self) -> forms.Form:
        form = super().form
        for name in ("owner", "campaign", "team", "ordering", "sla", "arrived_via"):
            form.fields[name].widget.attrs["class"] = "form-select"
        return form

    def by_sla_state(self, queryset, name: str, value: str):
        return queryset.filter(leads_with_clock_state(state=value, now=timezone.now())) if value else queryset

    def search(self, queryset, name: str, value: str):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(email__icontains=value) | Q(company__icontains=value))
