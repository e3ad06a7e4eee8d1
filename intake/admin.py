from django.contrib import admin, messages
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from intake import services
from intake.models import InboundEvent, InboundHook, LeadForm, WhatsAppNumber


@admin.register(LeadForm)
class LeadFormAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "campaign", "language", "active", "created_at"]
    list_filter = ["active", "language", "team"]
    readonly_fields = ["key", "created_by", "created_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(InboundHook)
class InboundHookAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "kind", "active", "created_at"]
    list_filter = ["active", "kind", "team"]
    # The secret is shown once, when made or rotated (the app's page); not here.
    exclude = ["secret"]
    readonly_fields = ["key", "created_by", "created_at"]


@admin.register(WhatsAppNumber)
class WhatsAppNumberAdmin(admin.ModelAdmin):
    list_display = ["__str__", "phone_number_id", "team", "campaign", "active"]
    list_filter = ["active", "team"]


@admin.register(InboundEvent)
class InboundEventAdmin(admin.ModelAdmin):
    list_display = ["pk", "channel", "endpoint", "external_id", "state", "attempts", "received_at", "lead", "error"]
    list_filter = ["state", "channel"]
    list_select_related = ["lead"]
    search_fields = ["external_id", "error"]
    readonly_fields = [field.name for field in InboundEvent._meta.fields]
    actions = ["retry"]

    @admin.action(description=_("Process the selected failed events again now"))
    def retry(self, request, queryset) -> None:
        now = timezone.now()
        failed = queryset.filter(state=InboundEvent.State.FAILED).values_list("pk", flat=True)
        results = [services.event_process(event_id=pk, now=now) for pk in failed]
        done = sum(event.state != InboundEvent.State.FAILED for event in results)
        self.message_user(
            request,
            ngettext("%(done)d of %(n)d event processed.", "%(done)d of %(n)d events processed.", len(results))
            % {"done": done, "n": len(results)},
            messages.SUCCESS if done == len(results) else messages.WARNING,
        )

    def has_add_permission(self, request) -> bool:
        return False
