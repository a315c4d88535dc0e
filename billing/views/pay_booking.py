"""Paying for a booking by card: the page, the three JSON steps its script takes, and the invoice fallback.

The page (``billing/bookings/<reference>/pay/``) shows what is paid by card to which council and, depending on
where the booking stands, the card form, "we are checking the payment", or the paid booking with its documents.
Its script (``billing/card_payment.js``, shared with invoice payments) calls:

1. ``setup``: a SetupIntent's client secret, which the browser confirms with Stripe.js and the card fields;
2. ``charge``: the server creates and confirms the PaymentIntent for the card total; the answer is ``succeeded``,
   ``requires_action`` (with the secret for 3-D Secure) or an error message for the GOV.UK error summary;
3. ``complete``: after 3-D Secure, the server re-fetches the PaymentIntent from Stripe and records it.

Only members of the booking's school see any of it (anyone else gets 404, as for bookings' own pages). Card entry
needs JavaScript; without it the page says so and offers to pay by invoice instead (``by_invoice``).
"""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from billing.gateway import PaymentError
from billing.models import BillingDocument, DocumentType, PaymentStatus
from billing.money import from_pence
from billing.services import booking_payments as service
from billing.services.bookings import card_shares
from bookings.models import Booking, BookingStatus
from bookings.services.payment_route_change import pay_by_invoice_instead
from portal import access

from .json_api import json_body, json_error

logger = logging.getLogger(__name__)


def school_booking_or_404(request, reference: str) -> Booking:
    """The booking named in the URL, for a member of its school only (a partnership admin is not one)."""
    booking = Booking.objects.select_related("school").filter(reference=reference).first()
    if booking is None or access.school_role(request.user, booking.school) is None:
        raise Http404("No such booking of your school.")
    return booking


def _page_url(booking: Booking) -> str:
    return reverse("billing:pay_booking", args=[booking.reference])


def booking_documents(booking: Booking):
    """The booking's invoices, receipts and recharges (one per council), and credit notes against them."""
    return (
        BillingDocument.objects.filter(source_reference__startswith=f"booking:{booking.reference}:council:")
        .select_related("council")
        .order_by("document_type", "council__la_code", "pk")
    )


def _card_groups(booking: Booking) -> list[dict]:
    lines = service.booking_card_lines(booking)
    shares = card_shares(lines)
    groups: dict[str, dict] = {}
    for line in lines:
        group = groups.setdefault(
            line.council.la_code, {"council": line.council, "lines": [], "pence": shares[line.council.la_code]}
        )
        group["lines"].append(line)
    return list(groups.values())


@login_required
def pay_booking(request, reference: str):
    booking = school_booking_or_404(request, reference)
    context = {"booking": booking, "school": booking.school}
    if booking.confirmed_at is not None:
        # Confirmed at some point (perhaps cancelled since): the booking's documents are what is left to show.
        documents = list(booking_documents(booking))
        context.update(
            state="confirmed",
            cancelled=booking.status == BookingStatus.CANCELLED,
            paid_by_card=bool(booking.payment_reference),
            documents=[d for d in documents if d.document_type != DocumentType.CREDIT_NOTE],
            credit_notes=[d for d in documents if d.document_type == DocumentType.CREDIT_NOTE],
        )
        return render(request, "billing/pay_booking.html", context)
    latest = service.latest_payment(booking)
    problem = service.payable_problem(booking)
    waiting = booking.status == BookingStatus.AWAITING_PAYMENT
    if waiting and latest is not None and (latest.is_settled or latest.status == PaymentStatus.PROCESSING):
        context["state"] = "checking"
        return render(request, "billing/pay_booking.html", context)
    if problem:
        if booking.status == BookingStatus.CANCELLED and latest is not None and latest.is_settled:
            problem = "This booking was cancelled before its payment arrived. The payment is refunded to the card."
        context.update(state="closed", problem=problem)
        return render(request, "billing/pay_booking.html", context, status=409 if request.method == "POST" else 200)
    groups = _card_groups(booking)
    total = sum(group["pence"] for group in groups)
    context.update(
        state="pay",
        groups=groups,
        total_pence=total,
        total=from_pence(total),
        failed_before=latest is not None and latest.status == PaymentStatus.FAILED,
        stripe_js_url=settings.STRIPE_JS_URL,
        stripe_publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
    )
    if request.method == "POST":
        # The card form was submitted without its script (no JavaScript, or Stripe.js did not load).
        context["no_script_error"] = (
            "Paying by card needs JavaScript, which is off or did not load. Turn it on and try again, "
            "or pay by invoice instead."
        )
        return render(request, "billing/pay_booking.html", context, status=400)
    return render(request, "billing/pay_booking.html", context)


@login_required
@require_POST
def pay_setup(request, reference: str):
    booking = school_booking_or_404(request, reference)
    try:
        setup = service.start_booking_card_setup(booking=booking)
    except ValidationError as error:
        return json_error(" ".join(error.messages), status=409)
    except PaymentError as error:
        return json_error(error.user_message, status=502)
    return JsonResponse({"status": "ok", "client_secret": setup.client_secret})


@login_required
@require_POST
def pay_charge(request, reference: str):
    booking = school_booking_or_404(request, reference)
    data = json_body(request)
    try:
        outcome = service.pay_booking_by_card(booking=booking, payment_method_id=str(data.get("payment_method") or ""))
    except ValidationError as error:
        return json_error(" ".join(error.messages))
    except PaymentError as error:
        logger.info("booking %s card payment refused: %s", booking.reference, error)
        return json_error(error.user_message, status=402)
    if outcome.requires_action:
        return JsonResponse(
            {"status": "requires_action", "client_secret": outcome.client_secret, "payment": outcome.payment.pk}
        )
    status = "succeeded" if outcome.succeeded else "processing"
    return JsonResponse({"status": status, "redirect": _page_url(booking)})


@login_required
@require_POST
def pay_complete(request, reference: str):
    booking = school_booking_or_404(request, reference)
    payment_id = json_body(request).get("payment")
    if not str(payment_id or "").isdigit():
        return json_error("The payment could not be found. Reload the page to see whether the booking is paid.")
    try:
        payment = service.complete_booking_card_payment(booking=booking, payment_id=int(payment_id))
    except ValidationError as error:
        return json_error(" ".join(error.messages))
    except PaymentError as error:
        return json_error(error.user_message, status=502)
    if payment.is_settled:
        return JsonResponse({"status": "succeeded", "redirect": _page_url(booking)})
    if payment.status in (PaymentStatus.FAILED, PaymentStatus.CANCELED):
        return json_error(
            "Your bank did not confirm this payment. Try again, use another card, or pay by invoice.", 402
        )
    return JsonResponse({"status": "processing", "redirect": _page_url(booking)})


@login_required
@require_POST
def pay_by_invoice(request, reference: str):
    """No card after all (or no JavaScript): the card part is invoiced instead and the booking confirmed."""
    booking = school_booking_or_404(request, reference)
    try:
        booking = pay_by_invoice_instead(booking=booking, user=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("billing:pay_booking", reference=booking.reference)
    messages.success(request, f"Booking {booking.reference} is confirmed. The council will send you an invoice.")
    return redirect("bookings:detail", reference=booking.reference)
