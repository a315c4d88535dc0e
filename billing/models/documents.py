"""Billing documents: VAT invoices, credit notes and internal recharges, with their lines.

One table holds all three kinds (``document_type``), with proxy models ``Invoice``, ``CreditNote`` and
``InternalRecharge`` for code that means one of them: they share numbering, snapshots, lines, totals, the PDF and
the ledger, and a credit note refers to its invoice in the same table.

A document is issued when it is created (by ``billing.services.documents``) and never changes afterwards: the
supplier and customer are snapshots taken at issue, lines are written once, and the totals are stored. Only the
settlement fields (what has been paid or credited, and the status derived from them) move. ``save()``,
``QuerySet.update()`` and deletes enforce this, so a slip in later code fails loudly instead of silently
rewriting a document a school already holds. A mistake is corrected by a credit note, as HMRC expects.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum

from billing.vat import VatTreatment

from .sequences import DocumentType


class ImmutableDocumentError(Exception):
    """Raised on an attempt to change or delete an issued document or its lines."""


class PaymentRoute(models.TextChoices):
    CARD = "card", "Card payment"
    INVOICE = "invoice", "Invoice"
    RECHARGE = "recharge", "Internal recharge"


class DocumentStatus(models.TextChoices):
    ISSUED = "issued", "Issued"
    PART_PAID = "part_paid", "Part paid"
    PAID = "paid", "Paid"
    CANCELLED = "cancelled", "Cancelled by credit note"


# The only fields that may change once a document exists: what has been paid or credited against it.
SETTLEMENT_FIELDS = frozenset({"status", "amount_paid_pence", "amount_credited_pence", "paid_on", "updated_at"})


class DocumentQuerySet(models.QuerySet):
    def update(self, **kwargs):
        frozen = set(kwargs) - SETTLEMENT_FIELDS
        if frozen:
            raise ImmutableDocumentError(f"Issued documents cannot change {', '.join(sorted(frozen))}.")
        return super().update(**kwargs)

    def delete(self):
        raise ImmutableDocumentError("Issued documents are never deleted; issue a credit note instead.")

    def invoices(self):
        return self.filter(document_type=DocumentType.INVOICE)

    def credit_notes(self):
        return self.filter(document_type=DocumentType.CREDIT_NOTE)

    def recharges(self):
        return self.filter(document_type=DocumentType.RECHARGE)


class BillingDocument(models.Model):
    council = models.ForeignKey("portal.Council", on_delete=models.PROTECT, related_name="billing_documents")
    document_type = models.CharField(max_length=20, choices=DocumentType.choices)
    number = models.CharField(max_length=32)
    year = models.PositiveSmallIntegerField()
    sequence_number = models.PositiveIntegerField()
    route = models.CharField(max_length=20, choices=PaymentRoute.choices)
    school = models.ForeignKey(
        "portal.School", null=True, blank=True, on_delete=models.PROTECT, related_name="billing_documents"
    )
    # Snapshots at issue: what the document says, whatever later happens to the council or the school.
    supplier = models.JSONField(help_text="Council name, address, VAT number, remittance details, ledger codes.")
    customer = models.JSONField(help_text="School name, address lines, URN, LAESTAB.")
    customer_name = models.CharField(max_length=200)
    po_number = models.CharField("purchase order number", max_length=60, blank=True)
    issue_date = models.DateField(help_text="Date of issue, which is also the tax point.")
    due_date = models.DateField()
    currency = models.CharField(max_length=3, default="GBP")
    net_pence = models.BigIntegerField()
    vat_pence = models.BigIntegerField()
    gross_pence = models.BigIntegerField()
    credited_document = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        help_text="For a credit note: the invoice it credits.",
    )
    reason = models.TextField(blank=True, help_text="Why a credit note was issued.")
    source_reference = models.CharField(
        max_length=100, blank=True, db_index=True, help_text="What the document was issued for, e.g. 'booking:42'."
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Settlement: the only fields that change after issue.
    status = models.CharField(max_length=20, choices=DocumentStatus.choices, default=DocumentStatus.ISSUED)
    amount_paid_pence = models.BigIntegerField(default=0)
    amount_credited_pence = models.BigIntegerField(default=0)
    paid_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-issue_date", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["council", "number"], name="document_number_unique_per_council"),
            models.UniqueConstraint(
                fields=["council", "document_type", "year", "sequence_number"], name="document_sequence_unique"
            ),
            models.CheckConstraint(
                condition=Q(gross_pence=models.F("net_pence") + models.F("vat_pence")),
                name="document_gross_is_net_plus_vat",
            ),
            models.CheckConstraint(
                condition=Q(amount_paid_pence__gte=0, amount_credited_pence__gte=0),
                name="document_settlement_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(amount_credited_pence__lte=models.F("gross_pence")), name="document_not_over_credited"
            ),
            models.CheckConstraint(
                condition=Q(document_type=DocumentType.CREDIT_NOTE, credited_document__isnull=False)
                | (~Q(document_type=DocumentType.CREDIT_NOTE) & Q(credited_document__isnull=True)),
                name="credit_note_refers_to_document",
            ),
            # A booking is billed once per providing council ("booking:<ref>:council:<la code>"; see
            # billing.services.bookings): a retried or duplicated task can never issue a second invoice or recharge.
            # Credit notes copy their invoice's reference, so they are left out.
            models.UniqueConstraint(
                fields=["source_reference"],
                condition=Q(source_reference__startswith="booking:") & ~Q(document_type=DocumentType.CREDIT_NOTE),
                name="one_document_per_booking_council",
            ),
        ]
        indexes = [models.Index(fields=["council", "document_type", "issue_date"])]

    def __str__(self) -> str:
        return f"{self.get_document_type_display()} {self.number}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                frozen = set(update_fields) - SETTLEMENT_FIELDS
                if frozen:
                    raise ImmutableDocumentError(f"{self} is issued: {', '.join(sorted(frozen))} cannot change.")
            else:
                self._refuse_content_changes()
        super().save(*args, **kwargs)

    def _refuse_content_changes(self) -> None:
        content = [f.attname for f in self._meta.concrete_fields if f.name not in SETTLEMENT_FIELDS]
        stored = type(self)._base_manager.filter(pk=self.pk).values(*content).first()
        if stored is None:
            return
        changed = sorted(name for name in content if stored[name] != getattr(self, name))
        if changed:
            raise ImmutableDocumentError(f"{self} is issued: {', '.join(changed)} cannot change.")

    def delete(self, *args, **kwargs):
        raise ImmutableDocumentError(f"{self} is issued and is never deleted; issue a credit note instead.")

    # --- reading ------------------------------------------------------------------------------------------
    @property
    def is_invoice(self) -> bool:
        return self.document_type == DocumentType.INVOICE

    @property
    def is_credit_note(self) -> bool:
        return self.document_type == DocumentType.CREDIT_NOTE

    @property
    def is_recharge(self) -> bool:
        return self.document_type == DocumentType.RECHARGE

    @property
    def kind_label(self) -> str:
        """What the document is, in the words printed on it: an invoice paid in full is a receipt."""
        if self.is_invoice and self.status == DocumentStatus.PAID:
            return "Receipt"
        return self.get_document_type_display()

    @property
    def awaits_payment(self) -> bool:
        """An invoice with money still owed on it (a recharge is settled by journal, not paid by the school)."""
        return self.is_invoice and self.status != DocumentStatus.CANCELLED and self.outstanding_pence > 0

    @property
    def reference_for_customer(self) -> str:
        """Our reference as the school knows it: the booking's reference, not the internal source key."""
        kind, _, rest = self.source_reference.partition(":")
        if kind == "booking" and rest:
            return f"Booking {rest.split(':', 1)[0]}"
        return self.source_reference

    @property
    def outstanding_pence(self) -> int:
        """What is still owed: gross less payments and credits (never below zero)."""
        return max(self.gross_pence - self.amount_paid_pence - self.amount_credited_pence, 0)

    @property
    def creditable_pence(self) -> int:
        return self.gross_pence - self.amount_credited_pence

    def totals_by_vat(self) -> list[dict]:
        """Net, VAT and gross per VAT treatment and rate, in a stable order (for the VAT summary on the PDF)."""
        rows = (
            self.lines.values("vat_treatment", "vat_rate", "vat_label")
            .annotate(net=Sum("net_pence"), vat=Sum("vat_pence"), gross=Sum("gross_pence"))
            .order_by("-vat_rate", "vat_treatment")
        )
        return [
            {
                "treatment": row["vat_treatment"],
                "rate": row["vat_rate"],
                "label": row["vat_label"],
                "net_pence": row["net"],
                "vat_pence": row["vat"],
                "gross_pence": row["gross"],
            }
            for row in rows
        ]


class InvoiceManager(models.Manager.from_queryset(DocumentQuerySet)):
    document_type = DocumentType.INVOICE

    def get_queryset(self):
        return super().get_queryset().filter(document_type=self.document_type)


class CreditNoteManager(InvoiceManager):
    document_type = DocumentType.CREDIT_NOTE


class RechargeManager(InvoiceManager):
    document_type = DocumentType.RECHARGE


class Invoice(BillingDocument):
    """A VAT invoice (or, paid by card, a receipt) from one council to one customer."""

    objects = InvoiceManager()

    class Meta:
        proxy = True


class CreditNote(BillingDocument):
    """A credit against an invoice: its lines refer to the invoice lines they credit."""

    objects = CreditNoteManager()

    class Meta:
        proxy = True


class InternalRecharge(BillingDocument):
    """A journal charging a maintained school's budget within its own council: not a VAT invoice."""

    objects = RechargeManager()

    class Meta:
        proxy = True


class LineQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableDocumentError("Lines of issued documents never change.")

    def delete(self):
        raise ImmutableDocumentError("Lines of issued documents are never deleted.")


class DocumentLine(models.Model):
    """One line of a document, written once by the issuing service (``bulk_create``) and never changed."""

    document = models.ForeignKey(BillingDocument, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=10, decimal_places=2)
    unit_net_pence = models.BigIntegerField()
    net_pence = models.BigIntegerField()
    vat_treatment = models.CharField(max_length=20, choices=VatTreatment.choices)
    vat_rate = models.DecimalField(max_digits=5, decimal_places=4)
    vat_label = models.CharField(max_length=40)
    vat_pence = models.BigIntegerField()
    gross_pence = models.BigIntegerField()
    cost_centre = models.CharField(max_length=20)
    income_code = models.CharField(max_length=20)
    source_reference = models.CharField(
        max_length=100, blank=True, db_index=True, help_text="The booking line (or other source) this line bills."
    )
    credited_line = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_lines",
        help_text="For a credit note line: the invoice line it credits.",
    )

    objects = LineQuerySet.as_manager()

    class Meta:
        ordering = ["document", "position"]
        constraints = [
            models.UniqueConstraint(fields=["document", "position"], name="line_position_unique"),
            models.CheckConstraint(
                condition=Q(gross_pence=models.F("net_pence") + models.F("vat_pence")),
                name="line_gross_is_net_plus_vat",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}/{self.position}: {self.description}"

    def save(self, *args, **kwargs):
        raise ImmutableDocumentError("Lines are written only by the service that issues their document.")

    def delete(self, *args, **kwargs):
        raise ImmutableDocumentError("Lines of issued documents are never deleted.")


class PaymentMethod(models.TextChoices):
    CARD = "card", "Card"
    BANK_TRANSFER = "bank_transfer", "Bank transfer (BACS)"
    CHEQUE = "cheque", "Cheque"
    JOURNAL = "journal", "Internal journal"
    OTHER = "other", "Other"


class DocumentPayment(models.Model):
    """Money received against an invoice or recharge: a card payment's share, a BACS receipt, a journal.

    A card payment applies to a document at most once (a unique constraint), so a replayed webhook or a retried
    task cannot pay an invoice twice.
    """

    document = models.ForeignKey(BillingDocument, on_delete=models.PROTECT, related_name="payments")
    amount_pence = models.BigIntegerField()
    paid_on = models.DateField()
    method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    reference = models.CharField(max_length=100, blank=True)
    card_payment = models.ForeignKey(
        "billing.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="document_payments"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["paid_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_pence__gt=0), name="document_payment_positive"),
            models.UniqueConstraint(
                fields=["document", "card_payment"],
                condition=Q(card_payment__isnull=False),
                name="card_payment_applied_once_per_document",
            ),
            # A bank receipt is known by its reference, amount and date: the same line of a remittance or bank
            # file uploaded twice (or typed in twice) is one payment, not two.
            models.UniqueConstraint(
                fields=["document", "reference", "amount_pence", "paid_on"],
                condition=Q(card_payment__isnull=True) & ~Q(reference=""),
                name="bank_receipt_recorded_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount_pence}p to {self.document} on {self.paid_on}"
