"""REST API for campaigns, leads, touches, import and export (SPEC §7)."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.response import Response

from leads import selectors, services
from leads.filters import LeadFilter
from leads.models import ATTRIBUTION_KEYS, ArrivedVia, Campaign, Lead, Rejection, Status, Touch
from routing.api import DecisionSerializer
from slas import selectors as sla_selectors
from teams import permissions
from teams.models import Team, User


class CampaignSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = ["id", "name", "channel", "team", "start_date", "end_date", "spend", "currency", "utm_campaign"]
        validators = []  # uniqueness and dates are checked by the service

    def create(self, validated_data: dict) -> Campaign:
        team = validated_data.pop("team")
        return services.campaign_create(by=self.context["request"].user, team=team, **validated_data)

    def update(self, instance: Campaign, validated_data: dict) -> Campaign:
        return services.campaign_update(campaign=instance, by=self.context["request"].user, **validated_data)


class CampaignWrites(BasePermission):
    """Asks the policy before the input is read, so that a role that may not write campaigns
    hears 403 whatever it sends (not which fields it got wrong): a POST by role, a PATCH on
    the campaign found. Which team a new campaign names is judged by the service."""

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or view.detail or permissions.can_manage_campaign(request.user)

    def has_object_permission(self, request, view, campaign: Campaign) -> bool:
        return request.method in SAFE_METHODS or permissions.can_manage_campaign(request.user, campaign)


class CampaignViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Campaigns: everyone signed in reads; admins and marketing managers write (their team's)."""

    serializer_class = CampaignSerializer
    permission_classes = [IsAuthenticated, CampaignWrites]
    filterset_fields = ["team", "channel"]
    search_fields = ["name"]
    ordering_fields = ["start_date", "name", "spend"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return Campaign.objects.select_related("team").order_by("-start_date", "name")


class SlaStatusSerializer(serializers.Serializer):
    sla = serializers.IntegerField()
    kind = serializers.CharField()
    state = serializers.ChoiceField(choices=["pending", "at_risk", "met", "breached", "cancelled"])
    due_at = serializers.DateTimeField()


class AttributionSerializer(serializers.Serializer):
    """Where a lead came from, as its form, hook or WhatsApp message told (SPEC §2); empty
    strings when unknown."""

    utm_source = serializers.CharField()
    utm_medium = serializers.CharField()
    utm_campaign = serializers.CharField()
    utm_term = serializers.CharField()
    utm_content = serializers.CharField()
    gclid = serializers.CharField()
    fbclid = serializers.CharField()
    ctwa_clid = serializers.CharField()
    page_url = serializers.CharField()
    referrer = serializers.CharField()

    def to_representation(self, attribution: dict) -> dict:
        return {key: (attribution or {}).get(key, "") for key in ATTRIBUTION_KEYS}


class LeadSerializer(serializers.ModelSerializer):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.filter(kind=Team.Kind.SALES), required=False)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    attribution = AttributionSerializer(read_only=True)
    sla_status = serializers.SerializerMethodField(
        help_text=_("SLA clocks of the lead, newest first: sla, kind, state, due_at (detail responses only).")
    )
    likely_duplicates = serializers.SerializerMethodField(
        help_text=_("Other leads of the team with the same e-mail (detail responses only; null in lists).")
    )

    class Meta:
        model = Lead
        fields = [
            "id",
            "name",
            "email",
            "phone",
            "company",
            "source",
            "campaign",
            "team",
            "owner",
            "status",
            "value",
            "notes",
            "created_at",
            "assigned_at",
            "closed_at",
            "arrived_via",
            "attribution",
            "consent_text",
            "consent_at",
            "sla_status",
            "likely_duplicates",
        ]
        read_only_fields = [
            "created_at",
            "assigned_at",
            "closed_at",
            "arrived_via",
            "attribution",
            "consent_text",
            "consent_at",
        ]

    @extend_schema_field(SlaStatusSerializer(many=True, allow_null=True))
    def get_sla_status(self, lead: Lead) -> list[dict] | None:
        if not self.context.get("detail"):
            return None
        views = sla_selectors.lead_clocks(lead_id=lead.pk, now=timezone.now())
        return SlaStatusSerializer(
            [{"sla": v.clock.sla_id, "kind": v.clock.kind, "state": v.state, "due_at": v.clock.due_at} for v in views],
            many=True,
        ).data

    def get_likely_duplicates(self, lead: Lead) -> list[int] | None:
        request = self.context.get("request")
        if not self.context.get("detail") or request is None:
            return None
        return list(selectors.lead_duplicates(lead=lead, user=request.user).values_list("pk", flat=True)[:20])

    def create(self, validated_data: dict) -> Lead:
        return services.lead_create(by=self.context["request"].user, arrived_via=ArrivedVia.API, **validated_data)

    def update(self, instance: Lead, validated_data: dict) -> Lead:
        return services.lead_change(lead=instance, by=self.context["request"].user, **validated_data)


class AssignSerializer(serializers.Serializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())


class RejectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Rejection
        fields = ["reason", "note"]


class TouchSerializer(serializers.ModelSerializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False)
    occurred_at = serializers.DateTimeField(required=False)

    class Meta:
        model = Touch
        fields = [
            *("id", "lead", "user", "kind", "occurred_at", "outcome", "notes"),
            *("origin", "external_id", "created_at"),
        ]
        read_only_fields = ["lead", "created_at"]
        extra_kwargs = {
            "origin": {"help_text": _("How it was captured: `manual` (the default) unless the client captured it.")},
            "external_id": {
                "help_text": _("The id of the message it came from: a repeat on the same lead answers the first (200).")
            },
        }


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField()
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.filter(kind=Team.Kind.SALES), required=False)
    dry_run = serializers.BooleanField(default=False)


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text=_("Row in the file (the header is row 1; 0 for the whole file)."))
    column = serializers.CharField()
    message = serializers.CharField()


class FieldErrorsSerializer(serializers.Serializer):
    """A request refused before any row was read: messages by field (e.g. no file sent)."""

    file = serializers.ListField(child=serializers.CharField(), required=False)
    team = serializers.ListField(child=serializers.CharField(), required=False)
    dry_run = serializers.ListField(child=serializers.CharField(), required=False)
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


class ImportReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    errors = RowErrorSerializer(many=True)
    warnings = RowErrorSerializer(many=True, help_text=_("Likely duplicates: imported all the same."))
    ignored_columns = serializers.ListField(child=serializers.CharField())


class LeadWrites(BasePermission):
    """A write to one lead asks the policy once the scoped lookup found the lead (another
    rep's or team's lead stays 404) and before the input is read, so that a role that may
    see the lead but not act on it hears 403 whatever it sends. The services judge again
    what the input names (the new owner, a move back)."""

    PREDICATES = {
        "partial_update": permissions.can_change_lead,
        "assign": permissions.can_assign_lead,
        "reject": permissions.can_work_lead,
        "touches": permissions.can_work_lead,
        "route": lambda user, lead: permissions.can_manage_routing(user, lead.team),
    }

    def has_object_permission(self, request, view, lead: Lead) -> bool:
        if request.method in SAFE_METHODS:
            return True
        predicate = self.PREDICATES.get(view.action)
        return predicate is not None and predicate(request.user, lead)


class LeadViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Leads the user may see (SPEC §1); another rep's or team's lead answers 404."""

    serializer_class = LeadSerializer
    permission_classes = [IsAuthenticated, LeadWrites]
    filterset_class = LeadFilter
    search_fields = []  # LeadFilter's `q` searches name, e-mail and company
    ordering_fields = ["created_at", "name", "status", "value", "assigned_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        leads = selectors.lead_list(user=self.request.user).order_by("-created_at", "-id")
        # A list shows its relations as ids, read from the lead's own columns: no joins.
        return leads.select_related(None) if self.action == "list" else leads

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "detail": self.action != "list"}

    @extend_schema(request=AssignSerializer, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        lead = self.get_object()
        payload = AssignSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.lead_assign(lead=lead, owner=payload.validated_data["owner"], by=request.user)
        lead.refresh_from_db()
        return Response(LeadSerializer(lead, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=DecisionSerializer)
    @action(detail=True, methods=["post"])
    def route(self, request, pk=None):
        """Route the lead now, as routing would a new one (managers; SPEC §11)."""
        lead = self.get_object()
        decision = services.lead_route(lead=lead, by=request.user)
        return Response(DecisionSerializer(decision).data)

    @extend_schema(responses=DecisionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def routing(self, request, pk=None):
        """The lead's routing decisions, newest first."""
        lead = self.get_object()
        return Response(DecisionSerializer(selectors.lead_routing_decisions(lead=lead), many=True).data)

    @extend_schema(request=RejectSerializer, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        lead = self.get_object()
        payload = RejectSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.lead_reject(lead=lead, by=request.user, **payload.validated_data)
        lead.refresh_from_db()
        return Response(LeadSerializer(lead, context=self.get_serializer_context()).data)

    @extend_schema(
        methods=["get"],
        parameters=[OpenApiParameter("origin", enum=Touch.Origin.values, description=_("How they were captured"))],
        responses=TouchSerializer(many=True),
    )
    @extend_schema(methods=["post"], request=TouchSerializer, responses={201: TouchSerializer, 200: TouchSerializer})
    @action(detail=True, methods=["get", "post"], serializer_class=TouchSerializer)
    def touches(self, request, pk=None):
        lead = self.get_object()
        if request.method == "GET":
            origin = request.query_params.get("origin", "")
            if origin and origin not in Touch.Origin.values:
                choices = ", ".join(Touch.Origin.values)
                raise ValidationError({"origin": [_("Choose one of: %(values)s.") % {"values": choices}]})
            touches = selectors.lead_touches(lead=lead, origin=origin)
            page = self.paginate_queryset(touches)
            return self.get_paginated_response(TouchSerializer(page, many=True).data)
        payload = TouchSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        touch, created = services.touch_record(lead=lead, by=request.user, **payload.validated_data)
        answer = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(TouchSerializer(touch).data, status=answer)

    @extend_schema(
        parameters=[OpenApiParameter("format", exclude=True)],
        responses={(200, "text/csv"): OpenApiResponse(description=_("CSV of the leads, with the list's filters"))},
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def export(self, request):
        filters = LeadFilter(request.query_params, queryset=self.get_queryset(), request=request)
        if not filters.is_valid():
            return Response(filters.errors, status=status.HTTP_400_BAD_REQUEST)
        response = StreamingHttpResponse(
            selectors.lead_export_lines(leads=filters.qs), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="selaras-leads.csv"'
        return response

    @extend_schema(
        request={"multipart/form-data": ImportSerializer},
        responses={
            200: ImportReportSerializer,
            201: ImportReportSerializer,
            400: PolymorphicProxySerializer(
                component_name="ImportRefusal",
                serializers=[ImportReportSerializer, FieldErrorsSerializer],
                resource_type_field_name=None,
            ),
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[parsers.MultiPartParser],
        serializer_class=ImportSerializer,
    )
    def import_csv(self, request):
        payload = ImportSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        report = services.leads_import(
            file=payload.validated_data["file"],
            team=payload.validated_data.get("team"),
            by=request.user,
            dry_run=payload.validated_data["dry_run"],
        )
        body = {
            "dry_run": report.dry_run,
            "rows": report.rows,
            "created": report.created,
            "errors": [vars(error) for error in report.errors],
            "warnings": [vars(warning) for warning in report.duplicates],
            "ignored_columns": report.ignored_columns,
        }
        if not report.ok:
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(body, status=status.HTTP_200_OK if report.dry_run else status.HTTP_201_CREATED)
