"""A school user's basket: what they mean to buy, kept in the database so it survives logout.

One basket per user and school (a user who books for two schools has two). Items hold the delegate's
details for a course place and the price quoted when the item was added, so that checkout, which quotes
again, can show the school any change before it commits.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q


class Basket(models.Model):
    school = models.ForeignKey("portal.School", on_delete=models.CASCADE, related_name="baskets")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="baskets")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school", "owner"], name="one_basket_per_user_school")]

    def __str__(self) -> str:
        return f"Basket of {self.owner} for {self.school.name}"


class ItemKind(models.TextChoices):
    """What is bought; shared by basket items and booking lines."""

    COURSE_PLACE = "course_place", "Course place"
    SUBSCRIPTION = "subscription", "Subscription (SLA)"
    ONE_OFF = "one_off", "One-off service"


class BasketItem(models.Model):
    basket = models.ForeignKey(Basket, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=20, choices=ItemKind.choices)
    service = models.ForeignKey("catalogue.ServicePage", on_delete=models.PROTECT, related_name="+")
    course_date = models.ForeignKey(
        "catalogue.CourseDate", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    term_start = models.DateField(null=True, blank=True, help_text="Subscriptions: the first day of the term.")
    quantity = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("1"), validators=[MinValueValidator(Decimal("0.5"))]
    )
    # Course places: who attends.
    delegate_name = models.CharField(max_length=120, blank=True)
    delegate_email = models.EmailField(blank=True)
    delegate_role = models.CharField(max_length=120, blank=True)
    delegate_access_needs = models.TextField(blank=True, max_length=1000)
    delegate_dietary_needs = models.TextField(blank=True, max_length=1000)
    # The price when the item was added (checkout quotes again and shows any change).
    quoted_net = models.DecimalField(max_digits=10, decimal_places=2)
    quoted_vat = models.DecimalField(max_digits=10, decimal_places=2)
    quoted_gross = models.DecimalField(max_digits=10, decimal_places=2)
    quoted_explanation = models.TextField(blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="basketitem_quantity_positive"),
            models.CheckConstraint(
                condition=~Q(kind="course_place") | Q(course_date__isnull=False),
                name="basketitem_course_place_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(kind="subscription") | Q(term_start__isnull=False),
                name="basketitem_subscription_has_term",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.service_id} in basket {self.basket_id}"
