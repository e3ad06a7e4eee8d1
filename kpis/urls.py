from django.urls import path

from kpis import views

app_name = "kpis"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("kpis/", views.kpi_list, name="list"),
    path("scorecards/", views.scorecards, name="scorecards"),
]
