"""REST API for teams and users (SPEC §7): everyone signed in reads, admins write."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from rest_framework import mixins, permissions, serializers, viewsets

from teams import permissions as policy
from teams import services
from teams.models import ClosedDate, Role, Team, User


class AdminWritesOrReadOnly(permissions.BasePermission):
    """Reads for any signed-in user; writes for admins only (403 otherwise)."""

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return policy.can_manage_users_and_teams(request.user)


class TeamSerializer(serializers.ModelSerializer):
    work_start = serializers.TimeField(format="%H:%M", required=False)
    work_end = serializers.TimeField(format="%H:%M", required=False)
    break_start = serializers.TimeField(format="%H:%M", required=False, allow_null=True)
    break_end = serializers.TimeField(format="%H:%M", required=False, allow_null=True)
    work_days = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=7), required=False)
    closed_dates = serializers.SerializerMethodField()

    class Meta:
        model = Team
        fields = [
            "id",
            "name",
            "kind",
            "timezone",
            "work_days",
            "work_start",
            "work_end",
            "break_start",
            "break_end",
            "holiday_country",
            "currency",
            "closed_dates",
        ]
        # Uniqueness and the calendar rules are checked by the service (model validation).
        extra_kwargs = {"name": {"validators": []}}

    def get_closed_dates(self, team: Team) -> list[str]:
        return [closed.date.isoformat() for closed in team.closed_dates.all()]

    def create(self, validated_data: dict) -> Team:
        return services.team_create(**validated_data)

    def update(self, instance: Team, validated_data: dict) -> Team:
        return services.team_update(team=instance, **validated_data)


class TeamViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = TeamSerializer
    permission_classes = [AdminWritesOrReadOnly]
    filterset_fields = ["kind"]
    search_fields = ["name"]
    ordering_fields = ["name", "id"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            Team.objects.filter(policy.team_scope(self.request.user))
            .prefetch_related(Prefetch("closed_dates", queryset=ClosedDate.objects.order_by("date")))
            .order_by("name")
        )


class UserSerializer(serializers.ModelSerializer):
    password = serializers.CharField(write_only=True, required=False, style={"input_type": "password"})
    role = serializers.ChoiceField(choices=Role.choices, required=False)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "password",
            "email",
            "first_name",
            "last_name",
            "role",
            "team",
            "language",
            "is_active",
        ]
        # Username uniqueness is checked by the service (model validation) in the same breath as the rest.
        extra_kwargs = {"username": {"validators": []}}

    def validate(self, attrs: dict) -> dict:
        if self.instance is None and not attrs.get("password"):
            raise serializers.ValidationError({"password": [_("This field is required.")]})
        return attrs

    def create(self, validated_data: dict) -> User:
        validated_data.pop("is_active", None)
        return services.user_create(**validated_data)

    def update(self, instance: User, validated_data: dict) -> User:
        return services.user_update(user=instance, **validated_data)


class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = UserSerializer
    permission_classes = [AdminWritesOrReadOnly]
    filterset_fields = ["role", "team", "is_active"]
    search_fields = ["username", "first_name", "last_name", "email"]
    ordering_fields = ["username", "id"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return User.objects.filter(policy.user_scope(self.request.user)).order_by("username")
