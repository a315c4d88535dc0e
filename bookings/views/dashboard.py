"""The school dashboard's bookings sections: places offered from waiting lists, upcoming courses and their
delegates, subscriptions, past bookings, and the link to download your own data.

Registered with ``portal.dashboard`` when this module is imported (``bookings.receivers``, from
``BookingsConfig.ready``). Each section reads only the user's own schools (their memberships), so a
partnership administrator's dashboard does not list every school in the country. Sections sit between the
approvals (22) and "your schools" (30); the data link sits above the account links (90).
"""

from __future__ import annotations

from django.utils import timezone

from portal.access import school_memberships_for
from portal.dashboard import DashboardSection, register
from portal.models import SchoolRole

from .. import selectors
from ..services.substitutions import lines_user_may_substitute

SHOWN = 10


def _has_school(request) -> bool:
    return school_memberships_for(request.user).exists()


def waiting_list_section(request) -> dict | None:
    entries = list(selectors.waiting_entries_for(user=request.user)[:SHOWN])
    if not entries:
        return None
    now = timezone.now()
    for entry in entries:
        entry.is_live_offer = entry.status == "offered" and entry.offer_expires_at > now
    return {"entries": entries}


def upcoming_section(request) -> dict | None:
    if not _has_school(request):
        return None
    places = selectors.upcoming_places(user=request.user)
    count = places.count()
    shown = list(places[: SHOWN * 2])
    return {
        "places": shown,
        "count": count,
        "more": count > SHOWN * 2,
        "may_send": lines_user_may_substitute(request.user, shown),
    }


def subscriptions_section(request) -> dict | None:
    if not _has_school(request):
        return None
    rows = selectors.current_subscriptions(user=request.user)
    schools = [m.school for m in school_memberships_for(request.user).select_related("school").order_by("school__name")]
    approver_of = set(
        school_memberships_for(request.user, role=SchoolRole.APPROVER).values_list("school_id", flat=True)
    )
    return {"rows": rows, "schools": schools, "approver_of": approver_of}


def past_section(request) -> dict | None:
    if not _has_school(request):
        return None
    bookings = selectors.past_bookings(user=request.user, limit=SHOWN)
    return {"bookings": bookings} if bookings else None


def your_data_section(request) -> dict:
    return {}


for _section in (
    DashboardSection("waiting_lists", "bookings/dashboard/waiting_lists.html", waiting_list_section, order=24),
    DashboardSection("upcoming_courses", "bookings/dashboard/upcoming_courses.html", upcoming_section, order=25),
    DashboardSection("subscriptions", "bookings/dashboard/subscriptions.html", subscriptions_section, order=26),
    DashboardSection("past_bookings", "bookings/dashboard/past_bookings.html", past_section, order=27),
    DashboardSection("your_data", "bookings/dashboard/your_data.html", your_data_section, order=85),
):
    register(_section)
