"""Paying by invoice instead of by card, for a booking that is waiting for its card payment.

Card details can only be entered with JavaScript (Stripe.js), and some schools will find they cannot pay by card
after all: while the places are held, the card groups of the booking can switch to the invoice route, and the
booking is then confirmed like any invoiced booking. Billing (a higher app) offers this on its payment page.

A card payment that was already under way and succeeds afterwards cannot confirm the booking a second time
(``checkout.confirm_card_payment`` refuses it) and billing refunds it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portal.access import require_school_member

from ..models import Booking, BookingStatus, LineStatus, PaymentRoute
from ..states import record_event
from .checkout import confirm_booking


@transaction.atomic
def pay_by_invoice_instead(*, booking: Booking, user) -> Booking:
    """Switch the booking's card lines to the invoice route and confirm it. A school member only."""
    booking = Booking.objects.select_for_update().select_related("school").get(pk=booking.pk)
    require_school_member(user, booking.school)
    if booking.status != BookingStatus.AWAITING_PAYMENT:
        raise ValidationError("This booking is not waiting for a card payment.")
    now = timezone.now()
    if booking.hold_expires_at and booking.hold_expires_at <= now:
        raise ValidationError("The time to pay ran out and the places were released. Book again to get new places.")
    switched = booking.lines.filter(status=LineStatus.HELD, payment_route=PaymentRoute.CARD).update(
        payment_route=PaymentRoute.INVOICE, updated_at=now
    )
    if not switched:
        raise ValidationError("Nothing on this booking is paid by card.")
    record_event(booking, by=user, reason="Paying by invoice (30 days) instead of by card.")
    return confirm_booking(booking=booking, by=user, reason="Confirmed: to be invoiced.")
