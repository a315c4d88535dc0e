"""A booking: what one school committed to at one checkout, possibly from several councils.

The booking carries the school-level facts (who booked, the purchase-order number, approval, the hold on
its places); what is bought, from whom, at what price and by which payment route is on its lines
(``lines.py``). Its ``status`` changes only through ``bookings.states.transition``, which writes the audit
trail.
"""

import secrets

from django.conf import settings
from django.db import models

# Easy to read aloud and to type from a printed invoice: no 0/O, 1/I/L, 5/S, 2/Z.
REFERENCE_ALPHABET = "346789ABCDEFGHJKMNPQRTUVWXY"
REFERENCE_PREFIX = "TCB-"
REFERENCE_LENGTH = 6


def new_reference() -> str:
    """A random booking reference such as TCB-7K3QX9 (27^6 ≈ 387 million of them; callers retry a clash)."""
    return REFERENCE_PREFIX + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


class BookingStatus(models.TextChoices):
    DRAFT = "draft", "Draft (at checkout)"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
    CONFIRMED = "confirmed", "Confirmed"
    CANCELLED = "cancelled", "Cancelled"
    COMPLETED = "completed", "Completed"


# Statuses in which the booking's lines still hold places that nobody has paid or been invoiced for.
HOLDING_STATUSES = (BookingStatus.DRAFT, BookingStatus.AWAITING_APPROVAL, BookingStatus.AWAITING_PAYMENT)


class Booking(models.Model):
    reference = models.CharField(max_length=16, unique=True, default=new_reference, editable=False)
    school = models.ForeignKey("portal.School", on_delete=models.PROTECT, related_name="bookings")
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings")
    status = models.CharField(max_length=20, choices=BookingStatus.choices, default=BookingStatus.DRAFT)
    po_number = models.CharField("purchase order number", max_length=40, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    declined_reason = models.TextField(blank=True, max_length=1000)
    hold_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Places of held lines are released after this time."
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Card bookings: the payment provider's reference, set by billing when the payment succeeds.
    payment_reference = models.CharField(max_length=120, blank=True)
    payment_failed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["school", "status"], name="booking_school_status_idx"),
            models.Index(fields=["status", "hold_expires_at"], name="booking_status_hold_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        """Still being decided: at checkout, with the approver or waiting for the card payment."""
        return self.status in HOLDING_STATUSES
