"""Places on course dates: taking them, giving them back, and letting go of holds nobody completed.

Capacity is enforced in the database, in the caller's transaction, by ONE conditional UPDATE::

    UPDATE catalogue_coursedate SET places_taken = places_taken + n
     WHERE id = %s AND status = 'scheduled' AND places_taken + n <= capacity

PostgreSQL takes the row lock for the UPDATE and, when another transaction got there first, waits for it
and re-checks the WHERE clause against the row as that transaction left it (READ COMMITTED re-evaluation).
So two checkouts can never both see "one place left": the second UPDATE matches 0 rows. There is no read
in Python that a write depends on. The lock is held until the booking transaction commits, so callers keep
that transaction short, take dates in id order (two baskets with the same two dates cannot deadlock) and,
on PostgreSQL, set a lock timeout so a stuck transaction turns into a clear "try again" rather than a queue.
The check constraint ``places_taken <= capacity`` on the table is the last line of defence.

Giving a place back is the mirror image (``places_taken - n >= 0``), after which the waiting list is told.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from catalogue.models import CourseDate, CourseDateStatus

from ..models import HOLDING_STATUSES, Booking, BookingLine, BookingStatus, ItemKind, LineStatus
from ..states import StaleStatus, transition

logger = logging.getLogger(__name__)

DEFAULT_HOLD_MINUTES = 15
DEFAULT_APPROVAL_HOLD_HOURS = 72
DEFAULT_PAYMENT_HOLD_MINUTES = 30
DEFAULT_PAYMENT_AFTER_APPROVAL_HOURS = 24
LOCK_TIMEOUT = "5s"


def hold_minutes() -> int:
    return int(getattr(settings, "BOOKINGS_HOLD_MINUTES", DEFAULT_HOLD_MINUTES))


def checkout_hold_until(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(minutes=hold_minutes())


def approval_hold_until(now: datetime | None = None) -> datetime:
    hours = int(getattr(settings, "BOOKINGS_APPROVAL_HOLD_HOURS", DEFAULT_APPROVAL_HOLD_HOURS))
    return (now or timezone.now()) + timedelta(hours=hours)


def payment_hold_until(now: datetime | None = None) -> datetime:
    minutes = int(getattr(settings, "BOOKINGS_PAYMENT_HOLD_MINUTES", DEFAULT_PAYMENT_HOLD_MINUTES))
    return (now or timezone.now()) + timedelta(minutes=minutes)


def payment_after_approval_hold_until(now: datetime | None = None) -> datetime:
    """How long an approved card booking waits for its payment: the booker learns of the approval by email."""
    hours = int(getattr(settings, "BOOKINGS_PAYMENT_AFTER_APPROVAL_HOURS", DEFAULT_PAYMENT_AFTER_APPROVAL_HOURS))
    return (now or timezone.now()) + timedelta(hours=hours)


def set_lock_timeout() -> None:
    """On PostgreSQL, give up waiting for a row lock after LOCK_TIMEOUT (for the current transaction only)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")


def lock_line_in_order(line: BookingLine, *related: str) -> BookingLine:
    """Lock the line's course date, then its booking, then the line itself; the line, with ``related`` loaded.

    The order every bookings path takes, and a council cancelling a date too (the catalogue locks the date,
    then cancellations lock its bookings and lines): two such transactions on one date queue up instead of
    deadlocking. Call inside a transaction.
    """
    course_date_id, booking_id = (
        BookingLine.objects.filter(pk=line.pk).values_list("course_date_id", "booking_id").get()
    )
    if course_date_id:
        CourseDate.objects.select_for_update().filter(pk=course_date_id).values_list("pk", flat=True).first()
    Booking.objects.select_for_update().filter(pk=booking_id).values_list("pk", flat=True).first()
    return BookingLine.objects.select_for_update(of=("self",)).select_related(*related).get(pk=line.pk)


def take_places(*, course_date_id: int, count: int = 1) -> bool:
    """Take ``count`` places on the date if they are free and the date is scheduled; False when it is full.

    Must run inside the transaction that records what the places are for (the caller's ``atomic``).
    """
    if count < 1:
        raise ValueError("Take at least one place.")
    updated = CourseDate.objects.filter(
        pk=course_date_id,
        status=CourseDateStatus.SCHEDULED,
        places_taken__lte=F("capacity") - count,
    ).update(places_taken=F("places_taken") + count)
    return updated == 1


def release_places(*, course_date_id: int, count: int = 1) -> None:
    """Give ``count`` places back and tell the waiting list (after commit) that they are free."""
    if count < 1:
        raise ValueError("Release at least one place.")
    updated = CourseDate.objects.filter(pk=course_date_id, places_taken__gte=count).update(
        places_taken=F("places_taken") - count
    )
    if updated != 1:
        # places_taken counts exactly the place-taking lines; getting here means a bug, not a busy course.
        logger.error("Releasing %s place(s) on course date %s found too few taken", count, course_date_id)
        raise RuntimeError(f"Course date {course_date_id} has fewer than {count} places taken.")
    _tell_waiting_list(course_date_id)


def _tell_waiting_list(course_date_id: int) -> None:
    # bookings-flows' module, imported late because it imports this one; it offers the place after commit.
    from .waiting_list import place_freed

    place_freed(course_date_id=course_date_id)


@transaction.atomic
def cancel_held_lines(*, booking: Booking, by=None, reason: str) -> int:
    """Cancel the booking's held lines and give their places back, in date-id order; how many were cancelled."""
    lines = list(
        booking.lines.filter(status=LineStatus.HELD).select_related("booking").order_by("course_date_id", "id")
    )
    freed: dict[int, int] = {}
    now = timezone.now()
    for line in lines:
        transition(line, LineStatus.CANCELLED, by=by, reason=reason, fields={"cancelled_at": now})
        if line.kind == ItemKind.COURSE_PLACE:
            freed[line.course_date_id] = freed.get(line.course_date_id, 0) + 1
    for course_date_id in sorted(freed):
        release_places(course_date_id=course_date_id, count=freed[course_date_id])
    return len(lines)


@transaction.atomic
def cancel_open_booking(*, booking: Booking, by=None, reason: str) -> Booking:
    """Cancel a booking that is still at checkout, with the approver or awaiting payment, freeing its places."""
    locked = Booking.objects.select_for_update().get(pk=booking.pk)
    if locked.status not in HOLDING_STATUSES:
        raise StaleStatus(f"Booking {locked.reference} is {locked.get_status_display().lower()}, not open.")
    cancel_held_lines(booking=locked, by=by, reason=reason)
    transition(locked, BookingStatus.CANCELLED, by=by, reason=reason, fields={"hold_expires_at": None})
    return locked


def expire_hold(*, booking_id: int, now: datetime | None = None) -> bool:
    """Cancel one open booking whose hold has run out; False when it was decided meanwhile (nothing to do)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Booking.objects.select_for_update(skip_locked=connection.features.has_select_for_update_skip_locked)
            .filter(pk=booking_id, status__in=HOLDING_STATUSES, hold_expires_at__lt=now)
            .first()
        )
        if locked is None:
            return False
        was_awaiting_approval = locked.status == BookingStatus.AWAITING_APPROVAL
        reason = "The hold on the places ran out before the booking was completed."
        cancel_held_lines(booking=locked, reason=reason)
        transition(locked, BookingStatus.CANCELLED, reason=reason, fields={"hold_expires_at": None})
        if was_awaiting_approval:
            from .. import tasks

            transaction.on_commit(lambda: tasks.send_hold_expired.delay(locked.pk))
    return True


def release_expired_holds(*, now: datetime | None = None, limit: int = 500) -> int:
    """Cancel every open booking whose hold ran out (each in its own transaction); how many were cancelled.

    Not atomic as a whole on purpose: one booking that fails (logged) must not keep the others' places held.
    """
    now = now or timezone.now()
    due = list(
        Booking.objects.filter(status__in=HOLDING_STATUSES, hold_expires_at__lt=now)
        .order_by("hold_expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    released = 0
    for booking_id in due:
        try:
            released += expire_hold(booking_id=booking_id, now=now)
        except Exception:
            logger.exception("Could not release the expired hold of booking %s", booking_id)
    return released


def lines_holding_places(*, course_date_id: int):
    """Lines that occupy places on the date (for checks and the register)."""
    return BookingLine.objects.filter(
        course_date_id=course_date_id, status__in=["held", "booked", "attended", "no_show"]
    )
