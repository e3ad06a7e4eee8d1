"""REST API for KPIs, targets (with progress), manual measurements and scorecards (SPEC §7)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, parsers, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kpis import selectors, services
from kpis.capacity import capacity_ahead
from kpis.economics import breach_cost
from kpis.metrics import UNITS
from kpis.models import Kpi, Measurement, Scorecard, Target
from teams import permissions
from teams.models import Team
from teams.selectors import own_sales_team


class KpiSerializer(serializers.ModelSerializer):
    class Meta:
        model = Kpi
        fields = ["id", "name", "metric", "unit", "aggregation", "team"]

    def to_representation(self, kpi: Kpi) -> dict:
        data = super().to_representation(kpi)
        data["unit"] = kpi.unit or UNITS.get(
            kpi.metric, "ratio" if "rate" in kpi.metric or "compliance" in kpi.metric else ""
        )
        return data

    def create(self, validated_data: dict) -> Kpi:
        return services.kpi_create(by=self.context["request"].user, **validated_data)

    def update(self, instance: Kpi, validated_data: dict) -> Kpi:
        return services.kpi_update(kpi=instance, by=self.context["request"].user, **validated_data)


class TargetSerializer(serializers.ModelSerializer):
    period_end = serializers.DateField(required=False)
    period = serializers.ChoiceField(choices=Target.Period.choices, required=False)

    class Meta:
        model = Target
        fields = ["id", "kpi", "team", "user", "period", "period_start", "period_end", "target"]

    def validate_kpi(self, kpi: Kpi) -> Kpi:
        if not selectors.kpi_list(user=self.context["request"].user).filter(pk=kpi.pk).exists():
            raise serializers.ValidationError(_("Unknown KPI."))
        return kpi

    def create(self, validated_data: dict) -> Target:
        return services.target_create(by=self.context["request"].user, **validated_data)

    def update(self, instance: Target, validated_data: dict) -> Target:
        for name in ("kpi", "team", "user"):
            if name in validated_data and validated_data.pop(name) != getattr(instance, name):
                raise serializers.ValidationError({name: [_("Create a new target instead.")]})
        return services.target_update(item=instance, by=self.context["request"].user, **validated_data)


class ProgressSerializer(serializers.Serializer):
    actual = serializers.DecimalField(max_digits=24, decimal_places=6, allow_null=True, coerce_to_string=True)
    target = serializers.DecimalField(max_digits=24, decimal_places=4)
    attainment = serializers.FloatField(allow_null=True)
    expected = serializers.DecimalField(max_digits=24, decimal_places=4)
    status = serializers.ChoiceField(choices=["on_track", "at_risk", "off_track", "achieved"])
    elapsed = serializers.FloatField()


class MeasurementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Measurement
        fields = ["id", "kpi", "team", "user", "date", "value"]

    def create(self, validated_data: dict) -> Measurement:
        day = validated_data.pop("date")
        return services.measurement_create(by=self.context["request"].user, day=day, **validated_data)

    def update(self, instance: Measurement, validated_data: dict) -> Measurement:
        for name in ("kpi", "team", "user"):
            if name in validated_data and validated_data.pop(name) != getattr(instance, name):
                raise serializers.ValidationError({name: [_("Enter a new value instead.")]})
        return services.measurement_update(item=instance, by=self.context["request"].user, **validated_data)


class ScorecardSerializer(serializers.ModelSerializer):
    class Meta:
        model = Scorecard
        fields = ["id", "team", "period", "period_start", "period_end", "computed_at", "metrics"]


class KpiWrites(BasePermission):
    """Asks the policy before the input is read, so that a role that may not manage KPIs hears
    403 whatever it sends: a POST (KPI, target, value, import) by role, a PATCH on the KPI,
    target or value found (out of scope stays 404). The scope a new one names is judged by
    the service."""

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or view.detail or permissions.can_manage_any_kpis(request.user)

    def has_object_permission(self, request, view, item: Kpi | Target | Measurement) -> bool:
        return request.method in SAFE_METHODS or permissions.can_manage_kpi_item(request.user, item)


class _Writable(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [IsAuthenticated, KpiWrites]
    http_method_names = ["get", "post", "patch", "head", "options"]


class KpiViewSet(_Writable):
    serializer_class = KpiSerializer
    filterset_fields = ["metric", "team"]
    search_fields = ["name"]

    def get_queryset(self):
        return selectors.kpi_list(user=self.request.user).order_by("name")


class TargetViewSet(_Writable):
    serializer_class = TargetSerializer
    filterset_fields = ["kpi", "team", "user", "period", "period_start"]

    def get_queryset(self):
        return selectors.target_list(user=self.request.user).order_by("-period_start", "kpi__name", "id")

    @extend_schema(responses=ProgressSerializer)
    @action(detail=True, methods=["get"])
    def progress(self, request, pk=None):
        progress = selectors.target_progress(target=self.get_object(), now=timezone.now())
        return Response(ProgressSerializer(progress).data)


class MeasurementImportSerializer(serializers.Serializer):
    kpi = serializers.PrimaryKeyRelatedField(queryset=Kpi.objects.all())
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    file = serializers.FileField()


class MeasurementViewSet(_Writable):
    serializer_class = MeasurementSerializer
    filterset_fields = ["kpi", "team", "user", "date"]

    def get_queryset(self):
        return selectors.measurement_list(user=self.request.user).order_by("-date", "-id")

    @extend_schema(request={"multipart/form-data": MeasurementImportSerializer}, responses={201: None, 400: None})
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[parsers.MultiPartParser],
        serializer_class=MeasurementImportSerializer,
    )
    def import_csv(self, request):
        """CSV with `date` and `value` columns: all rows imported, or none and every bad row reported."""
        payload = MeasurementImportSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        result = services.measurements_import(
            by=request.user, kpi=data["kpi"], file=data["file"], team=data.get("team")
        )
        errors = [{"row": row, "column": column, "message": message} for row, column, message in result.errors]
        return Response({"created": result.created, "errors": errors}, status=201 if result.ok else 400)


class ScorecardViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ScorecardSerializer
    filterset_fields = ["team", "period", "period_start"]

    def get_queryset(self):
        return Scorecard.objects.filter(permissions.scorecard_scope(self.request.user)).order_by(
            "-period_start", "team__name"
        )


# -- settling the argument (SPEC §15) ------------------------------------------------------------
class InsightTeamSerializer(serializers.Serializer):
    """The `?team=` of a team's insight: a sales team; the requester's own when not given."""

    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False)

    def validate_team(self, team: Team) -> Team:
        if team.kind != Team.Kind.SALES:
            raise serializers.ValidationError(_("These figures are for sales teams; this is a marketing team."))
        return team


class BreachCostSerializer(serializers.Serializer):
    team = serializers.IntegerField(source="team.pk")
    since = serializers.DateTimeField(help_text=_("Leads first assigned from this instant …"))
    until = serializers.DateTimeField(help_text=_("… until this one (excluded)."))
    currency = serializers.CharField()
    met_leads = serializers.IntegerField(help_text=_("Leads with a response or cadence SLA met and no breach."))
    met_won_rate = serializers.FloatField(allow_null=True)
    breached_leads = serializers.IntegerField(
        help_text=_("Leads with a breach of a response or cadence SLA that was not waived.")
    )
    breached_won_rate = serializers.FloatField(allow_null=True)
    median_won_value = serializers.CharField(allow_null=True, help_text=_("A decimal string, in the currency."))
    cost_per_breach = serializers.CharField(
        allow_null=True,
        help_text=_("A decimal string in the currency's unit; null while there is not enough data (see reason)."),
    )
    reason = serializers.CharField(
        allow_null=True, help_text=_("Why the cost is null: not_enough_data or no_won_value; null when it is known.")
    )
    reason_text = serializers.CharField(allow_null=True, help_text=_("The reason in a sentence, in your language."))


class CapacityMonthSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    business_hours = serializers.FloatField(help_text=_("The team's working time in the month, in hours (2 decimals)."))
    rep_hours = serializers.FloatField(help_text=_("Summed over its reps, less their time off, in hours (2 decimals)."))
    reps = serializers.IntegerField(help_text=_("Sales reps on the month's last day."))
    expected_leads = serializers.FloatField(allow_null=True, help_text=_("What its volume SLAs expect (2 decimals)."))
    leads_per_rep_hour = serializers.FloatField(allow_null=True, help_text=_("4 decimals."))
    average_before = serializers.FloatField(
        allow_null=True, help_text=_("Leads per rep-hour, on average over the three months before.")
    )
    warning = serializers.BooleanField(help_text=_("More than 25 % above the average of the three months before."))


class CapacitySerializer(serializers.Serializer):
    team = serializers.IntegerField()
    months = CapacityMonthSerializer(many=True)


class _TeamInsightView(APIView):
    """GET with `?team=` (a sales team id; default the requester's own team): 400 for a bad or
    missing team, 404 for a team whose figures the requester may not see."""

    permission_classes = [IsAuthenticated]

    def team(self, request: Request) -> Team:
        query = InsightTeamSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        team = query.validated_data.get("team") or own_sales_team(user=request.user)
        if team is None:
            raise ValidationError({"team": [_("Name a sales team.")]})
        if not permissions.can_see_team_insights(request.user, team):
            raise NotFound
        return team


TEAM_PARAMETER = OpenApiParameter("team", int, description=_("A sales team; default: your own."))


class BreachCostView(_TeamInsightView):
    """What a breach costs a sales team (SPEC §15)."""

    @extend_schema(summary="What a breach costs", parameters=[TEAM_PARAMETER], responses=BreachCostSerializer)
    def get(self, request: Request) -> Response:
        cost = breach_cost(team=self.team(request), now=timezone.now())
        return Response(BreachCostSerializer(cost).data)


class CapacityView(_TeamInsightView):
    """A sales team's capacity in this and the next two months (SPEC §15)."""

    @extend_schema(summary="Capacity ahead", parameters=[TEAM_PARAMETER], responses=CapacitySerializer)
    def get(self, request: Request) -> Response:
        capacity = capacity_ahead(team=self.team(request), now=timezone.now())
        return Response(CapacitySerializer(capacity).data)
