"""Gapless document numbers, one sequence per council, document type and year.

Each council is its own legal entity, so each numbers its own invoices, credit notes and recharges. A VAT
invoice number must be sequential without gaps, which rules out database sequences (a rolled-back transaction
burns a value): the next number lives in a row that the issuing transaction locks (``SELECT ... FOR UPDATE``),
increments and commits together with the document. Issuers of the same council and type queue on that one row;
other councils, types and years do not wait for each other. If the issuing transaction rolls back, so does the
increment, and no number is lost.
"""

from django.db import models


class DocumentType(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"
    RECHARGE = "recharge", "Internal recharge"


# Infix between the council's prefix and the year: SCC-2026-000123, SCC-CN-2026-000004, SCC-RC-2026-000001.
NUMBER_INFIX = {
    DocumentType.INVOICE: "",
    DocumentType.CREDIT_NOTE: "CN-",
    DocumentType.RECHARGE: "RC-",
}


def format_document_number(*, prefix: str, document_type: str, year: int, number: int) -> str:
    return f"{prefix}-{NUMBER_INFIX[DocumentType(document_type)]}{year}-{number:06d}"


class InvoiceSequence(models.Model):
    council = models.ForeignKey("portal.Council", on_delete=models.PROTECT, related_name="invoice_sequences")
    document_type = models.CharField(max_length=20, choices=DocumentType.choices)
    year = models.PositiveSmallIntegerField(help_text="Calendar year of the documents' issue date (tax point).")
    next_number = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["council", "document_type", "year"], name="one_sequence_per_council_type_year"
            ),
            models.CheckConstraint(condition=models.Q(next_number__gte=1), name="sequence_next_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.council} {self.get_document_type_display()} {self.year}: next {self.next_number}"
