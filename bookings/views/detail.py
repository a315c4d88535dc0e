"""One booking, with its lines and audit trail: for the school's members, and for council staff their lines only.

Anyone else gets 404, so a booking reference reveals nothing to someone who may not see it.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from catalogue.pricing import format_money
from portal.access import is_partnership_admin, is_school_approver, school_role
from portal.models import CouncilMembership, CouncilRole, SchoolRole

from .. import selectors
from ..models import BookingStatus, LineStatus


@login_required
def booking_detail(request, reference: str):
    booking = selectors.booking_for_school_user(user=request.user, reference=reference)
    if booking is not None:
        lines = list(booking.lines.all())
        trail = selectors.audit_trail(booking=booking)
        viewer = "school"
    else:
        found = selectors.booking_for_council_user(user=request.user, reference=reference)
        if found is None:
            raise Http404("No such booking.")
        booking, lines = found
        trail = selectors.audit_trail(booking=booking, line_ids=[line.pk for line in lines])
        viewer = "council"
    # Worked out once for the page, not per line. Access and dietary needs: the school's own members and the
    # providing council's course admins only (not council editors or finance, nor partnership admins; the
    # privacy notice says so). Cancelling: as cancellations.may_cancel_line decides it.
    user = request.user
    role = school_role(user, booking.school)
    course_admin_councils = set(
        CouncilMembership.objects.filter(user=user, role=CouncilRole.COURSE_ADMIN).values_list("council_id", flat=True)
    )
    may_cancel_any = (
        role == SchoolRole.APPROVER
        or (booking.booked_by_id == user.pk and role is not None)
        or is_partnership_admin(user)
    )
    for line in lines:
        course_admin = line.council_id in course_admin_councils
        line.show_needs = (viewer == "school" and role is not None) or course_admin
        line.can_cancel = line.status == LineStatus.BOOKED and (may_cancel_any or course_admin)
    live = [line for line in lines if line.status not in (LineStatus.CANCELLED, LineStatus.SUBSTITUTED)]
    net, vat, gross = selectors.booking_totals(live)
    groups = selectors.group_by_council(
        school=booking.school, entries=lines, amounts=lambda line: (line.net, line.vat, line.gross)
    )
    context = {
        "booking": booking,
        "groups": groups,
        "trail": trail,
        "viewer": viewer,
        "can_decide": viewer == "school"
        and booking.status == BookingStatus.AWAITING_APPROVAL
        and is_school_approver(request.user, booking.school),
        "net": format_money(net),
        "vat": format_money(vat),
        "gross": format_money(gross),
    }
    return render(request, "bookings/booking_detail.html", context)
