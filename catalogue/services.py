"""Writes on catalogue records that carry a business rule (course dates that people have booked)."""

from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.db.models import ProtectedError
from django.db.models.deletion import Collector
from wagtail.log_actions import log

from .events import course_date_cancelled
from .models import CourseDate, CourseDateStatus


class CourseDateInUse(ValidationError):
    """Raised when deleting a course date that has bookings."""


def _locked(course_date: CourseDate) -> CourseDate:
    # Lock the row so that a booking cannot take a place while the date is being cancelled or deleted.
    return CourseDate.objects.select_for_update().select_related("service").get(pk=course_date.pk)


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
    # invoices) that points at it with on_delete=PROTECT. Ask Django's deletion collector rather than naming
    # the higher apps' models here: the catalogue must not import them.
    try:
        Collector(using=router.db_for_write(CourseDate), origin=course_date).collect([course_date])
    except ProtectedError:
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
    log(instance=course_date, action="wagtail.delete", user=user)
    course_date.delete()
