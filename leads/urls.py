from django.urls import path

from leads import views, views_campaigns, views_disputes, views_import, views_taps

app_name = "leads"
urlpatterns = [
    path("", views.lead_list, name="list"),
    path("queue/", views.lead_queue, name="queue"),
    path("new/", views.lead_create, name="create"),
    path("export/", views.lead_export, name="export"),
    path("import/", views_import.lead_import, name="import"),
    path("import/<uuid:batch_id>/confirm/", views_import.lead_import_confirm, name="import_confirm"),
    path("bulk-assign/", views.lead_bulk_assign, name="bulk_assign"),
    path("<int:pk>/", views.lead_detail, name="detail"),
    path("<int:pk>/edit/", views.lead_edit, name="edit"),
    path("<int:pk>/touch/", views.lead_touch, name="touch"),
    path("<int:pk>/tap/<str:channel>/", views_taps.lead_tap, name="tap"),
    path("follow-ups/<int:pk>/undo/", views_taps.touch_undo, name="touch_undo"),
    path("follow-ups/<int:pk>/outcome/", views_taps.touch_outcome, name="touch_outcome"),
    path("follow-ups/export/", views.touch_export, name="touch_export"),
    path("<int:pk>/assign/", views.lead_assign, name="assign"),
    path("<int:pk>/claim/", views.lead_claim, name="claim"),
    path("<int:pk>/route/", views.lead_route, name="route"),
    path("<int:pk>/reject/", views.lead_reject, name="reject"),
    path("<int:pk>/status/", views.lead_status, name="status"),
    path("<int:pk>/dispute/", views_disputes.dispute_raise, name="dispute_raise"),
    path("rejections/", views_disputes.rejection_list, name="rejections"),
    path("disputes/", views_disputes.dispute_list, name="disputes"),
    path("disputes/<int:pk>/rule/", views_disputes.dispute_rule, name="dispute_rule"),
    path("campaigns/", views_campaigns.campaign_list, name="campaigns"),
    path("campaigns/new/", views_campaigns.campaign_form, name="campaign_create"),
    path("campaigns/<int:pk>/", views_campaigns.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", views_campaigns.campaign_form, name="campaign_edit"),
]
