"""Admin pages of the SLA engine: definitions, breaches, and e-mail deliveries (failures visible)."""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from slas.models import Breach, Delivery, Sla
from slas.services import notifications


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

    list_display = ["kind", "recipient", "week_start", "status", "attempts", "next_attempt_at", "sent_at", "error"]
    list_filter = ["kind", "status"]
    search_fields = ["recipient__username", "recipient__email", "last_error"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    list_select_related = ["recipient"]

    actions = ["retry_now"]

    @admin.action(description=_("Retry the selected failed e-mails now"))
    def retry_now(self, request, queryset) -> None:
        """After the mail server is mended: failed rows, even past their last attempt, go out
        on the next run. Sent and in-flight rows are left alone, so nothing is sent twice."""
        count = notifications.deliveries_retry(deliveries=queryset, now=timezone.now())
        self.message_user(request, ngettext("%d e-mail will be retried.", "%d e-mails will be retried.", count) % count)

    @admin.display(description=_("last error"))
    def error(self, delivery: Delivery) -> str:
        return Truncator(delivery.last_error).chars(80)
