from django.contrib import admin

from mailcapture.models import CapturedMail, Mailbox


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = ["address", "uidvalidity", "last_uid", "checked_at", "read_at", "error"]
    readonly_fields = ["address", "uidvalidity", "last_uid", "leased_until", "checked_at", "read_at", "error"]


@admin.register(CapturedMail)
class CapturedMailAdmin(admin.ModelAdmin):
    list_display = ["read_at", "sender", "subject", "state", "reason", "touches"]
    list_filter = ["state", "reason"]
    search_fields = ["sender", "subject", "message_id"]
    readonly_fields = [field.name for field in CapturedMail._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
