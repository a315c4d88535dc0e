"""The portal app's own pages: the dashboard and school membership."""

from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
]
