"""Admin pages of the SLA engine: definitions, breaches, and e-mail deliveries (failures visible)."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from slas.models import Breach, Delivery, Sla


@admin.register(Sla)
class SlaAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "team", "is_active", "version"]
    list_filter = ["kind", "is_active", "team"]
    readonly_fields = ["version"]


@admin.register(Breach)
class BreachAdmin(SimpleHistoryAdmin):
    list_display = ["sla", "kind", "team", "responsible_user", "responsible_team", "due_at", "waived"]
    list_filter = ["kind", "waived", "team"]
    date_hierarchy = "due_at"
    list_select_related = ["sla", "team", "responsible_user", "responsible_team"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """E-mails sent, waiting and failed: a failed one shows its error and its next attempt."""

    list_display = ["kind", "recipient", "week_start", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["kind", "status"]
    search_fields = ["recipient__username", "recipient__email", "last_error"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    list_select_related = ["recipient"]
