"""Finance tasks: money matters the portal could not settle by itself, left where a finance officer sees them.

A row is opened when something cannot be done automatically and must not be silently lost: a card refund Stripe
refused, a refund that could not even be asked for, an internal recharge that needs reversing by journal (a
recharge cannot be credited), card money for a booking that could no longer be confirmed, card money for an
invoice beyond what it still owed that could not be refunded, a booking that could not be billed. Each task
belongs to the council whose finance officers must act (none: the partnership's administrators), and carries a
``key`` naming what it is about, so a retried task or a repeated sweep opens it once. Finance closes it with a
note saying what they did.
"""

from django.conf import settings
from django.db import models


class FinanceTaskKind(models.TextChoices):
    REFUND_FAILED = "refund_failed", "Card refund refused"
    REFUND_NOT_REQUESTED = "refund_not_requested", "Card refund could not be asked for"
    RECHARGE_REVERSAL = "recharge_reversal", "Internal recharge to reverse"
    UNCONFIRMED_PAYMENT = "unconfirmed_payment", "Card payment for a booking that was not confirmed"
    CARD_OVERPAYMENT = "card_overpayment", "Card payment for more than was owed"
    BILLING_FAILED = "billing_failed", "Booking could not be billed"


class FinanceTaskStatus(models.TextChoices):
    OPEN = "open", "Needs action"
    DONE = "done", "Dealt with"


class FinanceTask(models.Model):
    key = models.CharField(max_length=200, unique=True, help_text="What the task is about, e.g. 'refund:12'.")
    kind = models.CharField(max_length=30, choices=FinanceTaskKind.choices)
    council = models.ForeignKey(
        "portal.Council", null=True, blank=True, on_delete=models.PROTECT, related_name="finance_tasks"
    )
    title = models.CharField(max_length=200)
    details = models.TextField(blank=True)
    amount_pence = models.BigIntegerField(null=True, blank=True)
    booking_reference = models.CharField(max_length=16, blank=True, db_index=True)
    school = models.ForeignKey("portal.School", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    document = models.ForeignKey(
        "billing.BillingDocument", null=True, blank=True, on_delete=models.PROTECT, related_name="finance_tasks"
    )
    payment = models.ForeignKey(
        "billing.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="finance_tasks"
    )
    refund = models.ForeignKey(
        "billing.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="finance_tasks"
    )
    status = models.CharField(max_length=10, choices=FinanceTaskStatus.choices, default=FinanceTaskStatus.OPEN)
    resolution = models.TextField(blank=True, help_text="What finance did about it.")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["council", "status"], name="finance_task_council_status")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status == FinanceTaskStatus.OPEN
