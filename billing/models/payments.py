"""Our record of a card payment (a Stripe PaymentIntent) and of refunds against it.

The row is created, with its idempotency key, *before* Stripe is called, so that a retried request finds it
and a webhook that arrives before the request returns can still be matched (its metadata carries our id).
``status`` only moves along ``ALLOWED_TRANSITIONS``: once a payment has succeeded, only refunds move it, so a
late or replayed ``payment_failed`` can never undo a success. Transitions happen in
``billing.services.payments`` under a row lock.
"""

from django.db import models
from django.db.models import Q


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Not yet confirmed"
    REQUIRES_ACTION = "requires_action", "Waiting for the card holder (3-D Secure)"
    PROCESSING = "processing", "Processing"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Cancelled"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIALLY_REFUNDED = "partially_refunded", "Partly refunded"
    REFUNDED = "refunded", "Refunded"


_S = PaymentStatus
_OPEN = {_S.PENDING, _S.REQUIRES_ACTION, _S.PROCESSING, _S.FAILED}
# A failed attempt can be retried on the same PaymentIntent, so FAILED is not terminal; SUCCEEDED is, except
# for refunds; CANCELED and REFUNDED are final.
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    _S.PENDING: _OPEN | {_S.SUCCEEDED, _S.CANCELED},
    _S.REQUIRES_ACTION: _OPEN | {_S.SUCCEEDED, _S.CANCELED},
    _S.PROCESSING: _OPEN | {_S.SUCCEEDED, _S.CANCELED},
    _S.FAILED: _OPEN | {_S.SUCCEEDED, _S.CANCELED},
    _S.SUCCEEDED: {_S.PARTIALLY_REFUNDED, _S.REFUNDED},
    _S.PARTIALLY_REFUNDED: {_S.PARTIALLY_REFUNDED, _S.REFUNDED},
    _S.REFUNDED: set(),
    _S.CANCELED: set(),
}
SETTLED_STATUSES = frozenset({_S.SUCCEEDED, _S.PARTIALLY_REFUNDED, _S.REFUNDED})


def can_transition(current: str, new: str) -> bool:
    return new == current or new in ALLOWED_TRANSITIONS[PaymentStatus(current)]


class Payment(models.Model):
    reference = models.CharField(
        max_length=100, db_index=True, help_text="What is being paid for, e.g. 'basket:12/attempt:3' or an invoice."
    )
    amount_pence = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="gbp")
    status = models.CharField(max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    idempotency_key = models.CharField(max_length=255, unique=True)
    stripe_payment_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    stripe_payment_method_id = models.CharField(max_length=255, blank=True)
    stripe_charge_id = models.CharField(max_length=255, blank=True)
    amount_refunded_pence = models.BigIntegerField(default=0)
    fee_pence = models.BigIntegerField(null=True, blank=True, help_text="Stripe's fee, from the balance transaction.")
    metadata = models.JSONField(default=dict, blank=True, help_text="Council breakdown and what Stripe was told.")
    failure_code = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_pence__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(amount_refunded_pence__gte=0, amount_refunded_pence__lte=models.F("amount_pence")),
                name="payment_refund_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment {self.pk} {self.amount_pence}p {self.status}"

    @property
    def is_settled(self) -> bool:
        """The money arrived (whatever was refunded since)."""
        return self.status in SETTLED_STATUSES

    @property
    def council_shares(self) -> dict[str, int]:
        """Pence per providing council (LA code), as recorded when the payment was created."""
        return {code: int(pence) for code, pence in self.metadata.get("councils", {}).items()}


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed: needs finance"


class Refund(models.Model):
    """A refund asked of Stripe. Created under the payment's row lock, so requests never exceed the payment."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_pence = models.BigIntegerField()
    reason = models.CharField(max_length=300)
    status = models.CharField(max_length=20, choices=RefundStatus.choices, default=RefundStatus.REQUESTED)
    idempotency_key = models.CharField(max_length=255, unique=True)
    stripe_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    source_reference = models.CharField(max_length=100, blank=True, help_text="e.g. the credit note it pays out.")
    # Whose income the refund comes out of: the council of the credit note it pays out. Without one, the refund
    # is shared between the payment's councils in proportion to their shares (see billing.services.ledger).
    council = models.ForeignKey(
        "portal.Council", null=True, blank=True, on_delete=models.PROTECT, related_name="card_refunds"
    )
    credit_note = models.ForeignKey(
        "billing.BillingDocument", null=True, blank=True, on_delete=models.PROTECT, related_name="card_refunds"
    )
    succeeded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount_pence__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"Refund {self.pk} of {self.amount_pence}p ({self.status})"
