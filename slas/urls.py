from django.urls import path

from slas import views

app_name = "slas"
urlpatterns = [
    path("slas/", views.sla_list, name="list"),
    path("breaches/", views.breach_list, name="breaches"),
]
