"""What a school asks of its own bookings: whether its approver must sign them off.

One row per school, created on first use and edited by the school's approver. The purchase-order rule is
``portal.School.requires_purchase_order`` (it predates this app), so it is not repeated here.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q


class ApprovalPolicy(models.TextChoices):
    NONE = "none", "No approval needed"
    ALWAYS = "always", "Every booking made by a booker"
    ABOVE_AMOUNT = "above_amount", "Bookings made by a booker above an amount"


class SchoolBookingSettings(models.Model):
    school = models.OneToOneField("portal.School", on_delete=models.CASCADE, related_name="booking_settings")
    approval_policy = models.CharField(max_length=20, choices=ApprovalPolicy.choices, default=ApprovalPolicy.NONE)
    approval_threshold = models.DecimalField(
        "approval needed above (net, £)",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.00"))],
        help_text="Bookings whose total before VAT is more than this wait for the approver.",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "school booking settings"
        verbose_name_plural = "school booking settings"
        constraints = [
            models.CheckConstraint(
                condition=~Q(approval_policy="above_amount") | Q(approval_threshold__isnull=False),
                name="approval_threshold_set_when_needed",
            )
        ]

    def __str__(self) -> str:
        return f"Booking settings of {self.school}"

    def clean(self):
        super().clean()
        if self.approval_policy == ApprovalPolicy.ABOVE_AMOUNT and self.approval_threshold is None:
            raise ValidationError({"approval_threshold": "Enter the amount above which bookings need approval."})

    def needs_approval(self, *, net: Decimal) -> bool:
        """Whether a booker's booking of this total (before VAT) waits for the approver."""
        if self.approval_policy == ApprovalPolicy.ALWAYS:
            return True
        if self.approval_policy == ApprovalPolicy.ABOVE_AMOUNT:
            return net > self.approval_threshold
        return False
