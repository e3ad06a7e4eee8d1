"""REST API of notifications (SPEC §7, §12): one's own, read and marked read."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from notifications import selectors, services
from notifications.filters import NotificationFilter
from notifications.models import Notification


class ReadField(serializers.BooleanField):
    """Whether a notification was read: its `read_at`, as yes or no."""

    def get_attribute(self, notification: Notification) -> bool:
        return notification.read_at is not None


class NotificationSerializer(serializers.ModelSerializer):
    text = serializers.SerializerMethodField()
    read = ReadField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "lead", "breach", "text", "created_at", "read"]
        read_only_fields = ["id", "kind", "lead", "breach", "text", "created_at"]

    def get_text(self, notification: Notification) -> str:
        return selectors.notification_text(notification)

    def update(self, notification: Notification, validated_data: dict) -> Notification:
        if "read" not in validated_data:  # a PATCH of nothing it may change
            return notification
        return services.notification_mark(
            notification=notification, by=self.context["request"].user, read=validated_data["read"], now=timezone.now()
        )


class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """The requester's own notifications, newest first; PATCH `{"read": true}` marks one read."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    ordering_fields = ["created_at", "id"]
    http_method_names = ["get", "patch", "post", "head", "options"]

    def get_queryset(self):
        return selectors.notification_list(user=self.request.user).order_by("-created_at", "-id")

    @extend_schema(request=None, responses=inline_serializer("ReadAll", {"marked": serializers.IntegerField()}))
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        """Mark every unread notification of the requester read."""
        return Response({"marked": services.notifications_read_all(user=request.user, now=timezone.now())})
