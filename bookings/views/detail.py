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
from ..selectors import ZERO


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
    # Totals count what the school is charged: live lines at their price, cancelled lines at the cancellation
    # charge still due (net, with the VAT billing keeps on it), substituted lines not at all. Group totals are
    # sums of their lines and the overall totals sums of the groups, so they add up to the penny.
    groups = selectors.group_by_council(school=booking.school, entries=lines, amounts=selectors.booking_amounts_due)
    for group in groups:
        for line in group.items:
            charge = selectors.cancellation_charge_due(line)
            if any(charge):
                group.add_charge(net=charge[0], vat=charge[1], gross=charge[2])
    net, vat, gross = (sum((getattr(g, f) for g in groups), ZERO) for f in ("net", "vat", "gross"))
    charges_net, charges_gross = (sum((getattr(g, f) for g in groups), ZERO) for f in ("charges_net", "charges_gross"))
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
        "has_charges": bool(charges_gross),
        "lines_net": format_money(net - charges_net),
        "charges_net": format_money(charges_net),
    }
    return render(request, "bookings/booking_detail.html", context)
