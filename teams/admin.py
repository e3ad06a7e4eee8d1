"""Admin pages for teams, users and memberships. Writes go through the services."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from teams import services
from teams.models import ClosedDate, Membership, Team, User


class ClosedDateInline(admin.TabularInline):
    model = ClosedDate
    extra = 1


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "timezone", "work_start", "work_end", "holiday_country"]
    list_filter = ["kind", "timezone"]
    search_fields = ["name"]
    inlines = [ClosedDateInline]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["team", "role", "started_on", "ended_on"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = _("Membership history")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin, SimpleHistoryAdmin):
    list_display = ["username", "get_full_name", "email", "role", "team", "is_active"]
    list_filter = ["role", "team", "is_active", "is_superuser"]
    list_select_related = ["team"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Selaras"), {"fields": ("role", "team", "language")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Selaras"), {"fields": ("email", "role", "team")}),
    )
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change) -> None:
        """Keep the membership history in step with role, team and activity changes."""
        super().save_model(request, obj, form, change)
        services.membership_sync(user=obj)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role", "started_on", "ended_on"]
    list_filter = ["team", "role"]
    list_select_related = ["user", "team"]
    date_hierarchy = "started_on"
