from django.urls import path

from mailcapture import views

app_name = "mailcapture"
urlpatterns = [
    path("", views.captured_mail, name="list"),
]
