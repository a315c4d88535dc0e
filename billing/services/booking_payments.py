"""Paying for a booking by card: the card part of checkout.

Bookings ends a checkout "awaiting payment" when any council group pays by card, holding the places for a while.
Then, on the booking's payment page:

1. ``start_booking_card_setup``: a SetupIntent for the school's Stripe customer, which the browser confirms with
   Stripe.js card fields (3-D Secure may be asked for here already);
2. ``pay_booking_by_card``: the server creates and confirms ONE PaymentIntent for the card total, the sum of the
   card-route lines, with each council's pence in its metadata. The payment is named ``booking:<reference>``; its
   idempotency key names the attempt (``booking:<reference>:attempt:<n>``, n counting the failed attempts), so a
   double submit, a retried request or a second tab finds the same payment and never charges twice, while a
   declined card can be followed by a new attempt;
3. ``complete_booking_card_payment``: after the browser's 3-D Secure step, the server re-fetches the intent.

The booking is confirmed by the payment hook below, which runs when our record of the payment becomes succeeded:
from the response to the server's own create/confirm call, a server-side re-fetch or a verified webhook — never
because the browser says so. The same transaction confirms the booking and issues its receipts (and invoices or
recharges for the other councils), so they exist together or not at all.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing.gateway import PaymentGateway, SetupIntentResult
from billing.models import Payment, PaymentStatus
from billing.models.payments import SETTLED_STATUSES
from bookings.models import Booking, BookingStatus, LineStatus
from bookings.services.checkout import BookingNotPayable, confirm_card_payment, record_card_payment_failed

from .bookings import bill_booking, card_shares, payment_reference, refund_unconfirmed_payment
from .payments import CardPaymentOutcome, refresh_payment, start_card_payment, start_card_setup, stripe_customer_for

logger = logging.getLogger(__name__)

PREFIX = "booking:"
IN_FLIGHT = (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION, PaymentStatus.PROCESSING)


def booking_card_lines(booking: Booking):
    return list(
        booking.lines.filter(status=LineStatus.HELD, payment_route="card")
        .select_related("council")
        .order_by("council__la_code", "pk")
    )


def card_total_pence(booking: Booking) -> int:
    return sum(card_shares(booking_card_lines(booking)).values())


def payable_problem(booking: Booking) -> str:
    """Why the booking cannot be paid by card now, in words for the school ("" if it can)."""
    if booking.status == BookingStatus.CONFIRMED:
        return "This booking is already confirmed."
    if booking.status != BookingStatus.AWAITING_PAYMENT:
        return "This booking is not waiting for a card payment."
    if booking.hold_expires_at and booking.hold_expires_at <= timezone.now():
        return "The time to pay ran out and the places were released. Book again to get new places."
    if Payment.objects.filter(reference=payment_reference(booking), status__in=SETTLED_STATUSES).exists():
        return "This booking has been paid. It is confirmed as soon as we have checked the payment."
    if not booking_card_lines(booking):
        return "Nothing on this booking is paid by card."
    return ""


def _refresh(booking: Booking) -> Booking:
    return Booking.objects.select_related("school").get(pk=booking.pk)


def start_booking_card_setup(*, booking: Booking, gateway: PaymentGateway | None = None) -> SetupIntentResult:
    booking = _refresh(booking)
    problem = payable_problem(booking)
    if problem:
        raise ValidationError(problem)
    return start_card_setup(school=booking.school, gateway=gateway)


def attempt_key(booking: Booking) -> str:
    """This attempt's idempotency key: it changes only after an attempt failed (or was cancelled)."""
    failed = Payment.objects.filter(
        reference=payment_reference(booking), status__in=(PaymentStatus.FAILED, PaymentStatus.CANCELED)
    ).count()
    return f"{payment_reference(booking)}:attempt:{failed + 1}"


def pay_booking_by_card(
    *, booking: Booking, payment_method_id: str, gateway: PaymentGateway | None = None
) -> CardPaymentOutcome:
    """Charge the card part of the booking once (see the module docstring). Stripe is called outside a transaction.

    Raises ``ValidationError`` (with a message for the school) when the booking cannot be paid now, ``CardDeclined``
    when the bank says no (the booking stays awaiting payment while its hold lasts) and ``GatewayUnavailable`` when
    Stripe cannot be reached.
    """
    if not payment_method_id or not payment_method_id.startswith("pm_"):
        raise ValidationError("Enter your card details.")
    booking = _refresh(booking)
    problem = payable_problem(booking)
    if problem:
        raise ValidationError(problem)
    shares = card_shares(booking_card_lines(booking))
    return start_card_payment(
        reference=payment_reference(booking),
        amount_pence=sum(shares.values()),
        council_shares=shares,
        customer_id=stripe_customer_for(school=booking.school, gateway=gateway),
        payment_method_id=payment_method_id,
        idempotency_key=attempt_key(booking),
        gateway=gateway,
    )


def complete_booking_card_payment(*, booking: Booking, payment_id: int, gateway: PaymentGateway | None = None):
    """After 3-D Secure in the browser: ask Stripe how the booking's payment stands, and record that."""
    payment = Payment.objects.filter(pk=payment_id, reference=payment_reference(booking)).first()
    if payment is None:
        raise ValidationError("That payment is not one of this booking's.")
    return refresh_payment(payment=payment, gateway=gateway)


def latest_payment(booking: Booking) -> Payment | None:
    return Payment.objects.filter(reference=payment_reference(booking)).order_by("-created_at", "-pk").first()


# --- Payment hooks (registered by billing.booking_receivers) ---------------------------------------------


def booking_for_payment(payment: Payment) -> Booking | None:
    if not payment.reference.startswith(PREFIX):
        return None
    return Booking.objects.filter(reference=payment.reference.removeprefix(PREFIX)).first()


def on_payment_succeeded(payment: Payment) -> None:
    """The card money for a booking arrived: confirm the booking and bill it, in the payment's transaction.

    If the booking can no longer be confirmed (its hold ran out and it was cancelled, or another attempt paid
    already), the money goes back to the card.
    """
    booking = booking_for_payment(payment)
    if booking is None:
        return
    try:
        with transaction.atomic():
            confirm_card_payment(
                booking_id=booking.pk, payment_reference=payment.stripe_payment_intent_id or f"payment:{payment.pk}"
            )
    except BookingNotPayable as refused:
        logger.warning("payment %s refunded: %s", payment.pk, refused)
        refund_unconfirmed_payment(payment=payment, booking=booking, why=str(refused))
        return
    try:
        with transaction.atomic():
            issued = bill_booking(booking_id=booking.pk).issued_ids
    except Exception:
        # The payment and the confirmation must not be undone by a billing fault: the booking_confirmed task and
        # the periodic sweep bill the booking again, and the log says why it was late.
        logger.exception("booking %s: billing after card payment %s failed; left to the sweep", booking, payment.pk)
        return
    from billing.booking_tasks import render_document_pdf

    for document_id in issued:
        transaction.on_commit(lambda document_id=document_id: render_document_pdf.delay(document_id))


def on_payment_failed(payment: Payment) -> None:
    """A card attempt failed: bookings notes it on the booking's trail; the places stay held until the hold ends."""
    booking = booking_for_payment(payment)
    if booking is None:
        return
    why = f": {payment.failure_message}" if payment.failure_message else ""
    reason = f"The card payment failed{why}. The school can try again while the places are held."
    record_card_payment_failed(booking_id=booking.pk, reason=reason)
