"""Checkout: hold the basket's places, review them by council (with price changes), choose PO and routes, submit.

Only the person who started a checkout sees it (anyone else gets 404). Problems from the services come
back as ``ValidationError`` (shown in the error summary) or ``CheckoutUnavailable`` (each item that cannot
be had, with the waiting list offered for full dates).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalogue.pricing import format_money
from portal.forms_govuk import GovukFormMixin, GovukRadioSelect

from .. import selectors
from ..models import Basket, Booking, BookingStatus, LineStatus, PaymentRoute
from ..services import basket as basket_service
from ..services import checkout
from .basket import SCHOOL_PARAM, chosen_school, user_schools
from .conflicts import CONFLICTS, conflict_message


@login_required
@require_POST
def start(request):
    """Hold the places of the basket of one of the user's schools and go to the review page."""
    schools = user_schools(request.user)
    if not schools:
        raise Http404
    school = chosen_school(request, schools)
    # start_checkout checks the membership; no basket yet simply means an empty one.
    basket = Basket.objects.filter(school=school, owner=request.user).first() or Basket(
        school=school, owner=request.user
    )
    basket.school = school
    try:
        if basket.pk is None:
            raise ValidationError("Your basket is empty.")
        booking = checkout.start_checkout(basket=basket, user=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect(f"{reverse('bookings:basket')}?{SCHOOL_PARAM}={school.urn}")
    except checkout.CheckoutUnavailable as unavailable:
        context = {"school": school, "problems": unavailable.problems}
        return render(request, "bookings/checkout_unavailable.html", context, status=409)
    except CONFLICTS as error:
        messages.error(request, conflict_message(error))
        return redirect(f"{reverse('bookings:basket')}?{SCHOOL_PARAM}={school.urn}")
    return redirect("bookings:checkout", reference=booking.reference)


class CheckoutForm(GovukFormMixin, forms.Form):
    po_number = forms.CharField(
        label="Purchase order number",
        max_length=40,
        required=False,
        error_messages={
            "required": "Enter your school's purchase order number",
            "max_length": "The purchase order number must be 40 characters or fewer",
        },
    )

    def __init__(self, *args, booking: Booking, groups, **kwargs):
        super().__init__(*args, **kwargs)
        school = booking.school
        self.fields["po_number"].required = school.requires_purchase_order
        self.fields["po_number"].help_text = (
            "Your school asks for a purchase order number on every booking."
            if school.requires_purchase_order
            else "Optional. It is printed on the invoices."
        )
        self.route_fields = []
        for group in groups:
            name = f"route_{group.council.pk}"
            offers_recharge = any(code == PaymentRoute.RECHARGE for code, _ in group.routes)
            self.fields[name] = forms.ChoiceField(
                label=f"How will you pay {group.council.short_name}?",
                choices=group.routes,
                widget=GovukRadioSelect,
                initial=group.routes[0][0] if len(group.routes) == 1 else None,
                help_text="An internal recharge moves the money inside the council: no VAT is added to it."
                if offers_recharge
                else "",
                error_messages={"required": f"Choose how to pay {group.council.short_name}."},
            )
            group.route_field = name
            self.route_fields.append(name)

    def routes(self) -> dict[int, str]:
        return {int(name.split("_", 1)[1]): self.cleaned_data.get(name, "") for name in self.route_fields}


def _own_draft(request, reference: str) -> Booking:
    booking = Booking.objects.filter(reference=reference, booked_by=request.user).select_related("school").first()
    if booking is None:
        raise Http404("No such checkout of yours.")
    return booking


def _groups(booking: Booking):
    lines = list(
        booking.lines.filter(status=LineStatus.HELD)
        .select_related("council", "service", "course_date", "course_date__venue", "delegate")
        .order_by("id")
    )
    for line in lines:
        net_changed = line.basket_net is not None and line.basket_net != line.net
        gross_changed = line.basket_gross is not None and line.basket_gross != line.gross
        line.price_changed = net_changed or gross_changed
        if line.price_changed:
            line.change_message = basket_service.price_change_message(
                was=line.basket_net, now=line.net, was_gross=line.basket_gross, now_gross=line.gross
            )
    groups = selectors.group_by_council(
        school=booking.school, entries=lines, amounts=lambda line: (line.net, line.vat, line.gross)
    )
    return lines, groups


@login_required
def review(request, reference: str):
    """Review the held booking by council, then submit it with the PO number and the routes."""
    booking = _own_draft(request, reference)
    if booking.status != BookingStatus.DRAFT:
        return redirect("bookings:detail", reference=booking.reference)
    lines, groups = _groups(booking)
    form = CheckoutForm(request.POST or None, booking=booking, groups=groups)
    if request.method == "POST" and form.is_valid():
        try:
            booking = checkout.submit_checkout(
                booking=booking, user=request.user, po_number=form.cleaned_data["po_number"], routes=form.routes()
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error)
        except CONFLICTS as error:
            form.add_error(None, conflict_message(error))
        else:
            return redirect("bookings:confirmation", reference=booking.reference)
    net, vat, gross = selectors.booking_totals(lines)
    context = {
        "booking": booking,
        "groups": groups,
        "form": form,
        "changed": [line for line in lines if line.price_changed],
        "net": format_money(net),
        "vat": format_money(vat),
        "gross": format_money(gross),
    }
    return render(request, "bookings/checkout.html", context)


@login_required
def confirmation(request, reference: str):
    """What happened on submit: confirmed, sent for approval, or waiting for the card payment."""
    booking = _own_draft(request, reference)
    if booking.status == BookingStatus.DRAFT:
        return redirect("bookings:checkout", reference=booking.reference)
    net, vat, gross = selectors.booking_totals(booking.lines.exclude(status=LineStatus.CANCELLED))
    context = {"booking": booking, "gross": format_money(gross)}
    return render(request, "bookings/checkout_done.html", context)


@login_required
@require_POST
def abandon(request, reference: str):
    """Give the held places back and return to the basket (the items stay in it)."""
    booking = _own_draft(request, reference)
    if booking.status == BookingStatus.DRAFT:
        from ..services.holds import cancel_open_booking

        try:
            cancel_open_booking(booking=booking, by=request.user, reason="Checkout abandoned by the booker.")
        except CONFLICTS as error:
            messages.error(request, conflict_message(error))
        else:
            messages.info(request, "Your held places have been released. Your basket still has the items.")
    return redirect(f"{reverse('bookings:basket')}?{SCHOOL_PARAM}={booking.school.urn}")
