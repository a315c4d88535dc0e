"""Allocating the next gapless document number of a council (see ``billing.models.sequences``)."""

from django.db import transaction

from billing.models import DocumentType, InvoiceSequence
from billing.models.sequences import format_document_number
from portal.models import Council


def allocate_document_number(*, council: Council, document_type: str, year: int) -> tuple[int, str]:
    """Take the next number of the council's sequence for this type and year: ``(123, 'SCC-2026-000123')``.

    Must run inside the transaction that creates the document: the sequence row stays locked until that
    transaction ends, so concurrent issuers of the same council and type wait here, and a rollback returns the
    number. Call it as late as possible in the transaction (after validation and price arithmetic) so the lock
    is held briefly.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("allocate_document_number must be called inside the issuing transaction")
    document_type = DocumentType(document_type)
    # SELECT ... FOR UPDATE finds and locks the row; the first issuer of a year creates it (a row we inserted is
    # ours until commit, and a concurrent creator fails on the unique constraint and then waits on the lock).
    sequence, _ = InvoiceSequence.objects.select_for_update().get_or_create(
        council=council, document_type=document_type, year=year
    )
    number = sequence.next_number
    sequence.next_number = number + 1
    sequence.save(update_fields=["next_number"])
    return number, format_document_number(
        prefix=council.invoice_prefix, document_type=document_type, year=year, number=number
    )
