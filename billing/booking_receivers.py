"""Where billing plugs into bookings (imported by ``BillingConfig.ready``).

Bookings never imports billing (DESIGN.md's layering). It sends ``booking_confirmed`` and
``booking_charges_reduced`` after commit (``bookings.events``); billing answers each with the ``billing.bill_booking``
task, which issues whatever the booking is owed. Card payments reach bookings the other way: billing's payment
hooks (``billing.registry.payment_hooks``) confirm a paid booking and bill it in the payment's own transaction,
and note a failed attempt on the booking.
"""

from billing import booking_tasks
from billing.registry import payment_hooks
from billing.services.booking_payments import on_payment_failed, on_payment_succeeded
from bookings.events import booking_charges_reduced, booking_confirmed


def bill_booking_later(sender, booking_id: int, **kwargs) -> None:
    # The signal is sent after commit, so the task (or an eager run in tests) sees the committed booking.
    booking_tasks.bill_booking.delay(booking_id)


booking_confirmed.connect(bill_booking_later, dispatch_uid="billing_bill_confirmed_booking")
booking_charges_reduced.connect(bill_booking_later, dispatch_uid="billing_credit_reduced_charges")
payment_hooks.add("succeeded", on_payment_succeeded)
payment_hooks.add("failed", on_payment_failed)
