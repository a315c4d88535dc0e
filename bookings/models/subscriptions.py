"""A school's subscription to an SLA for one term (a financial or academic year).

Made when the booking line that bought it is confirmed. Holding an active subscription gives the school the
subscriber price on matching courses (``bookings.selectors.subscribed_service_ids`` feeds the pricing
``Customer``). A school holds at most one live subscription per service and term.
"""

from django.db import models
from django.db.models import F, Q


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


class Subscription(models.Model):
    school = models.ForeignKey("portal.School", on_delete=models.PROTECT, related_name="subscriptions")
    service = models.ForeignKey(
        "catalogue.SubscriptionServicePage", on_delete=models.PROTECT, related_name="subscriptions"
    )
    term_start = models.DateField()
    term_end = models.DateField()
    status = models.CharField(max_length=20, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE)
    booking_line = models.ForeignKey(
        "bookings.BookingLine", null=True, blank=True, on_delete=models.PROTECT, related_name="subscriptions"
    )
    auto_renew = models.BooleanField(default=False)
    renewal_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="renewed_by"
    )
    renewal_offered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-term_start", "id"]
        indexes = [models.Index(fields=["school", "status", "term_end"], name="subscription_school_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "service", "term_start"],
                condition=~Q(status="cancelled"),
                name="one_live_subscription_per_term",
            ),
            models.CheckConstraint(condition=Q(term_end__gt=F("term_start")), name="subscription_term_ends_after"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} for {self.school_id} from {self.term_start:%d %b %Y}"
