"""Signals bookings sends for higher apps to act on (billing listens; bookings never imports it).

Both are sent after the transaction that made the change has committed, so receivers see the committed rows
and may enqueue tasks; each carries ``booking_id``:

- ``booking_confirmed``: the booking was confirmed, whatever the route (invoice, internal recharge, or a card
  payment that arrived). Billing issues one document per providing council.
- ``booking_charges_reduced``: what a confirmed booking charges went down: a line was cancelled (its
  ``cancellation_charge`` is what is still charged, net), or a cancellation charge was waived or dropped because
  the place was refilled from the waiting list. Billing credits the difference (and refunds card payments).

Receivers must be idempotent and must not trust that they run: a signal can be lost (a crash right after the
commit, a broker that is down), so billing also sweeps recently changed bookings on a schedule.
"""

from django.db import transaction
from django.dispatch import Signal

booking_confirmed = Signal()
booking_charges_reduced = Signal()


def send_on_commit(signal: Signal, *, booking_id: int) -> None:
    """Send ``signal`` for the booking once the current transaction commits (at once outside one).

    ``robust``: a receiver that fails after the commit is logged by Django and does not stop later callbacks
    (the email tasks bookings enqueues the same way); billing's periodic sweep picks up what it missed.
    """
    from .models import Booking

    transaction.on_commit(lambda: signal.send(sender=Booking, booking_id=booking_id), robust=True)
