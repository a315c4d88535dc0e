"""The approver's dashboard section: bookings waiting for their decision, and links to the schools' booking rules.

Registered with portal's dashboard from ``BookingsConfig.ready()`` (portal never imports bookings).
"""

from portal.dashboard import DashboardSection, register

from . import selectors

SHOWN = 10


def approvals_section(request) -> dict | None:
    from portal.access import school_memberships_for
    from portal.models import School, SchoolRole

    schools = list(
        School.objects.filter(
            pk__in=school_memberships_for(request.user, role=SchoolRole.APPROVER).values("school_id")
        ).order_by("name")
    )
    if not schools:
        return None
    waiting = selectors.bookings_awaiting_approval(user=request.user)
    count = waiting.count()
    bookings = list(waiting[:SHOWN])
    for booking in bookings:
        booking.total = selectors.booking_totals(booking.lines.all())[2]
    return {"bookings": bookings, "count": count, "more": count > SHOWN, "schools": schools}


register(DashboardSection("approvals", "bookings/dashboard/approvals.html", approvals_section, order=22))
