"""The portal app's own pages: the dashboard and school membership.

Everything here sits under /dashboard/, the signed-in part of the site ("Your account" in the header).
"""

from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("dashboard/", views.dashboard_view, name="dashboard"),
    path("dashboard/join-a-school/", views.school_search, name="school_search"),
    path("dashboard/join-a-school/<int:urn>/", views.school_join, name="school_join"),
    path("dashboard/join-requests/<int:pk>/", views.join_request_decide, name="join_request_decide"),
    path("dashboard/join-requests/<int:pk>/withdraw/", views.join_request_withdraw, name="join_request_withdraw"),
    path("dashboard/schools/<int:urn>/members/", views.school_members, name="school_members"),
    path(
        "dashboard/schools/<int:urn>/members/<int:membership_id>/",
        views.school_member_edit,
        name="school_member_edit",
    ),
    path(
        "dashboard/schools/<int:urn>/members/<int:membership_id>/remove/",
        views.school_member_remove,
        name="school_member_remove",
    ),
]
