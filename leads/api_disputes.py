"""REST API of disputes of rejections (SPEC §7, §15): `disputes/` GET, POST, PATCH."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from leads import selectors, services
from leads.filters import DisputeFilter
from leads.models import Dispute, Lead
from teams import permissions

DISPUTE_FIELDS = [
    "id",
    "lead",
    "rejection",
    "raised_by",
    "raised_at",
    "note",
    "state",
    "ruled_by",
    "ruled_at",
    "ruling_note",
]


class DisputeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dispute
        fields = DISPUTE_FIELDS
        read_only_fields = DISPUTE_FIELDS


class DisputeRaiseSerializer(serializers.Serializer):
    """A dispute of the lead's latest rejection; the requester raises it."""

    lead = serializers.PrimaryKeyRelatedField(queryset=Lead.objects.none())
    note = serializers.CharField(max_length=2000, help_text=_("Why the rejection is wrong."))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:  # a lead the requester may not see is not found (400)
            self.fields["lead"].queryset = selectors.lead_list(user=request.user).select_related(None)


class DisputeRulingSerializer(serializers.Serializer):
    ruling = serializers.ChoiceField(
        choices=[Dispute.State.UPHELD, Dispute.State.OVERTURNED],
        help_text=_("`upheld`: the rejection stands; `overturned`: the lead goes back to Sales."),
    )
    ruling_note = serializers.CharField(
        max_length=2000, allow_blank=True, help_text=_("The reason for the ruling (required).")
    )


class DisputeWrites(BasePermission):
    """Asks the policy before the input is read, so that a role that may not act hears 403
    whatever it sends: a POST by role (Marketing and admins raise), a PATCH on the dispute
    found (another team's stays 404), for its sales team's manager or an admin."""

    def has_permission(self, request, view) -> bool:
        return request.method != "POST" or permissions.can_raise_dispute(request.user)

    def has_object_permission(self, request, view, dispute: Dispute) -> bool:
        return request.method in SAFE_METHODS or permissions.can_rule_dispute(request.user, dispute)


class DisputeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Disputes of the leads the user may see (SPEC §15). Marketing and admins POST
    `{"lead", "note"}` to dispute the lead's latest rejection, within 14 days of it; the lead's
    sales manager or an admin PATCHes `{"ruling", "ruling_note"}` to uphold or overturn it."""

    serializer_class = DisputeSerializer
    permission_classes = [IsAuthenticated, DisputeWrites]
    filterset_class = DisputeFilter
    ordering_fields = ["raised_at", "ruled_at", "id"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        # The answer shows relations as ids, read from the dispute's own columns: no joins, but
        # the lead's, whose team the policy reads for a ruling.
        disputes = selectors.dispute_list(user=self.request.user).select_related(None)
        return disputes if self.action == "list" else disputes.select_related("lead")

    @extend_schema(request=DisputeRaiseSerializer, responses={201: DisputeSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        payload = DisputeRaiseSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        dispute = services.dispute_raise(
            lead=payload.validated_data["lead"],
            by=request.user,
            note=payload.validated_data["note"],
            now=timezone.now(),
        )
        return Response(DisputeSerializer(dispute).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DisputeRulingSerializer, responses=DisputeSerializer)
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        dispute = self.get_object()
        payload = DisputeRulingSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ruled = services.dispute_rule(dispute=dispute, by=request.user, now=timezone.now(), **payload.validated_data)
        return Response(DisputeSerializer(ruled).data)
