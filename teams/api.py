"""REST API for teams and users (SPEC §7): everyone signed in reads, admins write.

Also the token endpoints: obtain with a password, rotate and revoke one's own.
"""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from salesmarketing.limits import INSTANT_VALIDATORS
from salesmarketing.ratelimit import ScopedRateThrottle
from teams import permissions as policy
from teams import selectors, services, tokens
from teams.models import ClosedDate, Role, Team, TimeOff, User


class AdminWritesOrReadOnly(permissions.BasePermission):
    """Reads for any signed-in user; writes for admins only (403 otherwise).

    A write to one object is judged after the scoped lookup, so that an object outside the
    user's scope answers 404 as it does to a read (SPEC §1), and only a visible one 403."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS or getattr(view, "detail", False):
            return True
        return policy.can_manage_users_and_teams(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in permissions.SAFE_METHODS or policy.can_manage_users_and_teams(request.user)


@extend_schema_field({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$", "example": "09:00"})
class HourMinuteField(serializers.TimeField):
    """A local time of day as "HH:MM" (SPEC §2); the schema says so, rather than ISO's "HH:MM:SS"."""

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%H:%M", **kwargs)


class TeamSerializer(serializers.ModelSerializer):
    work_start = HourMinuteField(required=False)
    work_end = HourMinuteField(required=False)
    break_start = HourMinuteField(required=False, allow_null=True)
    break_end = HourMinuteField(required=False, allow_null=True)
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
            "auto_route",
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
    away = serializers.BooleanField(required=False, help_text=gettext_lazy("Away now: routing passes the person over."))

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
            "away",
        ]
        # Username uniqueness is checked by the service (model validation) in the same breath as the rest.
        extra_kwargs = {"username": {"validators": []}}

    def validate(self, attrs: dict) -> dict:
        if self.instance is None and not attrs.get("password"):
            raise serializers.ValidationError({"password": [_("This field is required.")]})
        return attrs

    def create(self, validated_data: dict) -> User:
        validated_data.pop("is_active", None)
        away = validated_data.pop("away", False)
        user = services.user_create(**validated_data)
        return services.user_away_set(user=user, by=self.context["request"].user, away=away) if away else user

    def update(self, instance: User, validated_data: dict) -> User:
        by = self.context["request"].user
        away = validated_data.pop("away", None)
        if validated_data:
            instance = services.user_update(user=instance, **validated_data)
        if away is not None:
            instance = services.user_away_set(user=instance, by=by, away=away)
        return instance


class UserWrites(AdminWritesOrReadOnly):
    """Admins write users; anyone may PATCH `away` alone for whom the policy lets them set
    it (themselves; a sales manager their team), SPEC §1 and §11."""

    def has_object_permission(self, request, view, obj) -> bool:
        if super().has_object_permission(request, view, obj):
            return True
        only_away = request.method == "PATCH" and isinstance(request.data, dict) and set(request.data) == {"away"}
        return only_away and policy.can_manage_availability(request.user, obj)


class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = UserSerializer
    permission_classes = [UserWrites]
    filterset_fields = ["role", "team", "is_active"]
    search_fields = ["username", "first_name", "last_name", "email"]
    ordering_fields = ["username", "id"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return User.objects.filter(policy.user_scope(self.request.user)).order_by("username")


class TimeOffSerializer(serializers.ModelSerializer):
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, help_text=gettext_lazy("Whose time off; default: yours.")
    )
    start = serializers.DateTimeField(validators=INSTANT_VALIDATORS)
    end = serializers.DateTimeField(validators=INSTANT_VALIDATORS)

    class Meta:
        model = TimeOff
        fields = ["id", "user", "start", "end", "reason", "created_at"]
        read_only_fields = ["created_at"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:  # another team's people are not found; a teammate's is the service's 403
            self.fields["user"].queryset = User.objects.filter(policy.user_scope(request.user))

    def create(self, validated_data: dict) -> TimeOff:
        by = self.context["request"].user
        return services.time_off_add(by=by, user=validated_data.pop("user", by), **validated_data)

    def update(self, instance: TimeOff, validated_data: dict) -> TimeOff:
        if "user" in validated_data and validated_data.pop("user") != instance.user:
            raise serializers.ValidationError({"user": [_("Time off stays with its person; enter it again instead.")]})
        return services.time_off_change(time_off=instance, by=self.context["request"].user, **validated_data)


class TimeOffFilter(django_filters.FilterSet):
    ends_after = django_filters.IsoDateTimeFilter(
        field_name="end", lookup_expr="gt", validators=INSTANT_VALIDATORS, label=gettext_lazy("Ends after")
    )
    starts_before = django_filters.IsoDateTimeFilter(
        field_name="start", lookup_expr="lt", validators=INSTANT_VALIDATORS, label=gettext_lazy("Starts before")
    )

    class Meta:
        model = TimeOff
        fields = ["user", "ends_after", "starts_before"]


class TimeOffWrites(permissions.BasePermission):
    """Changing or removing a stretch of time off is for whom the policy lets set it."""

    def has_object_permission(self, request, view, time_off: TimeOff) -> bool:
        return request.method in permissions.SAFE_METHODS or policy.can_manage_availability(request.user, time_off.user)


class TimeOffViewSet(viewsets.ModelViewSet):
    """Time off (SPEC §11): one's own; a sales manager their team's; admins everyone's.
    A day off is local midnight to midnight in the team's zone, sent as two instants."""

    serializer_class = TimeOffSerializer
    permission_classes = [permissions.IsAuthenticated, TimeOffWrites]
    filterset_class = TimeOffFilter
    search_fields = []
    ordering_fields = ["start", "end"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.time_off_list(user=self.request.user).order_by("start", "pk")

    def perform_destroy(self, instance: TimeOff) -> None:
        services.time_off_remove(time_off=instance, by=self.request.user)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True, help_text=gettext_lazy("Send it as `Authorization: Token <key>`."))


class TokenView(ObtainAuthToken):
    """POST username and password, get {"token": …} (throttled, and locked out by django-axes);
    DELETE revokes the caller's own token."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth_token"

    def get_permissions(self):
        # Obtaining a token is how a script signs in; revoking one needs a signed-in caller.
        if self.request.method == "DELETE":
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    @extend_schema(
        summary="Obtain your token",
        description="Username and password in, the user's token out (created on first use). "
        "Throttled, and locked out after repeated failures.",
        request=AuthTokenSerializer,
        responses={200: TokenSerializer},
        auth=[],
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        return super().post(request, *args, **kwargs)

    @extend_schema(
        summary="Revoke your token",
        description="Deletes the caller's own token: calls with its key then answer 401. "
        "Authenticated by session or by the token itself; answers 204 even when there was none.",
        request=None,
        responses={204: None},
    )
    def delete(self, request: Request) -> Response:
        tokens.token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRotateView(APIView):
    """POST: replace the caller's key; the old one stops working at once."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="Rotate your token",
        description="Replaces the caller's token with a new key (creating one if there was none). "
        "Authenticated by session or by the current token, which stops working at once.",
        request=None,
        responses={200: TokenSerializer},
    )
    def post(self, request: Request) -> Response:
        token = tokens.token_rotate(user=request.user)
        response = Response(TokenSerializer({"token": token.key}).data)
        response["Cache-Control"] = "no-store"
        return response
