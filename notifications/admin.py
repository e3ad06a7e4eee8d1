from django.contrib import admin

from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "kind", "lead", "read_at"]
    list_filter = ["kind"]
    list_select_related = ["user", "lead"]
    raw_id_fields = ["user", "lead", "breach", "clock"]
    date_hierarchy = "created_at"
