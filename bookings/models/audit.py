"""The audit trail: one row for every status change of a booking or of one of its lines.

Written only by ``bookings.states`` (and for events that change no status, such as a failed card payment,
by ``record_event`` there, with ``from_status == to_status``). ``booking`` is always set, so a booking's
whole history, lines included, is one indexed query; ``line`` is set when the change is a line's.
"""

from django.conf import settings
from django.db import models


class StatusChange(models.Model):
    booking = models.ForeignKey("bookings.Booking", on_delete=models.CASCADE, related_name="status_changes")
    line = models.ForeignKey(
        "bookings.BookingLine", null=True, blank=True, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=20)
    to_status = models.CharField(max_length=20)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    reason = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["booking", "at"], name="statuschange_booking_at_idx")]

    def __str__(self) -> str:
        subject = f"line {self.line_id}" if self.line_id else f"booking {self.booking_id}"
        return f"{subject}: {self.from_status} → {self.to_status}"

    def _label(self, value: str) -> str:
        from .bookings import BookingStatus
        from .lines import LineStatus

        choices = LineStatus if self.line_id else BookingStatus
        try:
            return str(choices(value).label)
        except ValueError:
            return value

    @property
    def from_label(self) -> str:
        return self._label(self.from_status)

    @property
    def to_label(self) -> str:
        return self._label(self.to_status)

    @property
    def is_event(self) -> bool:
        return self.from_status == self.to_status
