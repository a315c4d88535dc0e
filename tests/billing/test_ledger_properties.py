"""Property tests: for any basket, credits and refunds, the ledger adds up to the documents and the money, exactly."""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import F, Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.fake_gateway import InMemoryGateway
from billing.models import DocumentLine, LedgerEntry, LedgerEntryType, Payment, PaymentMethod, PaymentRoute
from billing.money import round_pence
from billing.services.documents import (
    CreditLineInput,
    LineInput,
    issue_credit_note,
    issue_invoice,
    record_document_payment,
)
from billing.services.payments import record_payment_fee, record_payment_intent
from billing.services.refunds import refundable_pence, request_refund, submit_refund
from billing.vat import VatTreatment
from tests.factories import SchoolFactory

COUNCILS = ("staffordshire", "shropshire", "worcestershire")
DAY = datetime.date(2026, 9, 7)

basket_lines = st.tuples(
    st.integers(0, 2),  # which council provides it
    st.sampled_from(list(VatTreatment)),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("60"), places=2),  # quantity
    st.integers(min_value=0, max_value=2_000_000),  # unit price net, pence
)


def _line(treatment, quantity, price, number):
    return LineInput(description=f"Service {number}", unit_net_pence=price, vat_treatment=treatment, quantity=quantity)


def _charges(lines) -> bool:
    return any(round_pence(line.quantity * line.unit_net_pence) for line in lines)


def _ledger_totals(**filters):
    return LedgerEntry.objects.filter(**filters).totals()


def _pay_by_card(invoices, gateway, intent_id):
    """One card payment for the basket, split by council, recorded as Stripe reports it, applied to the invoices."""
    shares = {invoice.council.la_code: invoice.gross_pence for invoice in invoices}
    amount = sum(shares.values())
    payment = Payment.objects.create(
        reference=f"basket:{intent_id}",
        amount_pence=amount,
        idempotency_key=intent_id,
        stripe_payment_intent_id=intent_id,
        metadata={"councils": shares},
    )
    gateway.stage_intent(intent_id, amount_pence=amount, status="succeeded")
    record_payment_intent(intent=gateway.retrieve_payment(intent_id), payment=payment)
    for invoice in invoices:
        if invoice.gross_pence:
            record_document_payment(
                document=invoice,
                amount_pence=invoice.gross_pence,
                paid_on=DAY,
                method=PaymentMethod.CARD,
                card_payment=payment,
            )
    payment.refresh_from_db()
    return record_payment_fee(payment=payment, gateway=gateway)


def _check_documents_balance(documents):
    for document in documents:
        sign = -1 if document.is_credit_note else 1
        assert _ledger_totals(document=document, entry_type__in=["sale", "credit", "recharge"]) == {
            "net": sign * document.net_pence,
            "vat": sign * document.vat_pence,
            "gross": sign * document.gross_pence,
        }


@pytest.mark.django_db
@settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(basket_lines, min_size=1, max_size=8),
    credits=st.lists(st.tuples(st.integers(0, 7), st.integers(1, 100)), max_size=4),
    refunds=st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 2)), st.integers(1, 100)), max_size=4),
    fee=st.tuples(st.integers(0, 400), st.integers(0, 50)),
    bank_parts=st.lists(st.integers(1, 100), max_size=3),
)
def test_the_ledger_balances_to_documents_fees_and_refunds(councils, lines, credits, refunds, fee, bank_parts):
    """Sales and credits equal their documents per council; card income equals the shares; fee and refund splits
    sum exactly to the fee and the refunds; bank payments are spread over lines to the penny."""
    with transaction.atomic():
        school = SchoolFactory(funding_route="academy")
        by_council = defaultdict(list)
        for number, (council_index, treatment, quantity, price) in enumerate(lines):
            by_council[COUNCILS[council_index]].append(_line(treatment, quantity, price, number))
        # A council whose lines are all free issues no document (issue_invoice refuses a £0 invoice).
        invoices = [
            issue_invoice(
                council=councils[slug], customer=school, lines=council_lines, route=PaymentRoute.CARD, issue_date=DAY
            )
            for slug, council_lines in sorted(by_council.items())
            if _charges(council_lines)
        ]
        if not invoices:
            transaction.set_rollback(True)
            return
        gateway = InMemoryGateway(fee_basis_points=fee[0], fee_fixed_pence=fee[1])
        basket_total = sum(invoice.gross_pence for invoice in invoices)
        payment = _pay_by_card(invoices, gateway, "pi_property") if basket_total else None

        # Credits against random lines of the basket.
        all_lines = [line for invoice in invoices for line in invoice.lines.all()]
        credit_notes = []
        for index, percent in credits:
            line = all_lines[index % len(all_lines)]
            credited = DocumentLine.objects.filter(credited_line=line).aggregate(n=Sum("net_pence"))["n"] or 0
            amount = (line.net_pence - credited) * percent // 100
            if amount > 0:
                credit_notes.append(
                    issue_credit_note(
                        invoice=line.document, lines=[CreditLineInput(line=line, net_pence=amount)], reason="part"
                    )
                )

        # Refunds: from one council's share, or (None) shared by all.
        refund_rows = []
        for number, (council_index, percent) in enumerate(refunds):
            if payment is None:
                break
            payment.refresh_from_db()
            council = councils[COUNCILS[council_index]] if council_index is not None else None
            if council is not None:
                share = payment.council_shares.get(council.la_code, 0)
                asked = payment.refunds.filter(council=council).aggregate(t=Sum("amount_pence"))["t"] or 0
                room = min(share - asked, refundable_pence(payment))
            else:
                room = refundable_pence(payment)
            amount = room * percent // 100
            if amount <= 0:
                continue
            refund = request_refund(
                payment=payment, amount_pence=amount, reason="r", idempotency_key=f"r{number}", council=council
            )
            refund_rows.append(submit_refund(refund_id=refund.pk, gateway=gateway))

        # An invoice paid by bank transfer in parts.
        bank_invoice = issue_invoice(
            council=councils["shropshire"],
            customer=school,
            lines=[_line(t, q, p, n) for n, (_, t, q, p) in enumerate(lines)],
            issue_date=DAY,
        )
        bank_payments = []
        for number, percent in enumerate(bank_parts):
            bank_invoice.refresh_from_db()
            amount = bank_invoice.outstanding_pence * percent // 100
            if amount > 0:
                bank_payments.append(
                    record_document_payment(
                        document=bank_invoice,
                        amount_pence=amount,
                        paid_on=DAY,
                        method=PaymentMethod.BANK_TRANSFER,
                        reference=f"BACS {number}",
                    )
                )

        # Every entry adds up on its own.
        assert not LedgerEntry.objects.exclude(gross_pence=F("net_pence") + F("vat_pence")).exists()
        # Documents: their entries are their totals, and so per council.
        _check_documents_balance([*invoices, *credit_notes, bank_invoice])
        for invoice in invoices:
            notes = sum(note.gross_pence for note in credit_notes if note.council_id == invoice.council_id)
            sales = _ledger_totals(council=invoice.council, entry_type__in=["sale", "credit"], route="card")
            assert sales["gross"] == invoice.gross_pence - notes
        # Card money: each council's income is its share; the fee parts sum to the fee, each within a penny.
        if payment is not None:
            payment.refresh_from_db()
            income = _ledger_totals(payment=payment, entry_type=LedgerEntryType.PAYMENT)
            assert income["gross"] == payment.amount_pence
            fee_entries = list(LedgerEntry.objects.filter(payment=payment, entry_type=LedgerEntryType.CARD_FEE))
            assert -sum(entry.gross_pence for entry in fee_entries) == payment.fee_pence
            shares = payment.council_shares
            for entry in fee_entries:
                exact = Decimal(payment.fee_pence) * shares[entry.council.la_code] / payment.amount_pence
                assert abs(-entry.gross_pence - exact) < 1
            assert -_ledger_totals(entry_type=LedgerEntryType.REFUND, payment=payment)["gross"] == sum(
                refund.amount_pence for refund in refund_rows
            )
            for refund in refund_rows:
                entries = LedgerEntry.objects.filter(refund=refund)
                assert -entries.totals()["gross"] == refund.amount_pence
                if refund.council_id:
                    assert set(entries.values_list("council_id", flat=True)) == {refund.council_id}
            # Card money is posted when it arrives, not again when it settles the receipts.
            assert not LedgerEntry.objects.filter(document_payment__card_payment=payment).exists()
        # Bank payments: spread over the lines, summing to each payment; in all, what the invoice was paid.
        for paid in bank_payments:
            assert _ledger_totals(document_payment=paid)["gross"] == paid.amount_pence
        bank_invoice.refresh_from_db()
        assert (
            _ledger_totals(document=bank_invoice, entry_type=LedgerEntryType.PAYMENT)["gross"]
            == bank_invoice.amount_paid_pence
        )
        transaction.set_rollback(True)
