"""REST API of outbound webhooks (SPEC §7, §12): admins only."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
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
    """Outbound webhooks (admins)."""

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


class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A webhook's deliveries, newest first: status, attempts, last response code; `redeliver`
    sends one again in a few seconds, with the same id and body."""

    serializer_class = DeliverySerializer
    permission_classes = [IsAuthenticated, WebhookAdmins]
    filterset_fields = ["status", "event"]
    search_fields: list[str] = []
    ordering_fields = ["created_at", "id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema's generator: no request to scope by
            return WebhookDelivery.objects.none()
        webhook = get_object_or_404(selectors.webhook_list(user=self.request.user), pk=self.kwargs["webhook_pk"])
        return selectors.delivery_list(webhook=webhook)

    @extend_schema(request=None, responses=DeliverySerializer)
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, webhook_pk: str | None = None, pk: str | None = None) -> Response:
        delivery = services.delivery_redeliver(delivery=self.get_object(), by=request.user, now=timezone.now())
        return Response(DeliverySerializer(delivery).data)
