"""REST API of routing (SPEC §7, §11): `routing-rules/`, and the decisions' serializer that
`leads/{id}/route/` and `leads/{id}/routing/` answer with."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions, serializers, viewsets

from leads.models import Campaign, Source
from routing import selectors, services
from routing.models import Decision, Method, Rule, Skip
from teams import permissions as policy
from teams.models import Team, User


class MemberSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    weight = serializers.IntegerField(min_value=1, max_value=1000, default=1)


class RuleSerializer(serializers.ModelSerializer):
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.filter(kind=Team.Kind.SALES),
        required=False,
        help_text=_("Default: a sales manager's own team."),
    )
    sources = serializers.ListField(child=serializers.ChoiceField(choices=Source.choices), required=False)
    campaigns = serializers.PrimaryKeyRelatedField(many=True, queryset=Campaign.objects.all(), required=False)
    email_domains = serializers.ListField(child=serializers.CharField(max_length=253), required=False)
    method = serializers.ChoiceField(choices=Method.choices, required=False)
    members = MemberSerializer(many=True)

    class Meta:
        model = Rule
        fields = ["id", "team", "position", *services.RULE_FIELDS]
        read_only_fields = ["position"]
        validators = []  # the name's uniqueness per team is the service's

    def to_representation(self, rule: Rule) -> dict:
        data = super().to_representation(rule)
        data["members"] = [{"user": member.user_id, "weight": member.weight} for member in rule.members.all()]
        return data

    def create(self, validated_data: dict) -> Rule:
        return services.rule_create(by=self.context["request"].user, **validated_data)

    def update(self, rule: Rule, validated_data: dict) -> Rule:
        team = validated_data.pop("team", None)
        if team is not None and team.pk != rule.team_id:
            raise serializers.ValidationError({"team": [_("A rule stays with its team.")]})
        return services.rule_update(rule=rule, by=self.context["request"].user, **validated_data)


class RuleWrites(permissions.BasePermission):
    """Writing rules is for admins and sales managers (SPEC §1); the team a new rule names is
    judged by the service, a rule found by the scoped lookup here."""

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or view.detail or policy.can_manage_routing(request.user)

    def has_object_permission(self, request, view, rule: Rule) -> bool:
        return request.method in permissions.SAFE_METHODS or policy.can_manage_routing(request.user, rule.team)


class RuleViewSet(viewsets.ModelViewSet):
    """A sales team's routing rules, in the order they are tried (SPEC §11)."""

    serializer_class = RuleSerializer
    permission_classes = [permissions.IsAuthenticated, RuleWrites]
    filterset_fields = ["team", "active", "method"]
    search_fields = ["name"]
    ordering_fields = ["position", "name"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.rule_list(user=self.request.user).prefetch_related("members", "campaigns")

    def perform_destroy(self, rule: Rule) -> None:
        services.rule_delete(rule=rule, by=self.request.user)


class SkippedSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=Skip.choices)


class DecisionSerializer(serializers.ModelSerializer):
    skipped = SkippedSerializer(many=True, help_text=_("Candidates passed over, with the reason."))

    class Meta:
        model = Decision
        fields = ["id", "created_at", "trigger", "step", "rule", "rule_name", "method", "owner", "skipped"]
