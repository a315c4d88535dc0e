"""Stripe webhook events, each stored once by its id.

The unique ``event_id`` is what makes delivery idempotent: Stripe (and any replay) may deliver the same event
more than once, even twice at the same moment; only the first insert wins, and only the winner schedules the
handlers. ``processed_at`` is set when every handler has run; ``attempts`` and ``last_error`` show finance and
developers an event that keeps failing.
"""

from django.db import models


class StripeEvent(models.Model):
    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    payload = models.JSONField()
    livemode = models.BooleanField(default=False)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["processed_at", "received_at"], name="stripe_event_pending_idx")]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"

    @property
    def data_object(self) -> dict:
        """The object the event is about (a PaymentIntent, a Charge ...), as the payload carried it."""
        return (self.payload.get("data") or {}).get("object") or {}
