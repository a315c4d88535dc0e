"""Monthly settlements: what the partnership's Stripe account owes each council for a month of card income.

Card payments for all three councils land in one account. For each council and month the statement is its share
of the card payments received, less its share of their Stripe fees and of the refunds paid out of them: the
amount owed (``billing.selectors.settlements`` works it out from the ledger, for any month). A ``Settlement``
row freezes one statement when the partnership pays it out, so the amount sent never moves afterwards, and its id
is the idempotency key of the payout transfer (``billing.payouts``): paying the same settlement again sends
nothing more.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class PayoutStatus(models.TextChoices):
    PENDING = "pending", "Not yet paid out"
    PAID = "paid", "Paid out"
    FAILED = "failed", "Payout failed: needs finance"


class Settlement(models.Model):
    council = models.ForeignKey("portal.Council", on_delete=models.PROTECT, related_name="settlements")
    month = models.DateField(help_text="The first day of the month settled.")
    income_pence = models.BigIntegerField(help_text="Card income collected for the council in the month.")
    fees_pence = models.BigIntegerField(help_text="The council's share of the Stripe fees (a positive amount).")
    refunds_pence = models.BigIntegerField(help_text="Refunds paid out of the council's income (a positive amount).")
    owed_pence = models.BigIntegerField()
    payment_count = models.PositiveIntegerField(default=0)
    payout_status = models.CharField(max_length=20, choices=PayoutStatus.choices, default=PayoutStatus.PENDING)
    payout_reference = models.CharField(max_length=255, blank=True, help_text="The transfer's id at the provider.")
    payout_destination = models.CharField(max_length=255, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    paid_out_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-month", "council__name"]
        constraints = [
            models.UniqueConstraint(fields=["council", "month"], name="one_settlement_per_council_month"),
            models.CheckConstraint(
                condition=Q(owed_pence=models.F("income_pence") - models.F("fees_pence") - models.F("refunds_pence")),
                name="settlement_owed_is_income_less_fees_and_refunds",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.council} settlement {self.month:%B %Y}: {self.owed_pence}p"
