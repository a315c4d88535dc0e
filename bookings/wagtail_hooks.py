"""The council's course administration in Wagtail's admin (see ``bookings/views/course_admin.py``).

Wagtail requires its own admin access for these URLs; the views then narrow everything to the councils the
user administers courses for. The menu item shows only to those users.
"""

from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from .services.course_admin import course_staff_council_ids
from .views import course_admin

admin_urlpatterns = [
    path("", course_admin.CourseBookingsIndexView.as_view(), name="index"),
    path("dates/<int:pk>/", course_admin.CourseDateBookingsView.as_view(), name="course_date"),
    path("dates/<int:pk>/register/", course_admin.register_print, name="register_print"),
    path("lines/<int:line_id>/waive/", course_admin.WaiveChargeView.as_view(), name="waive_charge"),
]


@hooks.register("register_admin_urls")
def register_course_bookings_urls():
    return [path("course-bookings/", include((admin_urlpatterns, "bookings_admin"), namespace="bookings_admin"))]


class CourseBookingsMenuItem(MenuItem):
    def is_shown(self, request):
        reach = course_staff_council_ids(request.user)
        return reach is None or bool(reach)


@hooks.register("register_admin_menu_item")
def register_course_bookings_menu_item():
    return CourseBookingsMenuItem(
        "Course bookings", reverse("bookings_admin:index"), icon_name="group", name="course-bookings", order=160
    )
