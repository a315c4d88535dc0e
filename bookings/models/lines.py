"""A booking line: one thing bought from one council, with everything an invoice line needs frozen on it.

Price, VAT treatment and rate, the providing council and its ledger codes are copied here when the line is
made: editing a price rule, a service or a council afterwards never changes what the school agreed to, and
billing builds invoice lines and recharges from these columns alone. ``course_date`` and ``service`` use
``PROTECT`` so that nothing a page publish can delete is pointed at (DESIGN.md).

A substitution (another member of staff takes the place) is a new line with ``substitute_of`` pointing at
the old one, which moves to ``substituted``; the place itself is not released and re-taken.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from .baskets import ItemKind


class LineStatus(models.TextChoices):
    HELD = "held", "Held"
    BOOKED = "booked", "Booked"
    ATTENDED = "attended", "Attended"
    NO_SHOW = "no_show", "Did not attend"
    CANCELLED = "cancelled", "Cancelled"
    SUBSTITUTED = "substituted", "Replaced by a substitute"


# Lines that occupy a place on their course date (``CourseDate.places_taken`` counts exactly these).
PLACE_TAKING_STATUSES = (LineStatus.HELD, LineStatus.BOOKED, LineStatus.ATTENDED, LineStatus.NO_SHOW)


class PaymentRoute(models.TextChoices):
    CARD = "card", "Pay now by card"
    INVOICE = "invoice", "Invoice (30 days)"
    RECHARGE = "recharge", "Internal recharge"


class BookingLine(models.Model):
    booking = models.ForeignKey("bookings.Booking", on_delete=models.PROTECT, related_name="lines")
    kind = models.CharField(max_length=20, choices=ItemKind.choices)
    service = models.ForeignKey("catalogue.ServicePage", on_delete=models.PROTECT, related_name="booking_lines")
    course_date = models.ForeignKey(
        "catalogue.CourseDate", null=True, blank=True, on_delete=models.PROTECT, related_name="booking_lines"
    )
    council = models.ForeignKey("portal.Council", on_delete=models.PROTECT, related_name="booking_lines")
    payment_route = models.CharField(max_length=20, choices=PaymentRoute.choices, blank=True)
    status = models.CharField(max_length=20, choices=LineStatus.choices, default=LineStatus.HELD)
    # --- Snapshots taken at checkout ---
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("1"), validators=[MinValueValidator(Decimal("0.01"))]
    )
    unit_net = models.DecimalField(max_digits=10, decimal_places=2)
    net = models.DecimalField(max_digits=10, decimal_places=2)
    vat_treatment = models.CharField(max_length=20)
    vat_rate = models.DecimalField(max_digits=5, decimal_places=4)
    vat = models.DecimalField(max_digits=10, decimal_places=2)
    gross = models.DecimalField(max_digits=10, decimal_places=2)
    price_explanation = models.TextField(blank=True)
    cost_centre = models.CharField(max_length=20)
    income_code = models.CharField(max_length=20)
    # The price the basket showed, so checkout can say "the price has changed since you added it" (net or VAT).
    basket_net = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    basket_gross = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    source_item = models.ForeignKey(
        "bookings.BasketItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="booking_lines"
    )
    # --- Subscriptions ---
    term_start = models.DateField(null=True, blank=True)
    term_end = models.DateField(null=True, blank=True)
    # --- Holds, cancellation and substitution ---
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    booked_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_charge = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Net amount still charged for a cancelled line (None: not decided or not cancelled).",
    )
    charge_waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    charge_waived_at = models.DateTimeField(null=True, blank=True)
    charge_waived_reason = models.TextField(blank=True, max_length=1000)
    substitute_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="substituted_by"
    )
    refilled_by = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refill_of",
        help_text="For a cancelled line charged under the policy: the waiting-list line that took its place "
        "(the charge is then dropped).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["booking_id", "council_id", "id"]
        indexes = [
            models.Index(fields=["course_date", "status"], name="line_date_status_idx"),
            models.Index(fields=["council", "status"], name="line_council_status_idx"),
            models.Index(fields=["status", "hold_expires_at"], name="line_status_hold_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(gross=F("net") + F("vat")), name="bookingline_gross_is_net_plus_vat"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="bookingline_quantity_positive"),
            models.CheckConstraint(
                condition=~Q(kind="course_place") | Q(course_date__isnull=False),
                name="bookingline_course_place_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(kind="subscription") | Q(term_start__isnull=False, term_end__isnull=False),
                name="bookingline_subscription_has_term",
            ),
            models.CheckConstraint(
                condition=Q(cancellation_charge__isnull=True) | Q(cancellation_charge__gte=0),
                name="bookingline_charge_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description} ({self.booking_id}/{self.pk})"

    @property
    def takes_place(self) -> bool:
        return self.kind == ItemKind.COURSE_PLACE and self.status in PLACE_TAKING_STATUSES
