"""Cancelling a booked place or subscription: the policy and what it will cost are shown before confirming.

The line is looked up through its booking's reference. Someone who may not see the booking gets 404; a member
of the school who may see it but not cancel it (a booker cancelling a colleague's booking) gets 403.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from catalogue.pricing import format_money
from portal.access import is_school_member

from ..models import BookingLine
from ..services import cancellations
from ..services.course_admin import is_course_staff


class CancelForm(forms.Form):
    reason = forms.CharField(required=False, max_length=500)


def _line_for(request, reference: str, line_id: int) -> BookingLine:
    line = (
        BookingLine.objects.select_related(
            "booking",
            "booking__school",
            "booking__booked_by",
            "service",
            "course_date",
            "course_date__venue",
            "council",
        )
        .filter(pk=line_id, booking__reference=reference)
        .first()
    )
    if line is None:
        raise Http404("No such booking.")
    user = request.user
    if not (is_school_member(user, line.booking.school) or is_course_staff(user, council_id=line.council_id)):
        raise Http404("No such booking.")
    if not cancellations.may_cancel_line(user, line):
        raise PermissionDenied("Only the school's approver or the person who booked can cancel this.")
    return line


@login_required
def cancel_line(request, reference: str, line_id: int):
    """Explain what cancelling costs under the service's policy; cancel on confirmation."""
    line = _line_for(request, reference, line_id)
    terms = cancellations.cancellation_terms(line=line)
    refusal = None
    if request.method == "POST":
        form = CancelForm(request.POST)
        form.is_valid()
        try:
            line = cancellations.cancel_line(line=line, by=request.user, reason=form.cleaned_data.get("reason", ""))
        except ValidationError as error:
            refusal = " ".join(error.messages)
        else:
            charge = line.cancellation_charge
            if charge:
                messages.success(request, f"Cancelled. {format_money(charge)} before VAT is still charged.")
            else:
                money_back = cancellations.money_back([line])
                messages.success(request, f"Cancelled. There is no charge.{' ' + money_back if money_back else ''}")
            return redirect("bookings:detail", reference=reference)
    else:
        refusal = cancellations.refusal_to_cancel(line, timezone.now())
    context = {
        "line": line,
        "booking": line.booking,
        "terms": terms,
        "charge": format_money(terms.charge),
        "refusal": refusal,
        "money_back": cancellations.money_back([line]) if terms.is_free else "",
        "delegate": getattr(line, "delegate", None),
    }
    status = 409 if refusal and request.method == "POST" else 200
    return render(request, "bookings/cancel_line.html", context, status=status)
