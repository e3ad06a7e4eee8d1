from django.urls import path

from teams import views, views_availability

app_name = "teams"
urlpatterns = [
    path("", views.team_list, name="list"),
    path("mine/", views.team_mine, name="mine"),
    path("<int:pk>/", views.team_detail, name="detail"),
    path("<int:pk>/edit/", views.team_edit, name="edit"),
    path("<int:pk>/closed-dates/", views.closed_date_add, name="closed_date_add"),
    path("<int:pk>/closed-dates/<int:closed_pk>/delete/", views.closed_date_remove, name="closed_date_remove"),
    path("time-off/", views_availability.time_off, name="time_off"),
    path("time-off/<int:pk>/edit/", views_availability.time_off_edit, name="time_off_edit"),
    path("time-off/<int:pk>/delete/", views_availability.time_off_remove, name="time_off_remove"),
    path("away/", views_availability.away_set, name="away_set"),
]
