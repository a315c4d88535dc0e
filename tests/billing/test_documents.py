"""Issuing invoices, recharges and credit notes: numbers, snapshots, totals, immutability, settlement."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from billing.models import (
    BillingDocument,
    CreditNote,
    DocumentLine,
    DocumentStatus,
    ImmutableDocumentError,
    InternalRecharge,
    Invoice,
    InvoiceSequence,
)
from billing.services.documents import (
    CreditLineInput,
    credit_invoice_in_full,
    issue_credit_note,
    issue_invoice,
    record_document_payment,
)
from billing.services.numbering import allocate_document_number
from tests.billing.factories import exempt_course, make_invoice, standard_service
from tests.factories import SchoolFactory

pytestmark = pytest.mark.django_db

ISSUED = datetime.date(2026, 3, 2)


@pytest.fixture
def academy():
    return SchoolFactory(
        name="Severn Valley Academy",
        funding_route="academy",
        type_group_code=10,
        street="Bridgnorth Road",
        town="Highley",
        postcode="WV16 6JG",
        la_code="893",
    )


def test_invoice_numbers_follow_each_councils_own_sequence(councils, academy):
    """Each council numbers its invoices from 1 in its own sequence, formatted PREFIX-YEAR-000001."""
    scc, shr = councils["staffordshire"], councils["shropshire"]
    first = make_invoice(council=scc, school=academy, issue_date=ISSUED)
    second = make_invoice(council=scc, school=academy, issue_date=ISSUED)
    other = make_invoice(council=shr, school=academy, issue_date=ISSUED)
    next_year = make_invoice(council=scc, school=academy, issue_date=datetime.date(2027, 1, 4))
    assert [first.number, second.number, other.number, next_year.number] == [
        "SCC-2026-000001",
        "SCC-2026-000002",
        "SHR-2026-000001",
        "SCC-2027-000001",
    ]
    assert InvoiceSequence.objects.get(council=scc, document_type="invoice", year=2026).next_number == 3


def test_invoice_lines_totals_and_vat_by_rate(councils, academy):
    """Lines price quantity x unit half up, VAT per line; totals and the VAT summary add up to the penny."""
    invoice = make_invoice(council=councils["shropshire"], school=academy, po_number=" PO-77 ", issue_date=ISSUED)
    exempt, standard = invoice.lines.all()
    assert (exempt.net_pence, exempt.vat_pence, exempt.vat_label) == (12_000, 0, "Exempt")
    # 2.5 days at £333.33 = £833.325 -> £833.33; VAT 20% = £166.666 -> £166.67
    assert (standard.net_pence, standard.vat_pence, standard.gross_pence) == (83_333, 16_667, 100_000)
    assert standard.vat_label == "20%" and standard.vat_rate == Decimal("0.2000")
    assert (invoice.net_pence, invoice.vat_pence, invoice.gross_pence) == (95_333, 16_667, 112_000)
    summary = invoice.totals_by_vat()
    assert [(row["label"], row["net_pence"], row["vat_pence"]) for row in summary] == [
        ("20%", 83_333, 16_667),
        ("Exempt", 12_000, 0),
    ]
    assert sum(row["gross_pence"] for row in summary) == invoice.gross_pence
    assert invoice.po_number == "PO-77"
    assert invoice.due_date == ISSUED + datetime.timedelta(days=30)
    assert exempt.cost_centre == councils["shropshire"].default_cost_centre


def test_snapshots_do_not_follow_later_changes(councils, academy):
    """The supplier and customer on an issued invoice stay as they were when it was issued."""
    council = councils["worcestershire"]
    invoice = make_invoice(council=council, school=academy, issue_date=ISSUED)
    council.vat_number = "GB 999 9999 99"
    council.save()
    academy.name = "Renamed Academy"
    academy.save()
    invoice.refresh_from_db()
    assert invoice.supplier["vat_number"] == "GB 000 8850 00 (demo)"
    assert invoice.supplier["address_lines"][-1] == "WR5 2NP"
    assert invoice.customer["name"] == invoice.customer_name == "Severn Valley Academy"
    assert invoice.customer["urn"] == academy.urn


def test_issued_invoice_refuses_changes_to_its_content(councils, academy):
    """save(), queryset update() and delete() refuse to change an issued invoice or its lines."""
    invoice = make_invoice(council=councils["staffordshire"], school=academy, issue_date=ISSUED)
    invoice.net_pence += 1
    with pytest.raises(ImmutableDocumentError, match="net_pence"):
        invoice.save()
    invoice.refresh_from_db()
    invoice.po_number = "CHANGED"
    with pytest.raises(ImmutableDocumentError):
        invoice.save(update_fields=["po_number"])
    with pytest.raises(ImmutableDocumentError):
        BillingDocument.objects.filter(pk=invoice.pk).update(customer_name="Someone else")
    with pytest.raises(ImmutableDocumentError):
        invoice.delete()
    with pytest.raises(ImmutableDocumentError):
        BillingDocument.objects.filter(pk=invoice.pk).delete()
    line = invoice.lines.first()
    line.unit_net_pence = 1
    with pytest.raises(ImmutableDocumentError):
        line.save()
    with pytest.raises(ImmutableDocumentError):
        DocumentLine.objects.filter(pk=line.pk).update(description="free")
    with pytest.raises(ImmutableDocumentError):
        line.delete()
    with pytest.raises(ImmutableDocumentError):
        DocumentLine(document=invoice, position=9, description="sneaked in", quantity=1, unit_net_pence=1).save()
    stored = BillingDocument.objects.get(pk=invoice.pk)
    assert (stored.po_number, stored.net_pence, stored.lines.count()) == ("", 95_333, 2)


def test_settlement_fields_may_change(councils, academy):
    """What is paid or credited is the one thing that moves on an issued invoice."""
    invoice = make_invoice(council=councils["staffordshire"], school=academy, issue_date=ISSUED)
    BillingDocument.objects.filter(pk=invoice.pk).update(status=DocumentStatus.PART_PAID)
    invoice.refresh_from_db()
    invoice.amount_paid_pence = 10
    invoice.save()
    assert BillingDocument.objects.get(pk=invoice.pk).amount_paid_pence == 10


def test_a_rolled_back_issue_leaves_no_gap(councils, academy):
    """If the issuing transaction fails after taking a number, the number is not lost."""
    council = councils["staffordshire"]
    with pytest.raises(RuntimeError), transaction.atomic():
        make_invoice(council=council, school=academy, issue_date=ISSUED)
        raise RuntimeError("the booking failed after the invoice was issued")
    assert make_invoice(council=council, school=academy, issue_date=ISSUED).number == "SCC-2026-000001"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_allocating_a_number_outside_a_transaction_is_refused(councils):
    """A number taken outside the issuing transaction could be lost, so it is refused."""
    with pytest.raises(RuntimeError):
        allocate_document_number(council=councils["staffordshire"], document_type="invoice", year=2026)


def test_bad_lines_are_refused_and_nothing_is_written(councils, academy):
    """Empty, negative, float-ish or mis-VATed lines are refused with a clear message and no number is used."""
    council = councils["staffordshire"]
    bad_inputs = [
        [],
        [exempt_course(description="  ")],
        [exempt_course(unit_net_pence=-1)],
        [exempt_course(quantity=0)],
        [exempt_course(quantity=Decimal("1.005"))],
        [exempt_course(vat_rate=Decimal("0.2"))],
        [standard_service(vat_treatment="reduced")],
        [exempt_course(unit_net_pence=Decimal("1.5"))],
    ]
    for lines in bad_inputs:
        with pytest.raises(ValidationError):
            issue_invoice(council=council, customer=academy, lines=lines, issue_date=ISSUED)
    assert not BillingDocument.objects.exists()
    assert make_invoice(council=council, school=academy, issue_date=ISSUED).number.endswith("000001")


def test_purchase_order_required_when_the_school_says_so(councils, academy):
    """A school that requires PO numbers cannot be invoiced without one."""
    academy.requires_purchase_order = True
    academy.save()
    with pytest.raises(ValidationError, match="purchase order"):
        make_invoice(council=councils["shropshire"], school=academy)
    assert make_invoice(council=councils["shropshire"], school=academy, po_number="PO1").po_number == "PO1"


def test_recharge_only_for_own_maintained_school(councils, academy):
    """The recharge route gives a numbered internal recharge, only for a maintained school of the same council."""
    scc = councils["staffordshire"]
    maintained = SchoolFactory(council=scc, funding_route="maintained")
    recharge = make_invoice(council=scc, school=maintained, route="recharge", issue_date=ISSUED)
    assert recharge.number == "SCC-RC-2026-000001"
    # Inside one legal entity there is no supply for VAT: a standard-rated service is recharged net.
    assert (recharge.vat_pence, recharge.gross_pence) == (0, recharge.net_pence)
    assert {line.vat_label for line in recharge.lines.all()} == {"Outside the scope of VAT"}
    assert InternalRecharge.objects.get() == recharge and not Invoice.objects.exists()
    for customer, council in ((academy, scc), (maintained, councils["shropshire"])):
        with pytest.raises(ValidationError, match="recharge only its own maintained"):
            make_invoice(council=council, school=customer, route="recharge")


def test_credit_notes_refer_to_invoice_and_never_exceed_it(councils, academy):
    """Part credits then a full credit: own CN sequence, VAT credited exactly, never beyond the line."""
    invoice = make_invoice(council=councils["staffordshire"], school=academy, issue_date=ISSUED)
    exempt, standard = invoice.lines.all()
    first = issue_credit_note(
        invoice=invoice,
        lines=[CreditLineInput(line=standard, net_pence=33_333)],
        reason="One day cancelled",
        issue_date=ISSUED,
    )
    assert first.number == "SCC-CN-2026-000001"
    assert first.credited_document == invoice
    assert (first.net_pence, first.vat_pence) == (33_333, 6_667)  # 6666.6 rounds up
    with pytest.raises(ValidationError, match="only 50000p net left"):
        issue_credit_note(invoice=invoice, lines=[CreditLineInput(line=standard, net_pence=50_001)], reason="x")
    rest = credit_invoice_in_full(invoice=invoice, reason="Course cancelled by the council")
    assert rest.number == "SCC-CN-2026-000002"
    assert rest.vat_pence == 16_667 - 6_667  # what remains of the invoice's VAT, exactly
    invoice.refresh_from_db()
    assert invoice.amount_credited_pence == invoice.gross_pence == first.gross_pence + rest.gross_pence
    assert invoice.status == DocumentStatus.CANCELLED
    assert set(CreditNote.objects.all()) == {first, rest}
    with pytest.raises(ValidationError):
        credit_invoice_in_full(invoice=invoice, reason="again")
    with pytest.raises(ValidationError, match="Only invoices"):
        issue_credit_note(invoice=first, lines=[CreditLineInput(line=first.lines.get())], reason="x")


def test_credit_lines_must_belong_to_the_invoice(councils, academy):
    """A credit note cannot credit another invoice's line, nor the same line twice, nor without a reason."""
    invoice = make_invoice(council=councils["staffordshire"], school=academy)
    other = make_invoice(council=councils["staffordshire"], school=academy)
    with pytest.raises(ValidationError, match="not a line of"):
        issue_credit_note(invoice=invoice, lines=[CreditLineInput(line=other.lines.first())], reason="x")
    line = invoice.lines.first()
    with pytest.raises(ValidationError, match="twice"):
        issue_credit_note(invoice=invoice, lines=[CreditLineInput(line=line), CreditLineInput(line=line)], reason="x")
    with pytest.raises(ValidationError, match="why"):
        issue_credit_note(invoice=invoice, lines=[CreditLineInput(line=line)], reason=" ")


def test_payments_move_invoice_to_part_paid_then_paid(councils, academy):
    """Recorded payments settle the invoice; overpaying is refused; a paid invoice has its paid date."""
    invoice = make_invoice(council=councils["worcestershire"], school=academy, issue_date=ISSUED)
    record_document_payment(
        document=invoice, amount_pence=12_000, paid_on=ISSUED, method="bank_transfer", reference="BACS 1"
    )
    invoice.refresh_from_db()
    assert (invoice.status, invoice.outstanding_pence) == (DocumentStatus.PART_PAID, 100_000)
    with pytest.raises(ValidationError, match="more than is owed"):
        record_document_payment(document=invoice, amount_pence=100_001, paid_on=ISSUED, method="bank_transfer")
    record_document_payment(document=invoice, amount_pence=100_000, paid_on=ISSUED, method="cheque")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_on, invoice.outstanding_pence) == (DocumentStatus.PAID, ISSUED, 0)


def test_part_credit_then_payment_of_the_rest_is_paid(councils, academy):
    """An invoice part-credited and paid for the rest is paid, not part paid."""
    invoice = make_invoice(council=councils["worcestershire"], school=academy)
    issue_credit_note(invoice=invoice, lines=[CreditLineInput(line=invoice.lines.first())], reason="Place refilled")
    invoice.refresh_from_db()
    record_document_payment(document=invoice, amount_pence=invoice.outstanding_pence, paid_on=ISSUED, method="cheque")
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.PAID


def test_an_invoice_of_nothing_but_free_lines_is_not_issued_and_uses_no_number(councils, academy):
    """All lines £0 (or rounding to 0p): refused with a message, no document, the sequence untouched."""
    council = councils["staffordshire"]
    make_invoice(council=council, school=academy, issue_date=ISSUED)
    for lines in (
        [exempt_course(unit_net_pence=0), standard_service(unit_net_pence=0)],
        [exempt_course(unit_net_pence=1, quantity=Decimal("0.25"))],  # a quarter of a penny is nothing
    ):
        with pytest.raises(ValidationError, match="nothing to invoice"):
            make_invoice(council=council, school=academy, lines=lines, issue_date=ISSUED)
    with pytest.raises(ValidationError, match="nothing to invoice"):
        maintained = SchoolFactory(council=council, funding_route="maintained")
        make_invoice(council=council, school=maintained, route="recharge", lines=[exempt_course(unit_net_pence=0)])
    # A free line beside a charged one is an ordinary line of an ordinary invoice, numbered next.
    invoice = make_invoice(
        council=council, school=academy, lines=[exempt_course(unit_net_pence=0), exempt_course()], issue_date=ISSUED
    )
    assert invoice.sequence_number == 2 and invoice.gross_pence == 12_000
    assert BillingDocument.objects.count() == 2


def test_a_twelve_line_invoice_is_issued_in_as_many_queries_as_a_one_line_invoice(councils, academy):
    """Lines and their ledger entries are bulk inserted: no query per line."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    council = councils["staffordshire"]
    make_invoice(council=council, school=academy, lines=[exempt_course()])  # the year's sequence row exists now
    counts = {}
    for size in (1, 12):
        with CaptureQueriesContext(connection) as queries:
            invoice = make_invoice(
                council=council, school=academy, lines=[exempt_course(description=f"Course {n}") for n in range(size)]
            )
        counts[size] = len(queries)
        assert invoice.lines.count() == size and invoice.ledger_entries.count() == size
    assert counts[12] == counts[1] <= 12
