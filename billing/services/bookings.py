"""Billing a booking: one document per providing council once it is confirmed; credit notes, card refunds and
recharge reversals as its charges go down.

``bill_booking`` reconciles rather than reacts: it compares what the booking's lines say should have been billed
and credited with the documents that exist, and issues only the difference. So it is safe to run any number of
times, from any trigger, in any order: bookings' ``booking_confirmed`` and ``booking_charges_reduced`` signals
(through the ``billing.bill_booking`` task), the card payment hook (inside the payment's own transaction, so the
receipt exists as soon as the payment does) and the periodic sweep of recently changed bookings.

What is billed: every line that was ever booked (``booked_at`` set) except a substitute's (its place was billed on
the line it replaced), at the price, VAT rate and ledger codes snapshotted on the line. A council whose lines are
all free issues nothing (no £0 VAT invoice with a number). One document per council,
numbered in that council's own sequence and named ``booking:<reference>:council:<LA code>`` (unique in the
database for invoices and recharges), each of its lines ``booking_line:<id>``:

- invoice route: a VAT invoice, due in the council's terms;
- recharge route: an internal recharge (only a maintained school of the same council; ``issue_invoice`` checks);
- card route: a VAT invoice settled at once by the card payment's share for that council (a receipt).

What is credited: a cancelled line is owed its net less the ``cancellation_charge`` still charged (VAT follows the
line), less whatever was credited before, so a later waiver credits the rest. A credit note on a card-paid invoice
is refunded to the card, out of that council's share. A recharge cannot be credited: a finance task asks for the
journal to be reversed. Whatever cannot be done is left as a finance task, never dropped.

Lock order (with billing.services.documents): the Booking row first, which serialises the reconcilers of one
booking; then, council by council in LA-code order, that council's invoice sequence (held until commit); then each
invoice with its credit-note sequence; then the card payment (refunds). Two bookings billed at once take sequence
locks in the same order, so they queue rather than deadlock.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from billing.gateway import PaymentError
from billing.models import (
    BillingDocument,
    DocumentLine,
    DocumentType,
    FinanceTask,
    FinanceTaskKind,
    Payment,
    PaymentMethod,
    PaymentRoute,
    Refund,
)
from billing.models.payments import SETTLED_STATUSES
from billing.money import format_gbp, to_pence
from bookings.models import Booking, BookingLine, BookingStatus, LineStatus
from portal.models import Council

from .documents import CreditLineInput, LineInput, issue_credit_note, issue_invoice, record_document_payment
from .finance_tasks import open_finance_task
from .refunds import request_refund

logger = logging.getLogger(__name__)

# Bookings whose lines may have been booked: billed (or credited) only in these.
BILLABLE_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.CANCELLED)


def payment_reference(booking: Booking) -> str:
    """What a card payment for the booking is called (``Payment.reference``)."""
    return f"booking:{booking.reference}"


def document_reference(booking: Booking, council: Council) -> str:
    return f"booking:{booking.reference}:council:{council.la_code}"


def line_reference(line: BookingLine) -> str:
    return f"booking_line:{line.pk}"


@dataclass
class BillingResult:
    """What one run issued or asked for (empty when everything was already in place)."""

    documents: list[BillingDocument] = field(default_factory=list)
    credit_notes: list[BillingDocument] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    tasks: list[FinanceTask] = field(default_factory=list)

    @property
    def issued_ids(self) -> list[int]:
        return [document.pk for document in self.documents + self.credit_notes]


def billable_lines(booking: Booking) -> list[BookingLine]:
    """The lines a booking is billed for, by council (LA code) then id."""
    return list(
        booking.lines.filter(booked_at__isnull=False, substitute_of__isnull=True)
        .select_related("council")
        .order_by("council__la_code", "pk")
    )


def current_lines(booking: Booking, lines: list[BookingLine]) -> dict[int, BookingLine]:
    """For each billed line (by id), the line that holds its place now: itself, or the last substitute in its
    chain (a place handed on is billed once, on the line first booked, and credited by what became of it)."""
    substitutes = {
        line.substitute_of_id: line
        for line in booking.lines.filter(substitute_of__isnull=False).select_related("council")
    }
    current = {}
    for line in lines:
        latest = line
        while latest.pk in substitutes:
            latest = substitutes[latest.pk]
        current[line.pk] = latest
    return current


def card_shares(lines: list[BookingLine]) -> dict[str, int]:
    """Pence per council (LA code) of the card-route lines: what the card is charged, split as the receipts are."""
    shares: dict[str, int] = defaultdict(int)
    for line in lines:
        if line.payment_route == PaymentRoute.CARD:
            shares[line.council.la_code] += to_pence(line.gross)
    return dict(shares)


def _line_input(line: BookingLine) -> LineInput:
    return LineInput(
        description=line.description,
        unit_net_pence=to_pence(line.unit_net),
        quantity=line.quantity,
        vat_treatment=line.vat_treatment,
        vat_rate=Decimal(line.vat_rate),
        cost_centre=line.cost_centre,
        income_code=line.income_code,
        source_reference=line_reference(line),
    )


def settled_card_payment(booking: Booking) -> Payment | None:
    """The card payment that confirmed the booking (its reference is the PaymentIntent the booking records)."""
    payments = Payment.objects.filter(reference=payment_reference(booking), status__in=SETTLED_STATUSES)
    if booking.payment_reference:
        matching = payments.filter(stripe_payment_intent_id=booking.payment_reference).first()
        if matching is not None:
            return matching
    return payments.order_by("succeeded_at", "pk").first()


@transaction.atomic
def bill_booking(*, booking_id: int) -> BillingResult:
    """Issue whatever documents, credits and refunds the booking is owed and does not have yet (see module doc)."""
    result = BillingResult()
    # of=("self",): the booking row only, not the school joined in (which would queue every booking of a school).
    booking = Booking.objects.select_for_update(of=("self",)).select_related("school").filter(pk=booking_id).first()
    if booking is None or booking.status not in BILLABLE_STATUSES:
        return result
    lines = billable_lines(booking)
    if not lines:
        return result
    by_council: dict[int, list[BookingLine]] = defaultdict(list)
    for line in lines:
        by_council[line.council_id].append(line)
    existing = {
        document.council_id: document
        for document in BillingDocument.objects.filter(
            source_reference__in=[document_reference(booking, group[0].council) for group in by_council.values()]
        ).exclude(document_type=DocumentType.CREDIT_NOTE)
    }
    now_held_by = current_lines(booking, lines)
    payment = None
    # by_council was filled in LA-code order (billable_lines), so sequences are locked in that order.
    for council_id, group in by_council.items():
        document = existing.get(council_id)
        if document is None:
            if group[0].payment_route == PaymentRoute.CARD and payment is None:
                payment = settled_card_payment(booking)
            document = _issue_for_council(booking=booking, lines=group, payment=payment, result=result)
            if document is None:
                continue
        _credit_cancelled_lines(booking=booking, document=document, lines=group, now_held_by=now_held_by, result=result)
    return result


def _issue_for_council(
    *, booking: Booking, lines: list[BookingLine], payment: Payment | None, result: BillingResult
) -> BillingDocument | None:
    council = lines[0].council
    route = lines[0].payment_route
    reference = document_reference(booking, council)
    if len({line.payment_route for line in lines}) != 1 or route not in PaymentRoute.values:
        _task(
            result,
            key=f"billing:{reference}",
            kind=FinanceTaskKind.BILLING_FAILED,
            title=f"Booking {booking.reference} could not be billed by {council.short_name}",
            details=f"Its {council.short_name} lines do not share one payment route "
            f"({', '.join(sorted({line.payment_route or 'none' for line in lines}))}).",
            council=council,
            school=booking.school,
            booking_reference=booking.reference,
        )
        return None
    if not any(to_pence(line.gross) for line in lines):
        # Free places only (a £0 course, a fully discounted line): no invoice, recharge or receipt for £0, so no
        # number used (issue_invoice refuses one). The booking's confirmation is the school's record; a later
        # cancellation of a free line is owed nothing, so no credit note can ever need this council's document.
        return None
    if route == PaymentRoute.CARD and payment is None:
        _task(
            result,
            key=f"billing:{reference}",
            kind=FinanceTaskKind.BILLING_FAILED,
            title=f"Booking {booking.reference} is confirmed for card payment, but no payment was taken",
            details="No succeeded card payment names this booking, so no receipt was issued. Invoice the school, "
            "or find the payment.",
            council=council,
            school=booking.school,
            booking_reference=booking.reference,
        )
        return None
    try:
        # A savepoint: a refusal (say, a recharge to a school the council cannot recharge) leaves the other
        # councils' documents of this run in place, and a task for this one.
        with transaction.atomic():
            document = issue_invoice(
                council=council,
                customer=booking.school,
                lines=[_line_input(line) for line in lines],
                po_number=booking.po_number,
                route=route,
                source_reference=reference,
            )
    except ValidationError as error:
        _task(
            result,
            key=f"billing:{reference}",
            kind=FinanceTaskKind.BILLING_FAILED,
            title=f"Booking {booking.reference} could not be billed by {council.short_name}",
            details=" ".join(error.messages),
            council=council,
            school=booking.school,
            amount_pence=sum(to_pence(line.gross) for line in lines),
            booking_reference=booking.reference,
        )
        return None
    result.documents.append(document)
    if route == PaymentRoute.CARD:
        _settle_by_card(booking=booking, document=document, payment=payment, result=result)
    return document


def _settle_by_card(*, booking: Booking, document: BillingDocument, payment: Payment, result: BillingResult) -> None:
    """Apply the council's share of the card payment to its invoice, which then prints as a receipt."""
    share = payment.council_shares.get(document.council.la_code, 0)
    applied = min(share, document.outstanding_pence)
    if applied > 0:
        record_document_payment(
            document=document,
            amount_pence=applied,
            paid_on=timezone.localdate(payment.succeeded_at),
            method=PaymentMethod.CARD,
            reference=payment.stripe_payment_intent_id or f"payment:{payment.pk}",
            card_payment=payment,
        )
    if share != document.gross_pence:
        # Cannot happen while prices are snapshotted (the share and the invoice come from the same lines); if it
        # ever does, finance must see the difference rather than find it at the month end.
        _task(
            result,
            key=f"card-share:{payment.pk}:{document.pk}",
            kind=FinanceTaskKind.BILLING_FAILED,
            title=f"Card share {format_gbp(share)} differs from {document.number} ({format_gbp(document.gross_pence)})",
            details=f"Payment {payment.pk} for booking {booking.reference} carried {format_gbp(share)} for "
            f"{document.council.short_name}; the invoice is for {format_gbp(document.gross_pence)}.",
            council=document.council,
            school=booking.school,
            amount_pence=share - document.gross_pence,
            booking_reference=booking.reference,
            document=document,
            payment=payment,
        )


def credit_owed_pence(line: BookingLine) -> int:
    """Net pence a cancelled line is owed back in all: its net less the cancellation charge still due."""
    if line.status != LineStatus.CANCELLED or line.cancellation_charge is None:
        return 0
    net = to_pence(line.net)
    return max(net - min(to_pence(line.cancellation_charge), net), 0)


def _why(line: BookingLine) -> str:
    if line.charge_waived_at:
        return f"{line.description}: cancelled; charge dropped ({line.charge_waived_reason or 'waived'})"
    if line.cancellation_charge:
        return f"{line.description}: cancelled; £{line.cancellation_charge} still charged"
    return f"{line.description}: cancelled without charge"


def _credit_cancelled_lines(
    *,
    booking: Booking,
    document: BillingDocument,
    lines: list[BookingLine],
    now_held_by: dict[int, BookingLine],
    result: BillingResult,
) -> None:
    # Keyed by the billed line's reference (what the document line names); valued by the line holding the place
    # now, whose cancellation and charge decide the credit.
    owed = {}
    for line in lines:
        current = now_held_by.get(line.pk, line)
        if credit_owed_pence(current):
            owed[line_reference(line)] = (current, credit_owed_pence(current))
    if not owed:
        return
    if document.document_type == DocumentType.RECHARGE:
        _ask_for_recharge_reversal(booking=booking, recharge=document, owed=owed, result=result)
        return
    credited = dict(
        DocumentLine.objects.filter(credited_line__document=document, source_reference__in=list(owed))
        .values_list("source_reference")
        .annotate(total=Sum("net_pence"))
    )
    invoice_lines = {line.source_reference: line for line in document.lines.filter(source_reference__in=list(owed))}
    credits, reasons = [], []
    for reference, (line, total) in owed.items():
        due = total - credited.get(reference, 0)
        if due <= 0:
            continue
        if reference not in invoice_lines:
            logger.error("booking line %s is not on %s; cannot credit it", line.pk, document)
            continue
        credits.append(CreditLineInput(line=invoice_lines[reference], net_pence=due))
        reasons.append(_why(line))
    if not credits:
        return
    credit_note = issue_credit_note(
        invoice=document, lines=credits, reason=f"Booking {booking.reference}. " + "; ".join(reasons) + "."
    )
    result.credit_notes.append(credit_note)
    if document.route == PaymentRoute.CARD:
        _refund_to_card(booking=booking, invoice=document, credit_note=credit_note, result=result)


def _refund_to_card(
    *, booking: Booking, invoice: BillingDocument, credit_note: BillingDocument, result: BillingResult
) -> None:
    paid = invoice.payments.filter(card_payment__isnull=False).select_related("card_payment").first()
    problem = ""
    if paid is None:
        problem = f"{invoice.number} was not paid by card, so there is nothing to refund to a card."
    else:
        try:
            with transaction.atomic():
                refund = request_refund(
                    payment=paid.card_payment,
                    amount_pence=min(credit_note.gross_pence, paid.amount_pence),
                    reason=f"{credit_note.number} for {invoice.number}: {credit_note.reason}",
                    idempotency_key=f"credit_note:{credit_note.pk}:refund",
                    credit_note=credit_note,
                )
        except (ValidationError, PaymentError) as error:
            problem = " ".join(getattr(error, "messages", None) or [getattr(error, "user_message", str(error))])
        else:
            result.refunds.append(refund)
            return
    _task(
        result,
        key=f"refund-not-requested:{credit_note.pk}",
        kind=FinanceTaskKind.REFUND_NOT_REQUESTED,
        title=f"Refund of {credit_note.number} ({format_gbp(credit_note.gross_pence)}) could not be asked of Stripe",
        details=f"{problem}\nPay the school back another way and say so here.",
        council=invoice.council,
        school=booking.school,
        amount_pence=credit_note.gross_pence,
        booking_reference=booking.reference,
        document=credit_note,
        payment=paid.card_payment if paid else None,
    )


def _ask_for_recharge_reversal(
    *, booking: Booking, recharge: BillingDocument, owed: dict[str, tuple[BookingLine, int]], result: BillingResult
) -> None:
    # A recharge is a journal inside the council, not a VAT invoice: it has no credit note. Finance reverses the
    # part owed in their ledger. Each task asks for the increase since the last one (a waiver after a charged
    # cancellation asks for the rest), keyed by the total so far, so a repeated run asks once.
    for reference, (line, total) in owed.items():
        asked = (
            FinanceTask.objects.filter(
                kind=FinanceTaskKind.RECHARGE_REVERSAL, key__startswith=f"recharge-reversal:{reference}:"
            ).aggregate(total=Sum("amount_pence"))["total"]
            or 0
        )
        if total <= asked:
            continue
        _task(
            result,
            key=f"recharge-reversal:{reference}:{total}",
            kind=FinanceTaskKind.RECHARGE_REVERSAL,
            title=f"Reverse {format_gbp(total - asked)} of recharge {recharge.number}",
            details=f"Booking {booking.reference}. {_why(line)}. Journal {format_gbp(total - asked)} back to "
            f"{booking.school.name}'s budget (cost centre {line.cost_centre}, income code {line.income_code}).",
            council=recharge.council,
            school=booking.school,
            amount_pence=total - asked,
            booking_reference=booking.reference,
            document=recharge,
        )


def _task(result: BillingResult, **fields) -> None:
    result.tasks.append(open_finance_task(**fields))


# --- Card money that could not confirm its booking --------------------------------------------------------


def refund_unconfirmed_payment(*, payment: Payment, booking: Booking, why: str) -> Refund | None:
    """A card payment arrived for a booking that could not be confirmed any more: give the money back.

    Runs inside the payment's transaction (a payment hook); the refund goes to Stripe after commit. If it cannot
    even be asked for, finance gets a task.
    """
    try:
        with transaction.atomic():
            return request_refund(
                payment=payment,
                amount_pence=payment.amount_pence,
                reason=f"Booking {booking.reference} was not confirmed: {why}"[:300],
                idempotency_key=f"payment:{payment.pk}:unconfirmed",
            )
    except (ValidationError, PaymentError) as error:
        open_finance_task(
            key=f"unconfirmed-payment:{payment.pk}",
            kind=FinanceTaskKind.UNCONFIRMED_PAYMENT,
            title=f"{format_gbp(payment.amount_pence)} taken by card for booking {booking.reference}, "
            "which was not confirmed",
            details=f"{why}\nThe refund could not be asked for: {error}. Pay the school back another way.",
            school=booking.school,
            amount_pence=payment.amount_pence,
            booking_reference=booking.reference,
            payment=payment,
        )
        return None
