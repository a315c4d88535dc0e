"""Writes on catalogue records that carry a business rule (course dates that people have booked)."""

from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, router, transaction
from django.db.models import ProtectedError
from django.db.models.deletion import Collector
from wagtail.log_actions import log

from .events import course_date_cancelled
from .models import CourseDate, CourseDateStatus

# Bookings hold the date's row only for the length of one short transaction; waiting longer than this means
# something is stuck, and the editor is better told to try again than left waiting.
LOCK_TIMEOUT = "5s"
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for lock_timeout


class CourseDateInUse(ValidationError):
    """Raised when deleting a course date that has bookings."""


class CourseDateBusy(ValidationError):
    """Raised when the date's row stays locked (a booking or another edit) for longer than the lock timeout."""


def _locked(course_date: CourseDate) -> CourseDate:
    """The date, re-read with its row locked until the caller's transaction ends.

    Bookings take places with a conditional UPDATE on this row, so while it is locked no place can be taken
    or given back: an edit, a cancellation or a deletion decides on the count it reads here.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    try:
        return CourseDate.objects.select_for_update().select_related("service").get(pk=course_date.pk)
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise CourseDateBusy(
                "Someone is booking or changing this date right now. Try again in a moment.", code="busy"
            ) from exc
        raise


def lock_for_edit(*, course_date: CourseDate) -> CourseDate:
    """Lock the date for an edit in the caller's transaction; the fresh row (places taken, status) to edit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_for_edit must run inside the transaction that saves the edit.")
    return _locked(course_date)


def _has_protected_references(course_date: CourseDate) -> bool:
    # Booking lines, basket items, waiting lists and invoices point at a date with on_delete=PROTECT. Ask
    # Django's deletion collector rather than naming the higher apps' models here: the catalogue must not
    # import them.
    try:
        Collector(using=router.db_for_write(CourseDate), origin=course_date).collect([course_date])
    except ProtectedError:
        return True
    return False


def has_bookings(course_date: CourseDate) -> bool:
    """Anyone has booked the date: places are taken now, or records of bookings (even cancelled) point at it."""
    return bool(course_date.current_places_taken()) or _has_protected_references(course_date)


@transaction.atomic
def cancel_course_date(*, course_date: CourseDate, user=None) -> CourseDate:
    """Mark the date cancelled (idempotent). Its bookings stay; the bookings app hears ``course_date_cancelled``."""
    course_date = _locked(course_date)
    if course_date.status == CourseDateStatus.CANCELLED:
        return course_date
    course_date.status = CourseDateStatus.CANCELLED
    course_date.full_clean()
    course_date.save(update_fields=["status", "updated_at"])
    log(instance=course_date, action="catalogue.course_date.cancel", user=user)
    course_date_cancelled.send(sender=CourseDate, course_date=course_date, user=user)
    return course_date


def deletion_refusal(course_date: CourseDate) -> str | None:
    """Why the date cannot be deleted, in words for an editor; None when it can."""
    if course_date.places_taken:
        places = "1 place is" if course_date.places_taken == 1 else f"{course_date.places_taken} places are"
        return f"This date cannot be deleted because {places} booked on it. Cancel the date instead."
    # A date whose bookings were all cancelled has no places taken but still has a history (booking lines,
    # invoices) that points at it with on_delete=PROTECT.
    if _has_protected_references(course_date):
        return (
            "This date cannot be deleted because bookings were made on it, even if they are now cancelled. "
            "Keep it as a record; cancel the date if it is not running."
        )
    return None


@transaction.atomic
def delete_course_date(*, course_date: CourseDate, user=None) -> None:
    """Delete a date nobody has booked; a booked date raises ``CourseDateInUse`` and is left as it was."""
    course_date = _locked(course_date)
    reason = deletion_refusal(course_date)
    if reason:
        raise CourseDateInUse(reason)
    log(instance=course_date, action="wagtail.delete", user=user, deleted=True)
    try:
        course_date.delete()
    except ProtectedError as exc:  # a reference the collector could not see coming (defence in depth)
        raise CourseDateInUse(
            "This date cannot be deleted because bookings were made on it. Cancel the date instead."
        ) from exc
