"""The approver's side: bookings waiting for a decision, approve or decline, and the school's approval rules.

A booking of another school is a 404 (it is not looked up outside the user's schools); a member who is not
the approver gets 403.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from portal.access import is_school_approver, school_member_required
from portal.forms_govuk import GovukFormMixin, GovukRadioSelect
from portal.models import SchoolRole

from .. import selectors
from ..models import ApprovalPolicy
from ..services import approvals
from .conflicts import CONFLICTS, conflict_message


def _booking_to_decide(request, reference: str):
    booking = selectors.booking_for_school_user(user=request.user, reference=reference)
    if booking is None:
        raise Http404("No such booking.")
    if not is_school_approver(request.user, booking.school):
        raise PermissionDenied("Only the school's approver can decide bookings.")
    return booking


@login_required
def approvals_list(request):
    """Bookings waiting for this user's decision, oldest first."""
    bookings = list(selectors.bookings_awaiting_approval(user=request.user))
    for booking in bookings:
        booking.total = selectors.booking_totals(booking.lines.all())[2]
    return render(request, "bookings/approval_list.html", {"bookings": bookings})


@login_required
@require_POST
def approve(request, reference: str):
    booking = _booking_to_decide(request, reference)
    try:
        booking = approvals.approve_booking(booking=booking, approver=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("bookings:detail", reference=reference)
    except CONFLICTS as error:
        messages.error(request, conflict_message(error))
        return redirect("bookings:detail", reference=reference)
    messages.success(
        request,
        f"You approved booking {booking.reference}. "
        + ("It now waits for the card payment." if booking.status == "awaiting_payment" else "It is confirmed.")
        + " We have emailed the booker.",
    )
    return redirect("bookings:approvals")


class DeclineForm(GovukFormMixin, forms.Form):
    reason = forms.CharField(
        label="Why are you declining this booking?",
        help_text="The booker reads this in the email we send them.",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Say why you are declining the booking, so the booker knows."},
    )


@login_required
def decline(request, reference: str):
    booking = _booking_to_decide(request, reference)
    form = DeclineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            approvals.decline_booking(booking=booking, approver=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error)
        except CONFLICTS as error:
            form.add_error(None, conflict_message(error))
        else:
            messages.success(request, f"You declined booking {booking.reference}. We have emailed the booker.")
            return redirect("bookings:approvals")
    return render(request, "bookings/approval_decline.html", {"booking": booking, "form": form})


class ApprovalSettingsForm(GovukFormMixin, forms.Form):
    approval_policy = forms.ChoiceField(
        label="When do bookings by bookers need your approval?", choices=ApprovalPolicy.choices, widget=GovukRadioSelect
    )
    approval_threshold = forms.DecimalField(
        label="Approval needed above (£, before VAT)",
        required=False,
        min_value=Decimal("0"),
        max_digits=10,
        decimal_places=2,
        help_text="Only used when bookings above an amount need approval.",
        error_messages={
            "invalid": "Enter the amount as a number, like 500 or 499.99",
            "min_value": "Enter an amount of £0 or more",
            "max_digits": "Enter an amount less than £100,000,000",
            "max_whole_digits": "Enter an amount less than £100,000,000",
            "max_decimal_places": "Enter the amount in pounds and pence, like 500 or 499.99",
        },
        widget=forms.TextInput(attrs={"class": "govuk-input--width-10", "inputmode": "decimal"}),
    )
    requires_purchase_order = forms.BooleanField(
        label="Every booking must give a purchase order number", required=False
    )

    def clean(self):
        data = super().clean()
        # One message per problem: an amount that did not parse already has its own error.
        if (
            data.get("approval_policy") == ApprovalPolicy.ABOVE_AMOUNT
            and data.get("approval_threshold") is None
            and "approval_threshold" not in self.errors
        ):
            self.add_error("approval_threshold", "Enter the amount above which bookings need approval.")
        return data


@school_member_required(SchoolRole.APPROVER)
def approval_settings(request, school):
    """The approver sets the school's approval policy and the purchase-order rule."""
    current = approvals.settings_for(school=school)
    initial = {
        "approval_policy": current.approval_policy,
        "approval_threshold": current.approval_threshold,
        "requires_purchase_order": school.requires_purchase_order,
    }
    form = ApprovalSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            approvals.update_approval_settings(
                school=school,
                user=request.user,
                policy=form.cleaned_data["approval_policy"],
                threshold=form.cleaned_data["approval_threshold"],
                requires_purchase_order=form.cleaned_data["requires_purchase_order"],
            )
        except ValidationError as error:
            for field, errors in getattr(error, "error_dict", {None: error.error_list}).items():
                form.add_error(field if field in form.fields else None, errors)
        except CONFLICTS as error:
            form.add_error(None, conflict_message(error))
        else:
            messages.success(request, f"Booking rules for {school.name} saved.")
            return redirect("bookings:approval_settings", urn=school.urn)
    return render(request, "bookings/approval_settings.html", {"school": school, "form": form})
