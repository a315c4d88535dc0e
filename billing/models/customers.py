"""A school's customer record at Stripe: one per school, created the first time the school pays by card."""

from django.db import models


class StripeCustomer(models.Model):
    school = models.OneToOneField("portal.School", on_delete=models.PROTECT, related_name="stripe_customer")
    stripe_customer_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.school} at Stripe: {self.stripe_customer_id}"
