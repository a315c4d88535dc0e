"""The school's approver decides bookers' bookings; the school sets when approval is needed.

A decision locks the booking row first, so an approval racing the hold-release task (or a second approver)
sees the booking as the other left it: only one decision ever lands. The booker is told the outcome by
email (``tasks.send_approval_outcome``, after commit, once).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from portal.models import School

from ..models import ApprovalPolicy, Booking, BookingStatus, SchoolBookingSettings
from ..states import transition
from . import holds
from .checkout import finish_booking

DECLINE_REASON_MAX = 1000


def _require_approver(user, school: School) -> None:
    from portal.access import is_school_approver

    if not is_school_approver(user, school):
        raise PermissionDenied("Only the school's approver can decide this booking.")


def _lock_awaiting(booking: Booking) -> Booking:
    locked = Booking.objects.select_for_update().select_related("school", "booked_by").get(pk=booking.pk)
    if locked.status != BookingStatus.AWAITING_APPROVAL:
        raise ValidationError(
            f"Booking {locked.reference} is no longer waiting for approval "
            f"(it is {locked.get_status_display().lower()})."
        )
    if locked.hold_expires_at and locked.hold_expires_at <= timezone.now():
        raise ValidationError(
            f"The places of booking {locked.reference} were held until "
            f"{timezone.localtime(locked.hold_expires_at):%-d %b %Y %H:%M}; that time has passed, so it can no "
            "longer be approved. The booker can book again."
        )
    return locked


@transaction.atomic
def approve_booking(*, booking: Booking, approver) -> Booking:
    """Approve a booking waiting for the school's approver: it goes on to payment or confirmation."""
    _require_approver(approver, booking.school)
    booking = _lock_awaiting(booking)
    now = timezone.now()
    Booking.objects.filter(pk=booking.pk).update(approved_by=approver, approved_at=now, declined_reason="")
    booking.approved_by, booking.approved_at = approver, now
    finish_booking(
        booking=booking,
        by=approver,
        reason=f"Approved by {approver.get_full_name() or approver.email}.",
        after_approval=True,
    )
    from .. import tasks

    transaction.on_commit(lambda: tasks.send_approval_outcome.delay(booking.pk))
    return booking


@transaction.atomic
def decline_booking(*, booking: Booking, approver, reason: str) -> Booking:
    """Decline a booking waiting for approval, with a reason the booker reads; its places are freed."""
    _require_approver(approver, booking.school)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why you are declining the booking, so the booker knows."})
    if len(reason) > DECLINE_REASON_MAX:
        raise ValidationError({"reason": f"The reason must be {DECLINE_REASON_MAX} characters or fewer."})
    booking = _lock_awaiting(booking)
    text = f"Declined by the school's approver: {reason}"
    holds.cancel_held_lines(booking=booking, by=approver, reason=text)
    transition(
        booking,
        BookingStatus.CANCELLED,
        by=approver,
        reason=text,
        fields={"declined_reason": reason, "hold_expires_at": None},
    )
    from .. import tasks

    transaction.on_commit(lambda: tasks.send_approval_outcome.delay(booking.pk))
    return booking


def settings_for(*, school: School) -> SchoolBookingSettings:
    """The school's booking settings (defaults, unsaved, when it never set any)."""
    return SchoolBookingSettings.objects.filter(school=school).first() or SchoolBookingSettings(school=school)


@transaction.atomic
def update_approval_settings(
    *, school: School, user, policy: str, threshold: Decimal | None, requires_purchase_order: bool
) -> SchoolBookingSettings:
    """Set when the school's bookings need approval and whether a PO number is required (approvers only)."""
    _require_approver(user, school)
    row = SchoolBookingSettings.objects.select_for_update().filter(school=school).first()
    row = row or SchoolBookingSettings(school=school)
    row.approval_policy = policy
    row.approval_threshold = threshold if policy == ApprovalPolicy.ABOVE_AMOUNT else None
    row.updated_by = user
    row.full_clean()
    row.save()
    if school.requires_purchase_order != requires_purchase_order:
        School.objects.filter(pk=school.pk).update(requires_purchase_order=requires_purchase_order)
        school.requires_purchase_order = requires_purchase_order
    return row
