"""REST API of intake (SPEC §7, §13): lead forms and inbound hooks for admins, marketing and
sales managers (their team's), WhatsApp numbers for admins."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import BasePermission, IsAuthenticated

from intake import selectors, services
from intake.models import FormField, InboundHook, Language, LeadForm, WhatsAppNumber
from leads.models import Campaign, Source
from teams import permissions
from teams.models import Team

SALES_TEAMS = Team.objects.filter(kind=Team.Kind.SALES)


class _EndpointSerializer(serializers.ModelSerializer):
    team = serializers.PrimaryKeyRelatedField(queryset=SALES_TEAMS, required=False)
    campaign = serializers.PrimaryKeyRelatedField(queryset=Campaign.objects.all(), required=False, allow_null=True)
    source = serializers.ChoiceField(choices=Source.choices, required=False)
    url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:
        return self.context["request"].build_absolute_uri(reverse(self.url_name, args=[obj.key]))


class LeadFormSerializer(_EndpointSerializer):
    url_name = "intake:form_public"
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    fields = serializers.ListField(child=serializers.ChoiceField(choices=FormField.choices), required=False)
    required = serializers.ListField(child=serializers.ChoiceField(choices=FormField.choices), required=False)
    allowed_origins = serializers.ListField(child=serializers.CharField(max_length=200), required=False)
    leads = serializers.IntegerField(source="done_count", read_only=True, default=0)
    inquiries = serializers.IntegerField(source="inquiry_count", read_only=True, default=0)
    spam = serializers.IntegerField(source="spam_count", read_only=True, default=0)

    class Meta:
        model = LeadForm
        fields = [
            "id",
            "name",
            "team",
            "campaign",
            "source",
            "language",
            "fields",
            "required",
            "consent_text",
            "redirect_url",
            "allowed_origins",
            "active",
            "key",
            "url",
            "leads",
            "inquiries",
            "spam",
            "created_at",
        ]
        read_only_fields = ["key", "created_at"]

    def create(self, validated_data: dict) -> LeadForm:
        return services.lead_form_create(by=self.context["request"].user, **validated_data)

    def update(self, form: LeadForm, validated_data: dict) -> LeadForm:
        return services.lead_form_update(form=form, by=self.context["request"].user, **validated_data)


class InboundHookSerializer(_EndpointSerializer):
    url_name = "intake:hook_public"
    kind = serializers.ChoiceField(choices=InboundHook.Kind.choices, required=False)
    field_map = serializers.DictField(child=serializers.CharField(max_length=200), required=False)
    secret = serializers.SerializerMethodField(
        help_text=_(
            "Signs a JSON hook's bodies (X-Selaras-Signature); Google Ads' key. Only in the answer to the POST "
            "that made the hook."
        )
    )
    leads = serializers.IntegerField(source="done_count", read_only=True, default=0)
    inquiries = serializers.IntegerField(source="inquiry_count", read_only=True, default=0)
    failed = serializers.IntegerField(source="failed_count", read_only=True, default=0)

    class Meta:
        model = InboundHook
        fields = [
            "id",
            "name",
            "team",
            "campaign",
            "source",
            "kind",
            "field_map",
            "active",
            "key",
            "url",
            "secret",
            "leads",
            "inquiries",
            "failed",
            "created_at",
        ]
        read_only_fields = ["key", "created_at"]

    def get_secret(self, hook: InboundHook) -> str | None:
        return getattr(hook, "new_secret", None)

    def create(self, validated_data: dict) -> InboundHook:
        hook, secret = services.inbound_hook_create(by=self.context["request"].user, **validated_data)
        hook.new_secret = secret
        return hook

    def update(self, hook: InboundHook, validated_data: dict) -> InboundHook:
        return services.inbound_hook_update(hook=hook, by=self.context["request"].user, **validated_data)


class WhatsAppNumberSerializer(serializers.ModelSerializer):
    team = serializers.PrimaryKeyRelatedField(queryset=SALES_TEAMS)
    campaign = serializers.PrimaryKeyRelatedField(queryset=Campaign.objects.all(), required=False, allow_null=True)

    class Meta:
        model = WhatsAppNumber
        fields = ["id", "phone_number_id", "name", "team", "campaign", "active", "created_at"]
        read_only_fields = ["created_at"]
        validators = []  # the phone number ID's uniqueness is the model's, checked by the service

    def create(self, validated_data: dict) -> WhatsAppNumber:
        return services.whatsapp_number_create(by=self.context["request"].user, **validated_data)

    def update(self, number: WhatsAppNumber, validated_data: dict) -> WhatsAppNumber:
        return services.whatsapp_number_update(number=number, by=self.context["request"].user, **validated_data)


class IntakeManagers(BasePermission):
    """Lead forms and hooks: admins, marketing, and sales managers (§1); others hear 403."""

    def has_permission(self, request, view) -> bool:
        return permissions.can_manage_intake(request.user)


class WhatsAppAdmins(BasePermission):
    def has_permission(self, request, view) -> bool:
        return permissions.can_manage_whatsapp_numbers(request.user)


class _EndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [IsAuthenticated, IntakeManagers]
    filterset_fields = ["team", "campaign", "active"]
    search_fields = ["name"]
    ordering_fields = ["name", "created_at", "id"]
    http_method_names = ["get", "post", "patch", "head", "options"]


class LeadFormViewSet(_EndpointViewSet):
    """Hosted lead forms (SPEC §13): the public page and post at `url`."""

    serializer_class = LeadFormSerializer

    def get_queryset(self):
        return selectors.lead_form_list(user=self.request.user).order_by("name", "id")


class InboundHookViewSet(_EndpointViewSet):
    """Inbound hooks (SPEC §13): `json` (signed, with a field map) or `google_ads`."""

    serializer_class = InboundHookSerializer
    filterset_fields = ["team", "campaign", "active", "kind"]

    def get_queryset(self):
        return selectors.inbound_hook_list(user=self.request.user).order_by("name", "id")


class WhatsAppNumberViewSet(_EndpointViewSet):
    """WhatsApp Business numbers (their Cloud API phone_number_id) and the teams their chats go to (admins)."""

    serializer_class = WhatsAppNumberSerializer
    permission_classes = [IsAuthenticated, WhatsAppAdmins]
    search_fields = ["name", "phone_number_id"]

    def get_queryset(self):
        return selectors.whatsapp_number_list(user=self.request.user).order_by("name", "phone_number_id")
