from django.urls import path

from teams import views

app_name = "teams"
urlpatterns = [
    path("", views.team_list, name="list"),
    path("mine/", views.team_mine, name="mine"),
    path("<int:pk>/", views.team_detail, name="detail"),
    path("<int:pk>/edit/", views.team_edit, name="edit"),
    path("<int:pk>/closed-dates/", views.closed_date_add, name="closed_date_add"),
    path("<int:pk>/closed-dates/<int:closed_pk>/delete/", views.closed_date_remove, name="closed_date_remove"),
]
