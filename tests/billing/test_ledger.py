"""The income ledger: what each billing service posts, append-only, once."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from billing.fake_gateway import SUCCEEDS
from billing.models import (
    DocumentStatus,
    LedgerEntry,
    LedgerEntryType,
    LedgerError,
    PaymentMethod,
    PaymentRoute,
)
from billing.services.documents import CreditLineInput, issue_credit_note, issue_invoice, record_document_payment
from billing.services.ledger import post_card_fee, post_card_payment, post_document, post_document_payment
from billing.services.payments import record_payment_fee, start_card_payment
from billing.services.refunds import request_refund
from tests.billing.factories import exempt_course, make_invoice, standard_service
from tests.factories import SchoolFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 5, 4)


def _entries(**filters):
    return list(LedgerEntry.objects.filter(**filters).order_by("pk"))


def test_an_invoice_posts_one_sale_entry_per_line(councils):
    """Each line becomes a sale with its council, codes, VAT treatment, route and tax point."""
    council = councils["shropshire"]
    school = SchoolFactory(funding_route="academy")
    invoice = make_invoice(
        council=council,
        school=school,
        lines=[exempt_course(cost_centre="TRN01", income_code="9001"), standard_service(quantity=2)],
        issue_date=DAY,
    )
    entries = _entries(document=invoice)
    assert [(e.entry_type, e.route, e.council_id, e.school_id, e.tax_point) for e in entries] == [
        (LedgerEntryType.SALE, PaymentRoute.INVOICE, council.pk, school.pk, DAY)
    ] * 2
    first, second = entries
    assert (first.net_pence, first.vat_pence, first.gross_pence, first.vat_treatment) == (12_000, 0, 12_000, "exempt")
    assert (first.cost_centre, first.income_code) == ("TRN01", "9001")
    assert (second.net_pence, second.vat_pence, second.gross_pence) == (90_000, 18_000, 108_000)
    assert (second.cost_centre, second.income_code) == (council.default_cost_centre, council.default_income_code)
    assert LedgerEntry.objects.filter(document=invoice).totals() == {
        "net": invoice.net_pence,
        "vat": invoice.vat_pence,
        "gross": invoice.gross_pence,
    }


def test_a_credit_note_posts_negative_credit_entries(councils):
    """Crediting part of a line posts a credit entry of minus the credited amounts, on the credit note."""
    invoice = make_invoice(council=councils["staffordshire"], school=SchoolFactory(), issue_date=DAY)
    line = invoice.lines.get(position=2)
    note = issue_credit_note(
        invoice=invoice,
        lines=[CreditLineInput(line=line, net_pence=10_000)],
        reason="Half a day not delivered",
        issue_date=DAY + datetime.timedelta(days=3),
    )
    (entry,) = _entries(document=note)
    assert entry.entry_type == LedgerEntryType.CREDIT
    assert (entry.net_pence, entry.vat_pence, entry.gross_pence) == (-10_000, -2_000, -12_000)
    assert entry.tax_point == note.issue_date and entry.document_line == note.lines.get()


def test_a_recharge_posts_recharge_entries_without_vat(councils):
    """A maintained school of the council is recharged: recharge entries on the recharge route, no VAT."""
    council = councils["staffordshire"]
    school = SchoolFactory(council=council, funding_route="maintained")
    recharge = issue_invoice(council=council, customer=school, lines=[standard_service()], route="recharge")
    (entry,) = _entries(document=recharge)
    assert (entry.entry_type, entry.route) == (LedgerEntryType.RECHARGE, PaymentRoute.RECHARGE)
    assert (entry.net_pence, entry.vat_pence, entry.vat_treatment) == (45_000, 0, "outside_scope")


def test_entries_cannot_be_changed_or_deleted(councils):
    """The ledger is append-only: save, update and delete all refuse, on an entry and on a queryset."""
    make_invoice(council=councils["staffordshire"], school=SchoolFactory())
    entry = LedgerEntry.objects.first()
    entry.net_pence += 1
    entry.gross_pence += 1
    with pytest.raises(LedgerError):
        entry.save()
    with pytest.raises(LedgerError):
        entry.delete()
    with pytest.raises(LedgerError):
        LedgerEntry.objects.filter(pk=entry.pk).update(description="changed")
    with pytest.raises(LedgerError):
        LedgerEntry.objects.all().delete()
    entry.refresh_from_db()
    assert LedgerEntry.objects.count() == 2 and entry.description.endswith("March 2026)")


def test_posting_again_writes_nothing_and_the_key_is_unique(councils):
    """Posting the same document or payment twice adds no entry; the database refuses a duplicate key."""
    invoice = make_invoice(council=councils["staffordshire"], school=SchoolFactory())
    paid = record_document_payment(
        document=invoice, amount_pence=5_000, paid_on=DAY, method=PaymentMethod.BANK_TRANSFER, reference="BACS 1"
    )
    count = LedgerEntry.objects.count()
    assert post_document(document=invoice) == [] and post_document_payment(document_payment=paid) == []
    assert LedgerEntry.objects.count() == count
    entry = LedgerEntry.objects.first()
    duplicate = LedgerEntry(
        entry_key=entry.entry_key,
        entry_type=entry.entry_type,
        council=entry.council,
        route=entry.route,
        description="duplicate",
        net_pence=1,
        vat_pence=0,
        gross_pence=1,
        cost_centre="X",
        income_code="Y",
        tax_point=DAY,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_a_bank_payment_is_spread_over_the_lines_to_the_penny(councils):
    """A part payment is apportioned over the invoice lines (and each over net and VAT), summing exactly."""
    invoice = make_invoice(
        council=councils["worcestershire"],
        school=SchoolFactory(),
        lines=[exempt_course(unit_net_pence=10_001), standard_service(unit_net_pence=33_333, quantity=Decimal(3))],
    )
    paid = record_document_payment(
        document=invoice, amount_pence=10_007, paid_on=DAY, method=PaymentMethod.BANK_TRANSFER, reference="BACS 77"
    )
    entries = _entries(document_payment=paid)
    assert len(entries) == 2 and all(e.entry_type == LedgerEntryType.PAYMENT for e in entries)
    assert sum(e.gross_pence for e in entries) == 10_007
    assert all(e.gross_pence == e.net_pence + e.vat_pence and e.tax_point == DAY for e in entries)
    exempt, standard = entries
    assert exempt.vat_pence == 0 and standard.vat_pence > 0
    # Each line's part is within a penny of its exact share of the payment.
    weights = [line.gross_pence for line in invoice.lines.all()]
    for entry, weight in zip(entries, weights, strict=True):
        assert abs(entry.gross_pence - Decimal(10_007) * weight / sum(weights)) < 1


def test_the_same_bank_receipt_is_recorded_once(councils):
    """Recording a receipt with the same reference, amount and date again is refused with a clear message."""
    invoice = make_invoice(council=councils["staffordshire"], school=SchoolFactory())
    kwargs = {"amount_pence": 5_000, "paid_on": DAY, "method": PaymentMethod.BANK_TRANSFER, "reference": "BACS 9"}
    record_document_payment(document=invoice, **kwargs)
    with pytest.raises(ValidationError, match="already recorded"):
        record_document_payment(document=invoice, **kwargs)
    invoice.refresh_from_db()
    assert invoice.amount_paid_pence == 5_000 and invoice.status == DocumentStatus.PART_PAID


def _card_payment(amount=16_200, shares=None, key="basket:1/attempt:1"):
    return start_card_payment(
        reference="basket:1",
        amount_pence=amount,
        council_shares=shares or {"860": 4_200, "893": 12_000},
        customer_id="cus_test",
        payment_method_id=SUCCEEDS,
        idempotency_key=key,
    ).payment


def test_card_money_and_its_fee_are_posted_per_council(councils, fake_gateway, django_capture_on_commit_callbacks):
    """A card payment posts each council's share; its fee (263p) is split by share, summing to the fee."""
    with django_capture_on_commit_callbacks(execute=True):
        payment = _card_payment()
    payment.refresh_from_db()
    assert payment.fee_pence == 263
    income = {e.council.la_code: e.gross_pence for e in _entries(payment=payment, entry_type="payment")}
    fees = {e.council.la_code: e.gross_pence for e in _entries(payment=payment, entry_type="card_fee")}
    assert income == {"860": 4_200, "893": 12_000}
    # 263 * 4200/16200 = 68.19, 263 * 12000/16200 = 194.81: 194 + 68 = 262, the spare penny to the larger remainder.
    assert fees == {"860": -68, "893": -195}
    assert sum(fees.values()) == -payment.fee_pence
    assert post_card_payment(payment=payment) == [] and post_card_fee(payment=payment) == []
    assert record_payment_fee(payment=payment).fee_pence == 263
    assert LedgerEntry.objects.filter(payment=payment).count() == 4


def test_refund_of_a_credit_comes_out_of_that_councils_income(
    councils, fake_gateway, django_capture_on_commit_callbacks
):
    """A refund paying out a Shropshire credit note posts a Shropshire refund entry only."""
    shropshire = councils["shropshire"]
    with django_capture_on_commit_callbacks(execute=True):
        payment = _card_payment()
    invoice = make_invoice(council=shropshire, school=SchoolFactory(), lines=[exempt_course(unit_net_pence=12_000)])
    note = issue_credit_note(
        invoice=invoice, lines=[CreditLineInput(line=invoice.lines.get(), net_pence=3_000)], reason="cancelled"
    )
    with django_capture_on_commit_callbacks(execute=True):
        refund = request_refund(
            payment=payment, amount_pence=3_000, reason="Place cancelled", idempotency_key="r1", credit_note=note
        )
    (entry,) = _entries(refund=refund)
    assert (entry.council, entry.entry_type, entry.gross_pence, entry.document) == (
        shropshire,
        LedgerEntryType.REFUND,
        -3_000,
        note,
    )
    with pytest.raises(ValidationError, match="no share"):
        request_refund(
            payment=payment, amount_pence=100, reason="x", idempotency_key="r2", council=councils["worcestershire"]
        )


def test_refund_beyond_a_councils_share_is_refused(councils, fake_gateway, django_capture_on_commit_callbacks):
    """A council can refund at most its own share of a payment."""
    from billing.gateway import RefundTooLarge

    with django_capture_on_commit_callbacks(execute=True):
        payment = _card_payment()
    with pytest.raises(RefundTooLarge):
        request_refund(
            payment=payment, amount_pence=4_201, reason="x", idempotency_key="r1", council=councils["staffordshire"]
        )


def test_refund_without_a_council_is_shared_pro_rata(councils, fake_gateway, django_capture_on_commit_callbacks):
    """A refund of the whole basket is split between the councils by their shares, summing to the refund."""
    with django_capture_on_commit_callbacks(execute=True):
        payment = _card_payment()
        refund = request_refund(payment=payment, amount_pence=1_001, reason="goodwill", idempotency_key="r1")
    parts = {e.council.la_code: e.gross_pence for e in _entries(refund=refund)}
    assert parts == {"860": -260, "893": -741} and sum(parts.values()) == -1_001


def test_an_unknown_council_cannot_be_paid(councils, fake_gateway):
    """A payment share naming no council is refused before Stripe is called."""
    with pytest.raises(ValidationError, match="No council has the LA code 999"):
        _card_payment(amount=100, shares={"999": 100})
    assert fake_gateway.calls == []
