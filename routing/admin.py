"""Admin pages for routing: rules read-only beside their own pages, decisions to look up."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from routing.models import Decision, Rule


@admin.register(Rule)
class RuleAdmin(SimpleHistoryAdmin):
    """Rules are written on the routing page (its service checks members and caps)."""

    list_display = ["name", "team", "position", "active", "method", "cap_per_day", "cap_open"]
    list_filter = ["team", "active", "method"]
    search_fields = ["name"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["lead", "created_at", "trigger", "step", "rule_name", "owner"]
    list_filter = ["trigger", "step"]
    list_select_related = ["lead", "owner"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Decision._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
