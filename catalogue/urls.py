"""Catalogue pages that are not Wagtail pages. Joined into the root URLs before Wagtail's catch-all."""

from django.urls import path

from catalogue import views

app_name = "catalogue"

urlpatterns = [
    # Under /services/ so the "Services" navigation item stays current; no council's slug is "whats-on".
    path("services/whats-on/", views.whats_on, name="whats_on"),
    # The index page itself (a Wagtail page) through a whole-page cache for anonymous visitors.
    path("services/", views.services_index, name="services_index"),
]
