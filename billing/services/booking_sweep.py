"""Which bookings the periodic billing sweep looks at again (``billing.sweep_booking_billing``).

Bookings tells billing about confirmations and reduced charges through signals sent after commit; a crash between
the commit and the task, or a broker that was down, would lose one. Every change to a booking line moves its
``updated_at``, so looking again at bookings whose lines changed lately finds anything missed; ``bill_booking``
issues only what is missing, so looking at a booking that needs nothing costs a few queries.
"""

import datetime

from django.utils import timezone

from bookings.models import Booking

from .bookings import BILLABLE_STATUSES


def bookings_to_bill(*, since: datetime.timedelta, now: datetime.datetime | None = None) -> list[int]:
    """Ids of billable bookings with a line booked or changed within ``since``, oldest first."""
    cutoff = (now or timezone.now()) - since
    return list(
        Booking.objects.filter(
            status__in=BILLABLE_STATUSES, lines__booked_at__isnull=False, lines__updated_at__gte=cutoff
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )
