"""Issuing invoices, internal recharges and credit notes, and recording what is paid against them.

Every function here is one transaction. Lock order, to keep concurrent callers from deadlocking: a document row
first (crediting or paying it), then a numbering sequence row (``allocate_document_number``, always last).
Issuing a new invoice only ever takes the sequence lock.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from billing.models import (
    BillingDocument,
    DocumentLine,
    DocumentPayment,
    DocumentStatus,
    DocumentType,
    Payment,
    PaymentMethod,
    PaymentRoute,
)
from billing.money import round_pence
from billing.vat import VatTreatment, vat_label, vat_on_net, vat_rate
from portal.models import Council, FundingRoute, School, User

from .ledger import post_document, post_document_payment
from .numbering import allocate_document_number

ZERO_RATED = {VatTreatment.EXEMPT, VatTreatment.ZERO, VatTreatment.OUTSIDE_SCOPE}


@dataclass(frozen=True)
class LineInput:
    """One line to bill. ``vat_rate`` is the rate snapshot of the booking line; omitted, today's rate applies."""

    description: str
    unit_net_pence: int
    vat_treatment: str
    quantity: Decimal = Decimal(1)
    cost_centre: str = ""
    income_code: str = ""
    source_reference: str = ""
    vat_rate: Decimal | None = None


@dataclass(frozen=True)
class CreditLineInput:
    """Credit (part of) an invoice line: ``net_pence`` None credits whatever of the line is not yet credited."""

    line: DocumentLine
    net_pence: int | None = None
    description: str = ""


@dataclass
class _PricedLine:
    description: str
    quantity: Decimal
    unit_net_pence: int
    net_pence: int
    vat_treatment: str
    vat_rate: Decimal
    vat_label: str
    vat_pence: int
    cost_centre: str
    income_code: str
    source_reference: str = ""
    credited_line: DocumentLine | None = field(default=None)

    @property
    def gross_pence(self) -> int:
        return self.net_pence + self.vat_pence


def supplier_snapshot(council: Council) -> dict:
    """What a document says about its issuer, copied at issue."""
    return {
        "council_id": council.pk,
        "name": council.name,
        "short_name": council.short_name,
        "la_code": council.la_code,
        "address_lines": [line.strip() for line in council.address.splitlines() if line.strip()],
        "vat_number": council.vat_number,
        "email": council.email,
        "telephone": council.telephone,
        "website": council.website,
        "bank_name": council.bank_name,
        "bank_account_name": council.bank_account_name,
        "bank_sort_code": council.bank_sort_code,
        "bank_account_number": council.bank_account_number,
        "remittance_email": council.remittance_email,
        "default_cost_centre": council.default_cost_centre,
        "default_income_code": council.default_income_code,
        "payment_terms_days": council.payment_terms_days,
        "is_demo_data": council.is_demo_data,
    }


def customer_snapshot(school: School) -> dict:
    """What a document says about the school it bills, copied at issue."""
    return {
        "school_id": school.pk,
        "name": school.name,
        "address_lines": school.address_lines,
        "urn": school.urn,
        "laestab": school.laestab,
        "la_code": school.la_code,
        "funding_route": school.funding_route,
        "trust_name": school.trust_name,
    }


def _price_lines(*, council: Council, lines: Sequence[LineInput]) -> list[_PricedLine]:
    if not lines:
        raise ValidationError("A document needs at least one line.")
    priced = []
    for number, line in enumerate(lines, start=1):
        if not line.description.strip():
            raise ValidationError(f"Line {number} needs a description.")
        if not isinstance(line.unit_net_pence, int) or line.unit_net_pence < 0:
            raise ValidationError(f"Line {number}: the unit price must be a whole number of pence, not negative.")
        quantity = Decimal(line.quantity)
        if quantity <= 0 or quantity != quantity.quantize(Decimal("0.01")):
            raise ValidationError(f"Line {number}: the quantity must be more than 0, to at most two places.")
        try:
            treatment = VatTreatment(line.vat_treatment)
        except ValueError:
            raise ValidationError(f"Line {number}: unknown VAT treatment {line.vat_treatment!r}.") from None
        rate = vat_rate(treatment) if line.vat_rate is None else Decimal(line.vat_rate)
        if treatment in ZERO_RATED and rate != 0:
            raise ValidationError(f"Line {number}: a {treatment.label.lower()} line cannot carry VAT.")
        net = round_pence(quantity * line.unit_net_pence)
        priced.append(
            _PricedLine(
                description=line.description.strip(),
                quantity=quantity,
                unit_net_pence=line.unit_net_pence,
                net_pence=net,
                vat_treatment=treatment,
                vat_rate=rate,
                vat_label=vat_label(treatment, rate),
                vat_pence=vat_on_net(net, rate),
                cost_centre=line.cost_centre or council.default_cost_centre,
                income_code=line.income_code or council.default_income_code,
                source_reference=line.source_reference,
            )
        )
    return priced


def _create_document(
    *,
    council: Council,
    document_type: str,
    route: str,
    priced: list[_PricedLine],
    supplier: dict,
    customer: dict,
    customer_name: str,
    school: School | None,
    issue_date: datetime.date,
    due_date: datetime.date,
    po_number: str = "",
    credited_document: BillingDocument | None = None,
    reason: str = "",
    source_reference: str = "",
    issued_by: User | None = None,
) -> BillingDocument:
    # The sequence lock is taken here, after all validation and arithmetic, and held until commit.
    sequence_number, number = allocate_document_number(
        council=council, document_type=document_type, year=issue_date.year
    )
    document = BillingDocument(
        council=council,
        document_type=document_type,
        number=number,
        year=issue_date.year,
        sequence_number=sequence_number,
        route=route,
        school=school,
        supplier=supplier,
        customer=customer,
        customer_name=customer_name,
        po_number=po_number,
        issue_date=issue_date,
        due_date=due_date,
        net_pence=sum(line.net_pence for line in priced),
        vat_pence=sum(line.vat_pence for line in priced),
        gross_pence=sum(line.gross_pence for line in priced),
        credited_document=credited_document,
        reason=reason,
        source_reference=source_reference,
        issued_by=issued_by,
    )
    # The uniqueness of the number is the database's job (and the lock's); skip the extra queries.
    document.full_clean(validate_unique=False, validate_constraints=False)
    document.save()
    DocumentLine.objects.bulk_create(
        DocumentLine(
            document=document,
            position=position,
            description=line.description,
            quantity=line.quantity,
            unit_net_pence=line.unit_net_pence,
            net_pence=line.net_pence,
            vat_treatment=line.vat_treatment,
            vat_rate=line.vat_rate,
            vat_label=line.vat_label,
            vat_pence=line.vat_pence,
            gross_pence=line.gross_pence,
            cost_centre=line.cost_centre,
            income_code=line.income_code,
            source_reference=line.source_reference,
            credited_line=line.credited_line,
        )
        for position, line in enumerate(priced, start=1)
    )
    # Same transaction as the document: the ledger never lags behind (or runs ahead of) what was issued.
    post_document(document=document)
    return document


def _today() -> datetime.date:
    return timezone.localdate()


@transaction.atomic
def issue_invoice(
    *,
    council: Council,
    customer: School,
    lines: Sequence[LineInput],
    po_number: str = "",
    route: str = PaymentRoute.INVOICE,
    issue_date: datetime.date | None = None,
    source_reference: str = "",
    issued_by: User | None = None,
) -> BillingDocument:
    """Issue one council's invoice to a school (or, on the recharge route, an internal recharge), numbered.

    ``route`` is how the school pays: ``card`` (the invoice becomes a receipt once the payment is recorded),
    ``invoice`` (30 days, or the council's terms) or ``recharge`` (a journal to a maintained school of the same
    council; it returns an ``InternalRecharge`` document, not a VAT invoice, and carries no VAT). The issue date
    is the tax point.
    """
    route = PaymentRoute(route)
    po_number = po_number.strip()
    if route == PaymentRoute.RECHARGE:
        if customer.council_id != council.pk or customer.funding_route != FundingRoute.MAINTAINED:
            raise ValidationError(
                f"{council.short_name} can recharge only its own maintained schools; {customer.name} must be invoiced."
            )
        document_type = DocumentType.RECHARGE
    else:
        if route == PaymentRoute.INVOICE and customer.requires_purchase_order and not po_number:
            raise ValidationError(f"{customer.name} asks for a purchase order number on every invoice.")
        document_type = DocumentType.INVOICE
    priced = _price_lines(council=council, lines=lines)
    if document_type == DocumentType.RECHARGE:
        # A maintained school is part of the council: a recharge moves budget inside one legal entity, which is
        # not a supply for VAT. Every line is outside the scope, whatever the service charges an outside buyer.
        for line in priced:
            line.vat_treatment = VatTreatment.OUTSIDE_SCOPE
            line.vat_rate = Decimal(0)
            line.vat_label = vat_label(VatTreatment.OUTSIDE_SCOPE)
            line.vat_pence = 0
    if not any(line.gross_pence for line in priced):
        # Nothing is charged, so nothing is supplied for a price: a numbered £0 VAT invoice (or journal) would only
        # use up a number in the council's sequence and put a document before the school asking for nothing.
        # Callers issue no document instead (billing.services.bookings skips a council whose lines are all free).
        raise ValidationError("Every line is free (£0.00): there is nothing to invoice, so no invoice is issued.")
    issue_date = issue_date or _today()
    return _create_document(
        council=council,
        document_type=document_type,
        route=route,
        priced=priced,
        supplier=supplier_snapshot(council),
        customer=customer_snapshot(customer),
        customer_name=customer.name,
        school=customer,
        issue_date=issue_date,
        due_date=issue_date + datetime.timedelta(days=council.payment_terms_days),
        po_number=po_number,
        source_reference=source_reference,
        issued_by=issued_by,
    )


def _credited_so_far(line: DocumentLine) -> tuple[int, int]:
    totals = line.credit_lines.aggregate(net=Sum("net_pence"), vat=Sum("vat_pence"))
    return totals["net"] or 0, totals["vat"] or 0


@transaction.atomic
def issue_credit_note(
    *,
    invoice: BillingDocument,
    lines: Sequence[CreditLineInput],
    reason: str,
    issue_date: datetime.date | None = None,
    issued_by: User | None = None,
) -> BillingDocument:
    """Credit (parts of) an invoice's lines, numbered in the council's credit-note sequence.

    Each credit line takes the VAT treatment, rate and ledger codes of the line it credits. A line can never be
    credited beyond its own net; crediting a line's last remaining net also credits exactly its remaining VAT,
    so a series of part credits never adds up to more (or less) VAT than the invoice charged.
    """
    if not reason.strip():
        raise ValidationError("Say why the credit note is issued.")
    # Lock the invoice first: credits of one invoice are serialised, so "what remains creditable" is stable.
    invoice = BillingDocument.objects.select_for_update().get(pk=invoice.pk)
    if invoice.document_type != DocumentType.INVOICE:
        raise ValidationError(f"Only invoices can be credited; {invoice} is not an invoice.")
    if not lines:
        raise ValidationError("A credit note needs at least one line.")
    priced = []
    seen = set()
    for line_input in lines:
        original = line_input.line
        if original.document_id != invoice.pk:
            raise ValidationError(f"Line {original.position} is not a line of {invoice.number}.")
        if original.pk in seen:
            raise ValidationError(f"Line {original.position} of {invoice.number} is credited twice.")
        seen.add(original.pk)
        credited_net, credited_vat = _credited_so_far(original)
        remaining_net = original.net_pence - credited_net
        remaining_vat = original.vat_pence - credited_vat
        net = remaining_net if line_input.net_pence is None else line_input.net_pence
        if not isinstance(net, int) or net <= 0:
            raise ValidationError(f"Line {original.position}: nothing to credit (credit a positive amount).")
        if net > remaining_net:
            raise ValidationError(
                f"Line {original.position} of {invoice.number} has only {remaining_net}p net left to credit, "
                f"not {net}p."
            )
        vat = remaining_vat if net == remaining_net else min(vat_on_net(net, original.vat_rate), remaining_vat)
        priced.append(
            _PricedLine(
                description=line_input.description or f"Credit: {original.description}",
                quantity=Decimal(1),
                unit_net_pence=net,
                net_pence=net,
                vat_treatment=original.vat_treatment,
                vat_rate=original.vat_rate,
                vat_label=original.vat_label,
                vat_pence=vat,
                cost_centre=original.cost_centre,
                income_code=original.income_code,
                source_reference=original.source_reference,
                credited_line=original,
            )
        )
    gross = sum(line.gross_pence for line in priced)
    if gross > invoice.creditable_pence:
        raise ValidationError(f"{invoice.number} has only {invoice.creditable_pence}p left to credit.")
    issue_date = issue_date or _today()
    credit_note = _create_document(
        council=invoice.council,
        document_type=DocumentType.CREDIT_NOTE,
        route=invoice.route,
        priced=priced,
        # The supplier is who issues the credit today; the customer is whoever the invoice was addressed to.
        supplier=supplier_snapshot(invoice.council),
        customer=invoice.customer,
        customer_name=invoice.customer_name,
        school=invoice.school,
        issue_date=issue_date,
        due_date=issue_date,
        po_number=invoice.po_number,
        credited_document=invoice,
        reason=reason.strip(),
        source_reference=invoice.source_reference,
        issued_by=issued_by,
    )
    invoice.amount_credited_pence += gross
    _settle(invoice, on=issue_date)
    return credit_note


@transaction.atomic
def credit_invoice_in_full(*, invoice: BillingDocument, reason: str, issued_by: User | None = None) -> BillingDocument:
    """Credit everything on the invoice not yet credited (a cancellation).

    The invoice row is locked before anything credited is read (issue_credit_note takes the same lock again,
    re-entrantly): a credit committed by another session while this one waited is then seen, so the lines still
    to credit are chosen from the invoice as it stands, not as it stood before the wait.
    """
    invoice = BillingDocument.objects.select_for_update().get(pk=invoice.pk)
    credited = dict(
        DocumentLine.objects.filter(credited_line__document=invoice)
        .values_list("credited_line")
        .annotate(total=Sum("net_pence"))
    )
    lines = [CreditLineInput(line=line) for line in invoice.lines.all() if line.net_pence > credited.get(line.pk, 0)]
    if not lines and invoice.document_type == DocumentType.INVOICE:
        raise ValidationError(f"{invoice.number} has nothing left to credit.")
    return issue_credit_note(invoice=invoice, lines=lines, reason=reason, issued_by=issued_by)


def _settle(document: BillingDocument, *, on: datetime.date) -> None:
    """Derive the status from what was paid and credited, and save only the settlement fields."""
    owed = document.gross_pence - document.amount_credited_pence
    if document.amount_credited_pence >= document.gross_pence and document.gross_pence > 0:
        document.status = DocumentStatus.CANCELLED
    elif document.amount_paid_pence >= owed and document.amount_paid_pence > 0:
        document.status = DocumentStatus.PAID
        document.paid_on = document.paid_on or on
    elif document.amount_paid_pence > 0:
        document.status = DocumentStatus.PART_PAID
    else:
        document.status = DocumentStatus.ISSUED
    document.save(update_fields=["status", "amount_paid_pence", "amount_credited_pence", "paid_on", "updated_at"])


@transaction.atomic
def record_document_payment(
    *,
    document: BillingDocument,
    amount_pence: int,
    paid_on: datetime.date,
    method: str,
    reference: str = "",
    card_payment: Payment | None = None,
    recorded_by: User | None = None,
) -> DocumentPayment:
    """Record money received against an invoice or recharge; a paid invoice then prints as a receipt.

    Idempotent for card payments: applying the same card payment to the same document again returns the first
    record and changes nothing (a replayed webhook, a retried task).
    """
    document = BillingDocument.objects.select_for_update().get(pk=document.pk)
    if document.document_type == DocumentType.CREDIT_NOTE:
        raise ValidationError("Payments are recorded against invoices and recharges, not credit notes.")
    if card_payment is not None:
        existing = document.payments.filter(card_payment=card_payment).first()
        if existing is not None:
            return existing
    method = PaymentMethod(method)
    if not isinstance(amount_pence, int) or amount_pence <= 0:
        raise ValidationError("A payment must be a positive whole number of pence.")
    if amount_pence > document.outstanding_pence:
        raise ValidationError(
            f"{document.number} has {document.outstanding_pence}p outstanding; {amount_pence}p is more than is owed."
        )
    payment = DocumentPayment(
        document=document,
        amount_pence=amount_pence,
        paid_on=paid_on,
        method=method,
        reference=reference.strip(),
        card_payment=card_payment,
        recorded_by=recorded_by,
    )
    # A bank receipt is one payment however often its line is uploaded or typed (the database says so too).
    same_receipt = document.payments.filter(reference=payment.reference, amount_pence=amount_pence, paid_on=paid_on)
    if card_payment is None and payment.reference and same_receipt.exists():
        raise ValidationError(
            f"A payment of {amount_pence}p on {paid_on:%d/%m/%Y} with reference {payment.reference} "
            f"is already recorded against {document.number}."
        )
    payment.full_clean(validate_constraints=False)
    payment.save()
    document.amount_paid_pence += amount_pence
    _settle(document, on=paid_on)
    post_document_payment(document_payment=payment)
    return payment
