"""Posting to the income ledger (``billing.models.LedgerEntry``): one function per thing that posts.

Each runs inside the transaction of the change it records (issuing a document, recording a payment, storing a
card fee, a refund succeeding), so the ledger and the documents never disagree, even for a moment. Each is
idempotent: entries carry a key naming what they record, keys already posted are skipped, and the unique index
on the key stops a concurrent duplicate (its transaction fails and its task retries, finding the entries).

What posts what (amounts signed from the council's side):

- a document: one entry per line (``sale`` for invoices and receipts, ``recharge`` for journals, ``credit`` for
  credit notes, negated), at the document's tax point;
- money received against an invoice by bank transfer, cheque or journal: one ``payment`` entry per line of the
  invoice, the amount apportioned over the lines (by what remains of each after credits) and, within a line,
  over its net and VAT, so every entry's income code is kept and the parts add up exactly to the payment;
- a card payment when its money arrives: one ``payment`` entry per providing council, for its share (the split
  recorded on the payment). Card money is posted once, here, whatever documents it later settles;
  its entries (and its fee's and refunds') carry the paying school, found from what the payment is for (an
  invoice, or a booking), so a council reconciles card income per school as it does invoice income;
- a card payment's Stripe fee: one ``card_fee`` entry per council, the fee apportioned by the councils' shares
  (largest remainder: the parts add up exactly to the fee);
- a card refund: one ``refund`` entry for the council whose credit it pays out, or, without one, the refund
  apportioned by the payment's shares.
"""

import datetime
from collections.abc import Iterable

from django.db.models import Sum
from django.utils import timezone

from billing.models import (
    BillingDocument,
    DocumentLine,
    DocumentPayment,
    DocumentType,
    LedgerEntry,
    LedgerEntryType,
    Payment,
    PaymentRoute,
    Refund,
)
from billing.money import apportion
from portal.models import Council

DOCUMENT_ENTRY_TYPE = {
    DocumentType.INVOICE: LedgerEntryType.SALE,
    DocumentType.CREDIT_NOTE: LedgerEntryType.CREDIT,
    DocumentType.RECHARGE: LedgerEntryType.RECHARGE,
}
INVOICE_REFERENCE_PREFIX = "invoice:"
# Card payments for a booking are named "booking:<reference>" (billing.services.booking_payments).
BOOKING_REFERENCE_PREFIX = "booking:"


def _post(entries: Iterable[LedgerEntry]) -> list[LedgerEntry]:
    """Insert the entries whose keys are not posted yet; return those inserted."""
    entries = list(entries)
    if not entries:
        return []
    for entry in entries:
        # Checked here, not left to the database alone: every split below must add up, and a slip should name
        # the entry rather than surface as a constraint violation.
        if entry.gross_pence != entry.net_pence + entry.vat_pence:
            raise ValueError(f"ledger entry {entry.entry_key}: gross is not net + VAT")
    posted = set(
        LedgerEntry.objects.filter(entry_key__in=[entry.entry_key for entry in entries]).values_list(
            "entry_key", flat=True
        )
    )
    new = [entry for entry in entries if entry.entry_key not in posted]
    LedgerEntry.objects.bulk_create(new)
    return new


def _local_date(moment: datetime.datetime | None) -> datetime.date:
    return timezone.localdate(moment) if moment else timezone.localdate()


def post_document(*, document: BillingDocument) -> list[LedgerEntry]:
    """One entry per line of an issued invoice, recharge or credit note (credits negative)."""
    entry_type = DOCUMENT_ENTRY_TYPE[DocumentType(document.document_type)]
    sign = -1 if entry_type == LedgerEntryType.CREDIT else 1
    return _post(
        LedgerEntry(
            entry_key=f"line:{line.pk}",
            entry_type=entry_type,
            council_id=document.council_id,
            route=document.route,
            school_id=document.school_id,
            description=f"{document.number}/{line.position}: {line.description}"[:300],
            net_pence=sign * line.net_pence,
            vat_pence=sign * line.vat_pence,
            gross_pence=sign * line.gross_pence,
            vat_treatment=line.vat_treatment,
            vat_rate=line.vat_rate,
            cost_centre=line.cost_centre,
            income_code=line.income_code,
            tax_point=document.issue_date,
            document=document,
            document_line=line,
        )
        for line in document.lines.all()
    )


def _line_weights(document: BillingDocument, lines: list[DocumentLine]) -> list[int]:
    """What remains of each line after credits (or, if nothing does, the lines' gross) to weigh a payment by."""
    credited = dict(
        DocumentLine.objects.filter(credited_line__document=document)
        .values_list("credited_line")
        .annotate(total=Sum("gross_pence"))
    )
    remaining = [max(line.gross_pence - credited.get(line.pk, 0), 0) for line in lines]
    return remaining if any(remaining) else [line.gross_pence for line in lines]


def post_document_payment(*, document_payment: DocumentPayment) -> list[LedgerEntry]:
    """Money received against a document other than by card, over its lines (card money posts on arrival)."""
    if document_payment.card_payment_id is not None:
        return []
    document = document_payment.document
    lines = list(document.lines.all())
    shares = apportion(document_payment.amount_pence, _line_weights(document, lines))
    entries = []
    for line, share in zip(lines, shares, strict=True):
        if share == 0:
            continue
        net, vat = apportion(share, [line.net_pence, line.vat_pence]) if line.gross_pence else (share, 0)
        entries.append(
            LedgerEntry(
                entry_key=f"docpay:{document_payment.pk}:{line.pk}",
                entry_type=LedgerEntryType.PAYMENT,
                council_id=document.council_id,
                route=document.route,
                school_id=document.school_id,
                description=(
                    f"{document_payment.get_method_display()} {document_payment.reference or ''} "
                    f"for {document.number}/{line.position}"
                )[:300],
                net_pence=net,
                vat_pence=vat,
                gross_pence=share,
                vat_treatment=line.vat_treatment,
                vat_rate=line.vat_rate,
                cost_centre=line.cost_centre,
                income_code=line.income_code,
                tax_point=document_payment.paid_on,
                document=document,
                document_line=line,
                document_payment=document_payment,
            )
        )
    return _post(entries)


def _share_councils(payment: Payment) -> list[tuple[Council, int]]:
    """The payment's councils with their shares, in LA-code order (the order ties are broken in)."""
    shares = payment.council_shares
    councils = {council.la_code: council for council in Council.objects.filter(la_code__in=shares)}
    missing = set(shares) - set(councils)
    if missing:
        raise ValueError(f"payment {payment.pk} names councils that do not exist: {sorted(missing)}")
    return [(councils[code], shares[code]) for code in sorted(shares)]


def invoice_for_payment(payment: Payment) -> BillingDocument | None:
    """The invoice a card payment pays, when it was taken from an invoice's page ("invoice:<id>")."""
    if not payment.reference.startswith(INVOICE_REFERENCE_PREFIX):
        return None
    document_id = payment.reference.removeprefix(INVOICE_REFERENCE_PREFIX)
    if not document_id.isdigit():
        return None
    return BillingDocument.objects.filter(pk=int(document_id)).first()


def school_id_for_payment(payment: Payment) -> int | None:
    """The school a card payment came from: the invoice's school, or the booking's (None if neither is known)."""
    invoice = invoice_for_payment(payment)
    if invoice is not None:
        return invoice.school_id
    if payment.reference.startswith(BOOKING_REFERENCE_PREFIX):
        from bookings.models import Booking  # billing sits above bookings (DESIGN.md); imported where it is used

        reference = payment.reference.removeprefix(BOOKING_REFERENCE_PREFIX)
        return Booking.objects.filter(reference=reference).values_list("school_id", flat=True).first()
    return None


def post_card_payment(*, payment: Payment) -> list[LedgerEntry]:
    """Card money received: one entry per council for its share, naming the school that paid."""
    if not payment.is_settled:
        return []
    invoice = invoice_for_payment(payment)
    school_id = invoice.school_id if invoice else school_id_for_payment(payment)
    tax_point = _local_date(payment.succeeded_at)
    return _post(
        LedgerEntry(
            entry_key=f"card:{payment.pk}:{council.pk}",
            entry_type=LedgerEntryType.PAYMENT,
            council=council,
            route=PaymentRoute.CARD,
            school_id=school_id,
            description=f"Card payment {payment.pk} ({payment.reference})"[:300],
            net_pence=share,
            vat_pence=0,
            gross_pence=share,
            cost_centre=council.default_cost_centre,
            income_code=council.default_income_code,
            tax_point=tax_point,
            document=invoice if invoice and invoice.council_id == council.pk else None,
            payment=payment,
        )
        for council, share in _share_councils(payment)
        if share
    )


def fee_shares(payment: Payment) -> list[tuple[Council, int]]:
    """Each council's share of the payment's Stripe fee, largest remainder: the parts sum to the fee."""
    councils = _share_councils(payment)
    parts = apportion(payment.fee_pence or 0, [share for _, share in councils])
    return [(council, part) for (council, _), part in zip(councils, parts, strict=True)]


def post_card_fee(*, payment: Payment) -> list[LedgerEntry]:
    """The Stripe fee of a card payment, split between its councils (negative: it reduces what they are owed)."""
    if payment.fee_pence is None:
        return []
    school_id = school_id_for_payment(payment)
    tax_point = _local_date(payment.succeeded_at)
    return _post(
        LedgerEntry(
            entry_key=f"fee:{payment.pk}:{council.pk}",
            entry_type=LedgerEntryType.CARD_FEE,
            council=council,
            route=PaymentRoute.CARD,
            school_id=school_id,
            description=f"Card fee share, payment {payment.pk}"[:300],
            net_pence=-part,
            vat_pence=0,
            gross_pence=-part,
            cost_centre=council.default_cost_centre,
            income_code=council.default_income_code,
            tax_point=tax_point,
            payment=payment,
        )
        for council, part in fee_shares(payment)
        if part
    )


def refund_shares(refund: Refund) -> list[tuple[Council, int]]:
    """Whose income a refund comes out of: the credit's council, else every council by its share."""
    if refund.council_id is not None:
        return [(refund.council, refund.amount_pence)]
    councils = _share_councils(refund.payment)
    parts = apportion(refund.amount_pence, [share for _, share in councils])
    return [(council, part) for (council, _), part in zip(councils, parts, strict=True)]


def post_refund(*, refund: Refund) -> list[LedgerEntry]:
    """A card refund paid out (negative), once Stripe has made it."""
    tax_point = _local_date(refund.succeeded_at)
    school_id = refund.credit_note.school_id if refund.credit_note_id else school_id_for_payment(refund.payment)
    return _post(
        LedgerEntry(
            entry_key=f"refund:{refund.pk}:{council.pk}",
            entry_type=LedgerEntryType.REFUND,
            council=council,
            route=PaymentRoute.CARD,
            school_id=school_id,
            description=f"Card refund {refund.pk}: {refund.reason}"[:300],
            net_pence=-part,
            vat_pence=0,
            gross_pence=-part,
            cost_centre=council.default_cost_centre,
            income_code=council.default_income_code,
            tax_point=tax_point,
            document_id=refund.credit_note_id,
            payment_id=refund.payment_id,
            refund=refund,
        )
        for council, part in refund_shares(refund)
        if part
    )
