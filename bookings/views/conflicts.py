"""What a page says when its write lost a race: another request changed the booking first, or a row stayed
locked past the lock timeout. The service's transaction has rolled back, so nothing was half-written; the
person is told to look again and retry, instead of seeing a server error."""

from django.db import OperationalError

from ..states import IllegalTransition

# IllegalTransition covers StaleStatus (the status moved under us); OperationalError covers lock timeouts.
CONFLICTS = (IllegalTransition, OperationalError)

CHANGED = "Someone changed this booking at the same time as you, so nothing was saved. Check it and try again."
BUSY = "Booking is very busy at the moment, so nothing was saved. Please try again."


def conflict_message(error: Exception) -> str:
    return BUSY if isinstance(error, OperationalError) else CHANGED
