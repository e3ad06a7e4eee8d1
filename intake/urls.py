"""Public endpoints of intake (no login): lead forms, inbound hooks, WhatsApp."""

from django.urls import path

from intake import public

app_name = "intake"

urlpatterns = [
    path("f/<str:key>/", public.lead_form, name="form_public"),
    path("hooks/whatsapp/", public.whatsapp, name="whatsapp"),
    path("hooks/<str:key>/", public.inbound_hook, name="hook_public"),
]
