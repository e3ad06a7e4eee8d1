from django.contrib import admin
from django.db import models

from webhooks.models import Webhook, WebhookDelivery


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["__str__", "url", "format", "active", "failing_since", "switched_off_at"]
    list_filter = ["active", "format"]
    # The secret is shown once, when made (the app's page); not here.
    exclude = ["secret"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ["failing_since", "switched_off_at", "created_by", "created_at"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["pk", "webhook", "event", "status", "attempts", "response_code", "created_at", "delivered_at"]
    list_filter = ["status", "event", "webhook"]
    list_select_related = ["webhook"]
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]
