"""REST API for SLAs and breaches (SPEC §7)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from leads.models import Source
from slas import selectors, services
from slas.filters import BreachFilter
from slas.models import TERM_FIELDS, Breach, Sla
from slas.services import preview
from teams import permissions
from teams.models import Team


class SlaSerializer(serializers.ModelSerializer):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.filter(kind=Team.Kind.SALES))
    from_team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.filter(kind=Team.Kind.MARKETING), required=False, allow_null=True
    )
    sources = serializers.ListField(child=serializers.ChoiceField(choices=Source.choices), required=False)
    target_unit = serializers.ChoiceField(choices=Sla.Unit.choices, required=False, allow_blank=True)
    period = serializers.ChoiceField(choices=Sla.Period.choices, required=False, allow_blank=True)

    class Meta:
        model = Sla
        fields = ["id", "name", "kind", "team", *TERM_FIELDS, "is_active", "active_from", "version"]
        read_only_fields = ["active_from", "version"]

    def create(self, validated_data: dict) -> Sla:
        validated_data.pop("is_active", None)
        user = self.context["request"].user
        team, kind = validated_data.pop("team"), validated_data.pop("kind")
        return services.sla_create(by=user, team=team, kind=kind, **validated_data)

    def update(self, instance: Sla, validated_data: dict) -> Sla:
        user = self.context["request"].user
        active = validated_data.pop("is_active", None)
        if validated_data:
            instance = services.sla_update(sla=instance, by=user, **validated_data)
        if active is not None:
            instance = services.sla_set_active(sla=instance, by=user, active=active)
        return instance


class SlaPreviewSerializer(SlaSerializer):
    """The body of `POST slas/` (a new SLA), or `sla` and the terms to change; `weeks` of history."""

    sla = serializers.PrimaryKeyRelatedField(
        queryset=Sla.objects.none(), required=False, help_text=_("An SLA to change; leave out for a new one.")
    )
    weeks = serializers.IntegerField(min_value=1, max_value=preview.MAX_WEEKS, default=preview.WEEKS)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.filter(kind=Team.Kind.SALES), required=False)

    class Meta(SlaSerializer.Meta):
        fields = ["sla", "weeks", "name", "kind", "team", *TERM_FIELDS]
        extra_kwargs = {"name": {"required": False}, "kind": {"required": False}}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")  # none when the schema is drawn
        if request is not None:
            self.fields["sla"].queryset = selectors.sla_list(user=request.user)


class TallySerializer(serializers.Serializer):
    met = serializers.IntegerField()
    breached = serializers.IntegerField()
    compliance = serializers.FloatField(allow_null=True)


class PreviewWeekSerializer(serializers.Serializer):
    week = serializers.CharField(source="label", help_text=_("ISO week, e.g. 2026-W34."))
    clocks = serializers.IntegerField()
    met = serializers.IntegerField(source="proposed.met")
    breached = serializers.IntegerField(source="proposed.breached")
    pending = serializers.IntegerField(source="proposed.pending", help_text=_("Not due yet and not met yet."))
    compliance = serializers.FloatField(source="proposed.compliance", allow_null=True)
    current = TallySerializer(allow_null=True, help_text=_("What the SLA recorded; null for a new SLA."))


class PreviewRepSerializer(serializers.Serializer):
    user = serializers.IntegerField(source="user.pk")
    name = serializers.CharField(source="user")
    met = serializers.IntegerField(source="tally.met")
    breached = serializers.IntegerField(source="tally.breached")
    compliance = serializers.FloatField(source="tally.compliance", allow_null=True)


class PreviewSerializer(serializers.Serializer):
    weeks = PreviewWeekSerializer(many=True)
    reps = PreviewRepSerializer(many=True)


class SlaWrites(BasePermission):
    """Asks the policy before the input is read, so that a role that may not write SLAs hears
    403 whatever it sends: a POST by role, a PATCH on the SLA found (out of scope stays 404).
    Which team and kind a new SLA names is judged by the service."""

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or view.detail or permissions.can_create_slas(request.user)

    def has_object_permission(self, request, view, sla: Sla) -> bool:
        return request.method in SAFE_METHODS or permissions.can_edit_sla(request.user, sla)


class SlaViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """SLAs the user may see; sales managers write their team's, marketing managers the
    volume SLAs their team owes, admins all (SPEC §1)."""

    serializer_class = SlaSerializer
    permission_classes = [IsAuthenticated, SlaWrites]
    filterset_fields = ["team", "kind", "is_active", "from_team"]
    search_fields = ["name"]
    ordering_fields = ["name", "id"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.sla_list(user=self.request.user).order_by("team__name", "kind", "name")

    @extend_schema(request=SlaPreviewSerializer, responses=PreviewSerializer)
    @action(detail=False, methods=["post"])
    def preview(self, request: Request) -> Response:
        """What-if (SPEC §15): the last weeks of history judged under the proposed terms, beside
        what the SLA recorded; writes nothing."""
        body = SlaPreviewSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        answer = preview.sla_preview(by=request.user, now=timezone.now(), **body.validated_data)
        return Response(PreviewSerializer(answer).data)


BREACH_WRITABLE = {"acknowledged", "note", "waived", "waived_reason"}
BREACH_FIELDS = [
    "id",
    "sla",
    "kind",
    "lead",
    "team",
    "responsible_user",
    "responsible_team",
    "period_start",
    "period_end",
    "due_at",
    "detected_at",
    "expected",
    "actual",
    "resolved_at",
    "acknowledged",
    "acknowledged_by",
    "acknowledged_at",
    "note",
    "waived",
    "waived_reason",
]


class BreachSerializer(serializers.ModelSerializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    acknowledged = serializers.BooleanField(required=False, write_only=True, help_text=_("true to acknowledge."))
    waived = serializers.BooleanField(required=False)
    waived_reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    class Meta:
        model = Breach
        fields = BREACH_FIELDS
        read_only_fields = [name for name in BREACH_FIELDS if name not in BREACH_WRITABLE]

    def update(self, instance: Breach, validated_data: dict) -> Breach:
        """Acknowledge (with a note) and/or waive (with a reason), all or nothing."""
        return services.breach_review(
            breach=instance,
            by=self.context["request"].user,
            acknowledge=validated_data.get("acknowledged", False),
            note=validated_data.get("note"),
            waive=validated_data.get("waived"),
            waived_reason=validated_data.get("waived_reason", ""),
        )


class BreachWrites(BasePermission):
    """A PATCH asks the policy on the breach found (out of scope stays 404) before the input is
    read: acknowledging or waiving is for its managers. Waiving, narrower, is judged by the service."""

    def has_object_permission(self, request, view, breach: Breach) -> bool:
        return request.method in SAFE_METHODS or permissions.can_manage_breach(request.user, breach)


class BreachViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Breaches the user may see (SPEC §1); managers PATCH to acknowledge or waive."""

    serializer_class = BreachSerializer
    permission_classes = [IsAuthenticated, BreachWrites]
    filterset_class = BreachFilter
    ordering_fields = ["due_at", "detected_at", "id"]
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.breach_list(user=self.request.user).order_by("-due_at", "-id")
