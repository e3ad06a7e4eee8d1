from django.urls import path

from kpis import views

app_name = "kpis"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("kpis/", views.kpi_list, name="list"),
    path("kpis/new/", views.kpi_create, name="create"),
    path("kpis/targets/new/", views.target_create, name="target_create"),
    path("kpis/values/new/", views.measurement_create, name="measurement_create"),
    path("kpis/values/import/", views.measurement_import, name="measurement_import"),
    path("scorecards/", views.scorecards, name="scorecards"),
    path("insights/", views.insights_page, name="insights"),
]
