"""The income ledger: append-only entries per council, per document line and per movement of money.

Finance reads its income from here, sorted by council: what was sold (invoice and receipt lines), credited
(credit-note lines) and recharged (journal lines), and what money moved (payments received, each council's
share of a card payment's Stripe fee, refunds paid out). Amounts are signed from the council's point of view:
sales, recharges and payments received are positive; credits, card fees and refunds are negative. Every entry
has ``gross = net + VAT``.

Entries are written by ``billing.services.ledger``, inside the transaction that issues, credits, pays or
refunds, and each carries an ``entry_key`` naming what it records (``line:42``, ``fee:7:860`` ...). The unique
key is what makes posting idempotent: posting the same thing again (a retried task, a replayed webhook)
inserts nothing. A wrong entry is never edited or deleted; the document or payment behind it is corrected by a
credit note or a refund, which posts its own entries. ``save()``, ``QuerySet.update()`` and deletes refuse.
"""

from django.db import models
from django.db.models import Q

from .documents import PaymentRoute


class LedgerError(Exception):
    """Raised on an attempt to change or delete a ledger entry."""


class LedgerEntryType(models.TextChoices):
    SALE = "sale", "Sale"
    CREDIT = "credit", "Credit note"
    RECHARGE = "recharge", "Internal recharge"
    PAYMENT = "payment", "Payment received"
    CARD_FEE = "card_fee", "Card fee"
    REFUND = "refund", "Card refund"


# Entry types that mirror document lines: per document they add up to its totals (credits negated).
DOCUMENT_ENTRY_TYPES = frozenset({LedgerEntryType.SALE, LedgerEntryType.CREDIT, LedgerEntryType.RECHARGE})


class LedgerQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise LedgerError("Ledger entries are append-only: post a correcting entry instead.")

    def delete(self):
        raise LedgerError("Ledger entries are append-only and never deleted.")

    def for_council(self, council):
        return self.filter(council=council)

    def totals(self) -> dict[str, int]:
        """Net, VAT and gross of the entries (zeros when there are none)."""
        sums = self.aggregate(net=models.Sum("net_pence"), vat=models.Sum("vat_pence"), gross=models.Sum("gross_pence"))
        return {key: sums[key] or 0 for key in ("net", "vat", "gross")}


class LedgerEntry(models.Model):
    entry_key = models.CharField(
        max_length=120, unique=True, help_text="What this entry records, e.g. 'line:42'; unique, so posting is once."
    )
    entry_type = models.CharField(max_length=20, choices=LedgerEntryType.choices)
    council = models.ForeignKey("portal.Council", on_delete=models.PROTECT, related_name="ledger_entries")
    route = models.CharField(max_length=20, choices=PaymentRoute.choices)
    school = models.ForeignKey(
        "portal.School", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    description = models.CharField(max_length=300)
    net_pence = models.BigIntegerField()
    vat_pence = models.BigIntegerField()
    gross_pence = models.BigIntegerField()
    vat_treatment = models.CharField(max_length=20, blank=True, help_text="Blank for movements of money.")
    vat_rate = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    cost_centre = models.CharField(max_length=20)
    income_code = models.CharField(max_length=20)
    tax_point = models.DateField(
        help_text="The document's tax point (issue date); for money, the day it was received or paid out."
    )
    posted_at = models.DateTimeField(auto_now_add=True)
    document = models.ForeignKey(
        "billing.BillingDocument", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    document_line = models.ForeignKey(
        "billing.DocumentLine", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    document_payment = models.ForeignKey(
        "billing.DocumentPayment", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    payment = models.ForeignKey(
        "billing.Payment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        help_text="The card payment behind a card receipt, fee or refund.",
    )
    refund = models.ForeignKey(
        "billing.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["tax_point", "pk"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(gross_pence=models.F("net_pence") + models.F("vat_pence")),
                name="ledger_gross_is_net_plus_vat",
            ),
        ]
        indexes = [
            models.Index(fields=["council", "tax_point"], name="ledger_council_date_idx"),
            models.Index(fields=["council", "entry_type", "tax_point"], name="ledger_council_type_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_entry_type_display()} {self.gross_pence}p {self.council_id} ({self.entry_key})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise LedgerError("Ledger entries are append-only: post a correcting entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerError("Ledger entries are append-only and never deleted.")
