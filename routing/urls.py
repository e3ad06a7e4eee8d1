from django.urls import path

from routing import views

app_name = "routing"
urlpatterns = [
    path("", views.rule_list, name="rules"),
    path("new/", views.rule_form, name="rule_create"),
    path("auto/", views.auto_route, name="auto_route"),
    path("<int:pk>/edit/", views.rule_form, name="rule_edit"),
    path("<int:pk>/move/", views.rule_move, name="rule_move"),
    path("<int:pk>/switch/", views.rule_switch, name="rule_switch"),
    path("<int:pk>/delete/", views.rule_delete, name="rule_delete"),
]
