from django.urls import path

from slas import views

app_name = "slas"
urlpatterns = [
    path("slas/", views.sla_list, name="list"),
    path("slas/new/<str:kind>/", views.sla_create, name="create"),
    path("slas/<int:pk>/", views.sla_detail, name="detail"),
    path("slas/<int:pk>/edit/", views.sla_edit, name="edit"),
    path("slas/<int:pk>/active/", views.sla_toggle, name="toggle"),
    path("breaches/", views.breach_list, name="breaches"),
    path("breaches/export/", views.breach_export, name="breach_export"),
    path("breaches/<int:pk>/acknowledge/", views.breach_acknowledge, name="acknowledge"),
    path("breaches/<int:pk>/waive/", views.breach_waive, name="waive"),
]
