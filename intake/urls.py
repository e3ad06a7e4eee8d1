"""Intake's public endpoints (no login: lead forms, inbound hooks, WhatsApp) and its pages."""

from django.urls import path

from intake import public, views

app_name = "intake"

urlpatterns = [
    path("f/<str:key>/", public.lead_form, name="form_public"),
    path("hooks/whatsapp/", public.whatsapp, name="whatsapp"),
    path("hooks/<str:key>/", public.inbound_hook, name="hook_public"),
    path("intake/", views.intake_overview, name="overview"),
    path("intake/forms/new/", views.lead_form_create, name="form_create"),
    path("intake/forms/<int:pk>/", views.lead_form_detail, name="form_detail"),
    path("intake/hooks/new/", views.inbound_hook_create, name="hook_create"),
    path("intake/hooks/<int:pk>/", views.inbound_hook_detail, name="hook_detail"),
    path("intake/hooks/<int:pk>/secret/", views.inbound_hook_rotate, name="hook_rotate"),
    path("intake/whatsapp/new/", views.whatsapp_number_create, name="whatsapp_create"),
    path("intake/whatsapp/<int:pk>/", views.whatsapp_number_detail, name="whatsapp_detail"),
    path("intake/failed/", views.failed_events, name="failed"),
    path("intake/failed/<int:pk>/retry/", views.event_retry, name="event_retry"),
]
