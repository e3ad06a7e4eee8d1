"""REST API of outbound webhooks (SPEC §7, §12): admins only."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from teams import permissions
from webhooks import selectors, services
from webhooks.models import Event, Webhook, WebhookDelivery


class WebhookSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=Event.choices), allow_empty=False)
    url = serializers.CharField(max_length=500)
    secret = serializers.SerializerMethodField(
        help_text=_("Signs every body (X-Selaras-Signature). Only in the answer to the POST that made the webhook.")
    )

    class Meta:
        model = Webhook
        fields = [
            "id",
            "name",
            "url",
            "events",
            "format",
            "active",
            "secret",
            "failing_since",
            "switched_off_at",
            "created_at",
        ]
        read_only_fields = ["failing_since", "switched_off_at", "created_at"]

    def get_secret(self, webhook: Webhook) -> str | None:
        return getattr(webhook, "new_secret", None)

    def create(self, validated_data: dict) -> Webhook:
        webhook, secret = services.webhook_create(by=self.context["request"].user, **validated_data)
        webhook.new_secret = secret
        return webhook

    def update(self, webhook: Webhook, validated_data: dict) -> Webhook:
        return services.webhook_update(webhook=webhook, by=self.context["request"].user, **validated_data)


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "status",
            "attempts",
            "response_code",
            "last_error",
            "created_at",
            "last_attempt_at",
            "next_attempt_at",
            "retry_until",
            "delivered_at",
            "body",
        ]
        read_only_fields = fields


class WebhookAdmins(BasePermission):
    def has_permission(self, request, view) -> bool:
        return permissions.can_manage_webhooks(request.user)


class WebhookViewSet(viewsets.ModelViewSet):
    """Outbound webhooks; their deliveries, and redelivering one."""

    serializer_class = WebhookSerializer
    permission_classes = [IsAuthenticated, WebhookAdmins]
    filterset_fields = ["active", "format"]
    search_fields = ["name", "url"]
    ordering_fields = ["name", "created_at", "id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.webhook_list(user=self.request.user)

    def perform_destroy(self, webhook: Webhook) -> None:
        services.webhook_delete(webhook=webhook, by=self.request.user)

    @extend_schema(
        parameters=[
            OpenApiParameter("status", enum=WebhookDelivery.Status.values),
            OpenApiParameter("event", enum=Event.values),
        ],
        responses=DeliverySerializer(many=True),
    )
    @action(detail=True, methods=["get"], serializer_class=DeliverySerializer, filterset_fields=[], search_fields=[])
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        """The webhook's deliveries, newest first: status, attempts, last response code."""
        deliveries = selectors.delivery_list(webhook=self.get_object(), status=request.query_params.get("status", ""))
        event = request.query_params.get("event")
        if event:
            deliveries = deliveries.filter(event=event)
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses=DeliverySerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_id>\d+)/redeliver",
        serializer_class=DeliverySerializer,
    )
    def redeliver(self, request: Request, pk: str | None = None, delivery_id: str | None = None) -> Response:
        """Send a delivery again in a few seconds, with the same id and body."""
        webhook = self.get_object()
        delivery = selectors.delivery_list(webhook=webhook).filter(pk=delivery_id).first()
        if delivery is None:
            return Response({"detail": _("No such delivery of this webhook.")}, status=404)
        delivery = services.delivery_redeliver(delivery=delivery, by=request.user, now=timezone.now())
        return Response(DeliverySerializer(delivery).data)
