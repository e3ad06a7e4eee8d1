"""Filters of the lead list (shared by the page, the CSV export and the API), of the disputes
page and API, and of the rejections page."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leads.models import DISPUTE_WINDOW, ArrivedVia, Campaign, Dispute, Lead, Rejection, Source, Status
from salesmarketing.limits import INSTANT_VALIDATORS
from slas.filters import IdFilter
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


class _Selects:
    """Bootstrap's look for a filter form's choices (each filter says "Any" for no choice)."""

    SELECTS: tuple[str, ...] = ()

    @property
    def form(self) -> forms.Form:
        form = super().form
        for name in self.SELECTS:
            form.fields[name].widget.attrs["class"] = "form-select form-select-sm"
        return form


class DisputeFilter(_Selects, django_filters.FilterSet):
    """Filters of the disputes page and API (SPEC §15). `team` is either side's: the sales team
    of the disputed lead, or the team of the person who raised it."""

    SELECTS = ("state", "team")

    state = django_filters.ChoiceFilter(choices=Dispute.State.choices, label=_("State"), empty_label=_("Any"))
    team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.order_by("name").only("pk", "name"),
        method="by_team",
        label=_("Team"),
        empty_label=_("Any"),
    )
    lead = IdFilter(field_name="lead_id", label=_("Lead"))
    raised_by = django_filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Raised by"))

    class Meta:
        model = Dispute
        fields = ["state", "team", "lead", "raised_by"]

    def by_team(self, queryset, name: str, value: Team):
        return queryset.filter(Q(lead__team=value) | Q(raised_by__team=value)) if value else queryset


class RejectionFilter(_Selects, django_filters.FilterSet):
    """Filters of the rejections page: the lead's sales team, the reason, and those Marketing
    may still dispute (within the window, the lead's latest, no dispute open)."""

    SELECTS = ("team", "reason")

    team = django_filters.ModelChoiceFilter(
        field_name="lead__team",
        queryset=Team.objects.filter(kind=Team.Kind.SALES).order_by("name").only("pk", "name"),
        label=_("Sales team"),
        empty_label=_("Any"),
    )
    reason = django_filters.ChoiceFilter(choices=Rejection.Reason.choices, label=_("Reason"), empty_label=_("Any"))
    open = django_filters.BooleanFilter(
        method="open_to_dispute",
        label=_("Open to dispute"),
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    class Meta:
        model = Rejection
        fields = ["team", "reason", "open"]

    def open_to_dispute(self, queryset, name: str, value: bool):
        if not value:
            return queryset
        return queryset.filter(
            pk=F("latest_id"),
            lead__status=Status.REJECTED,
            overturned_at__isnull=True,
            disputed=False,
            at__gte=timezone.now() - DISPUTE_WINDOW,
        )
