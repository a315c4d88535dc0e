"""The waiting list of a full course date: first come, first offered.

When a place frees up (a cancellation, an expired hold, a raised capacity) the first waiting entry is
offered it for a set time; accepting books it (``booking`` records the booking made), not answering in time
passes the place to the next entry.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class WaitingStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    OFFERED = "offered", "Place offered"
    ACCEPTED = "accepted", "Accepted"
    EXPIRED = "expired", "Offer expired"
    WITHDRAWN = "withdrawn", "Withdrawn"


class WaitingListEntry(models.Model):
    course_date = models.ForeignKey("catalogue.CourseDate", on_delete=models.PROTECT, related_name="waiting_list")
    school = models.ForeignKey("portal.School", on_delete=models.CASCADE, related_name="waiting_list_entries")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waiting_list_entries"
    )
    delegate_name = models.CharField(max_length=120, blank=True)
    delegate_email = models.EmailField(blank=True)
    delegate_role = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=20, choices=WaitingStatus.choices, default=WaitingStatus.WAITING)
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    booking = models.ForeignKey(
        "bookings.Booking", null=True, blank=True, on_delete=models.SET_NULL, related_name="waiting_list_entries"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "waiting list entries"
        indexes = [
            models.Index(fields=["course_date", "status", "created_at"], name="waiting_date_status_idx"),
            models.Index(fields=["status", "offer_expires_at"], name="waiting_status_expiry_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="offered") | Q(offered_at__isnull=False, offer_expires_at__isnull=False),
                name="waiting_offer_has_times",
            )
        ]

    def __str__(self) -> str:
        return f"{self.school.name} waiting for {self.course_date_id} ({self.get_status_display()})"
