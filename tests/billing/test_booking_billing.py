"""Billing confirmed bookings: one document per council, credits for cancellations, recharge reversals, the sweep.

Bookings are made through bookings' services and billed through the ``booking_confirmed`` /
``booking_charges_reduced`` signals they send on commit (``django_capture_on_commit_callbacks`` runs them, and
the eager Celery task they enqueue), exactly as in production.
"""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection

from billing.booking_receivers import bill_booking_later
from billing.models import (
    BillingDocument,
    DocumentStatus,
    DocumentType,
    FinanceTask,
    FinanceTaskKind,
    LedgerEntry,
    LedgerEntryType,
)
from billing.services.booking_sweep import bookings_to_bill
from billing.services.bookings import bill_booking, credit_owed_pence, document_reference
from bookings.events import booking_confirmed
from bookings.models import Booking, BookingLine, LineStatus
from bookings.services.cancellations import cancel_line, waive_charge
from catalogue.events import course_date_cancelled
from tests.billing.booking_world import Market
from tests.bookings.factories import add_course_date, add_service
from tests.factories import CouncilMembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def market(councils):
    return Market(councils)


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run on-commit callbacks (bookings' signals, the tasks they enqueue) as a committed transaction would."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


def documents_of(booking, document_type=None):
    documents = BillingDocument.objects.filter(source_reference__startswith=f"booking:{booking.reference}:")
    if document_type:
        documents = documents.filter(document_type=document_type)
    return documents.order_by("council__la_code", "pk")


def test_three_councils_in_one_basket_make_three_invoices_each_in_its_own_sequence(market, on_commit):
    """Invoice route for three councils: three VAT invoices, numbered 1 in each council's own sequence."""
    with on_commit():
        booking = market.book(po_number="SVA-PO-77")
    booking = market.refreshed(booking)
    assert booking.status == "confirmed"
    invoices = list(documents_of(booking))
    assert [(d.council.la_code, d.document_type, d.route) for d in invoices] == [
        ("860", "invoice", "invoice"),
        ("885", "invoice", "invoice"),
        ("893", "invoice", "invoice"),
    ]
    assert [d.sequence_number for d in invoices] == [1, 1, 1]
    assert len({d.number for d in invoices}) == 3
    assert all(d.po_number == "SVA-PO-77" and d.school == market.academy for d in invoices)
    assert all(d.due_date == d.issue_date + datetime.timedelta(days=d.council.payment_terms_days) for d in invoices)
    by_council = {d.council.la_code: d for d in invoices}
    # Staffordshire and Shropshire courses are exempt; Worcestershire's is standard-rated (20% on £80).
    assert (by_council["860"].net_pence, by_council["860"].vat_pence) == (10_000, 0)
    assert (by_council["893"].net_pence, by_council["893"].vat_pence) == (15_000, 0)
    assert (by_council["885"].net_pence, by_council["885"].vat_pence, by_council["885"].gross_pence) == (
        8_000,
        1_600,
        9_600,
    )
    line = booking.lines.get(council=market.worcs)
    document_line = by_council["885"].lines.get()
    assert document_line.source_reference == f"booking_line:{line.pk}"
    assert (document_line.vat_label, document_line.cost_centre, document_line.income_code) == (
        "20%",
        line.cost_centre,
        line.income_code,
    )
    assert by_council["885"].source_reference == document_reference(booking, market.worcs)
    # The ledger: one sale entry per line, per council, summing to each invoice.
    for document in invoices:
        entries = LedgerEntry.objects.filter(document=document, entry_type=LedgerEntryType.SALE)
        assert sum(e.gross_pence for e in entries) == document.gross_pence
        assert {e.council_id for e in entries} == {document.council_id}


def test_billing_again_or_twice_issues_nothing_more(market, on_commit):
    """Repeated signals, tasks and sweeps leave one set of documents and one set of ledger entries."""
    with on_commit():
        booking = market.book()
    counts = (BillingDocument.objects.count(), LedgerEntry.objects.count())
    with on_commit():
        from bookings.events import booking_confirmed, send_on_commit

        send_on_commit(booking_confirmed, booking_id=booking.pk)
        send_on_commit(booking_confirmed, booking_id=booking.pk)
    assert bill_booking(booking_id=booking.pk).documents == []
    assert booking.pk in bookings_to_bill(since=datetime.timedelta(days=1))
    from billing.booking_tasks import sweep_booking_billing

    with on_commit():
        sweep_booking_billing.delay()
    assert (BillingDocument.objects.count(), LedgerEntry.objects.count()) == counts


def test_a_second_invoice_for_the_same_booking_and_council_is_refused_by_the_database(market, on_commit):
    """The unique source reference is the last line of defence behind the booking lock."""
    from django.db import IntegrityError

    from billing.services.documents import issue_invoice
    from tests.billing.factories import exempt_course

    with on_commit():
        booking = market.book(dates=[market.staffs_date])
    with pytest.raises(IntegrityError):
        issue_invoice(
            council=market.staffs,
            customer=market.academy,
            lines=[exempt_course()],
            source_reference=document_reference(booking, market.staffs),
        )


def test_recharge_only_for_the_councils_own_maintained_schools(market, on_commit):
    """Oakfield (maintained, Staffordshire) is recharged by Staffordshire, without VAT; others invoice it."""
    with on_commit():
        booking = market.book(
            school=market.maintained,
            dates=[market.staffs_date, market.worcs_date],
            routes={market.staffs: "recharge"},
            one_off=1,
        )
    recharge, invoice = documents_of(booking)
    assert (recharge.council, recharge.document_type, recharge.route) == (market.staffs, "recharge", "recharge")
    # A standard-rated service is recharged outside the scope of VAT: a journal inside one legal entity.
    assert recharge.vat_pence == 0 and recharge.net_pence == 10_000 + 25_000
    assert {line.vat_label for line in recharge.lines.all()} == {"Outside the scope of VAT"}
    assert LedgerEntry.objects.filter(document=recharge, entry_type=LedgerEntryType.RECHARGE).count() == 2
    assert (invoice.council, invoice.document_type) == (market.worcs, "invoice")

    from django.core.exceptions import ValidationError

    # The academy may not choose a recharge at checkout at all...
    with pytest.raises(ValidationError):
        market.book(dates=[market.shrops_date], routes={market.shrops: "recharge"})


def test_a_recharge_billing_refuses_becomes_a_finance_task_and_the_other_councils_are_billed(market, on_commit):
    """A recharge route for a school Staffordshire cannot recharge: a task for finance, Worcestershire invoiced."""
    market.maintained.council = None  # bookings decides by LA code, billing by the school's council
    market.maintained.save()
    with on_commit():
        booking = market.book(
            school=market.maintained, dates=[market.staffs_date, market.worcs_date], routes={market.staffs: "recharge"}
        )
    assert [d.council for d in documents_of(booking)] == [market.worcs]
    task = FinanceTask.objects.get()
    assert (task.kind, task.council, task.booking_reference) == ("billing_failed", market.staffs, booking.reference)
    assert "can recharge only its own maintained schools" in task.details
    assert task.amount_pence == 10_000
    # A later run opens no second task.
    bill_booking(booking_id=booking.pk)
    assert FinanceTask.objects.count() == 1


def test_free_cancellation_credits_the_invoice_line_in_full(market, on_commit):
    """Cancelled more than 14 days ahead: a credit note refers to the invoice; the ledger is credited."""
    with on_commit():
        booking = market.book(dates=[market.worcs_date, market.staffs_date])
    line = booking.lines.get(council=market.worcs)
    with on_commit():
        cancel_line(line=line, by=market.sbm)
    invoice = documents_of(booking, DocumentType.INVOICE).get(council=market.worcs)
    credit_note = documents_of(booking, DocumentType.CREDIT_NOTE).get()
    assert credit_note.credited_document == invoice
    assert (credit_note.net_pence, credit_note.vat_pence, credit_note.gross_pence) == (8_000, 1_600, 9_600)
    assert "cancelled without charge" in credit_note.reason and booking.reference in credit_note.reason
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.CANCELLED
    credits = LedgerEntry.objects.filter(document=credit_note, entry_type=LedgerEntryType.CREDIT)
    assert sum(e.gross_pence for e in credits) == -9_600
    # Staffordshire's invoice is untouched; a second run credits nothing more.
    assert bill_booking(booking_id=booking.pk).credit_notes == []
    assert documents_of(booking, DocumentType.INVOICE).get(council=market.staffs).status == DocumentStatus.ISSUED


def test_cancelling_a_substituted_place_credits_the_invoice_line_billed_for_it(market, on_commit):
    """A place handed to someone else and then cancelled in time is credited like the place that was invoiced:
    the substitute is never invoiced itself, so its cancellation credits the original invoice line."""
    from bookings.services.checkout import DelegateDetails
    from bookings.services.substitutions import substitute_delegate

    with on_commit():
        booking = market.book(dates=[market.worcs_date])
    with on_commit():
        first_substitute = substitute_delegate(
            line=booking.lines.get(), new=DelegateDetails(name="Ada Lane"), by=market.sbm
        )
        second_substitute = substitute_delegate(
            line=first_substitute, new=DelegateDetails(name="Bo Chen"), by=market.sbm
        )
    assert documents_of(booking, DocumentType.INVOICE).get().lines.count() == 1
    with on_commit():
        cancel_line(line=second_substitute, by=market.sbm)
    credit_note = documents_of(booking, DocumentType.CREDIT_NOTE).get()
    assert (credit_note.net_pence, credit_note.vat_pence, credit_note.gross_pence) == (8_000, 1_600, 9_600)
    assert "Bo Chen" in credit_note.reason
    assert bill_booking(booking_id=booking.pk).credit_notes == []


def test_late_cancellation_keeps_the_charge_until_it_is_waived(market, on_commit):
    """Inside 14 days the charge stays (no credit); a council waiver then credits the whole line."""
    late = add_course_date_soon(market)
    with on_commit():
        booking = market.book(dates=[late])
    line = booking.lines.get()
    with on_commit():
        cancel_line(line=line, by=market.sbm)
    line.refresh_from_db()
    assert line.cancellation_charge == Decimal("100.00") and credit_owed_pence(line) == 0
    assert not documents_of(booking, DocumentType.CREDIT_NOTE).exists()
    admin = CouncilMembershipFactory(council=market.staffs, role="course_admin").user
    with on_commit():
        waive_charge(line=line, by=admin, reason="Bereavement")
    credit_note = documents_of(booking, DocumentType.CREDIT_NOTE).get()
    assert credit_note.gross_pence == 10_000 and "Bereavement" in credit_note.reason


def add_course_date_soon(market):
    from tests.bookings.factories import add_course_date

    return add_course_date(market.staffs_course, capacity=10, days_ahead=5)


def test_partial_charge_then_waiver_credits_in_two_steps(market, on_commit):
    """A cancellation charging part of a line credits the rest; waiving the rest later credits only that."""
    with on_commit():
        booking = market.book(dates=[market.worcs_date])
    line = booking.lines.get()
    # A policy charging half (set directly: the catalogue's policy today charges all or nothing).
    BookingLine.objects.filter(pk=line.pk).update(status=LineStatus.CANCELLED, cancellation_charge=Decimal("30.00"))
    first = bill_booking(booking_id=booking.pk).credit_notes
    assert [(c.net_pence, c.vat_pence) for c in first] == [(5_000, 1_000)]
    BookingLine.objects.filter(pk=line.pk).update(cancellation_charge=Decimal("0.00"))
    second = bill_booking(booking_id=booking.pk).credit_notes
    assert [(c.net_pence, c.vat_pence) for c in second] == [(3_000, 600)]
    invoice = documents_of(booking, DocumentType.INVOICE).get()
    invoice.refresh_from_db()
    assert invoice.amount_credited_pence == invoice.gross_pence == 9_600


def test_council_cancelling_a_date_credits_every_school(market, on_commit):
    """The catalogue's course_date_cancelled: both schools' lines on the date are credited in full."""
    with on_commit():
        academy_booking = market.book(dates=[market.shrops_date])
        oakfield_booking = market.book(school=market.maintained, dates=[market.shrops_date])
    with on_commit():
        course_date_cancelled.send(sender=type(market.shrops_date), course_date=market.shrops_date, user=None)
    for booking in (academy_booking, oakfield_booking):
        credit_note = documents_of(booking, DocumentType.CREDIT_NOTE).get()
        assert credit_note.gross_pence == 15_000 and credit_note.council == market.shrops


def test_cancelling_a_recharged_line_asks_finance_to_reverse_the_journal_once(market, on_commit):
    """A recharge has no credit note: a finance task for the journal, opened once however often billing runs."""
    late = add_course_date_soon(market)
    with on_commit():
        booking = market.book(school=market.maintained, dates=[late], routes={market.staffs: "recharge"})
    line = booking.lines.get()
    with on_commit():
        cancel_line(line=line, by=market.head)
    assert not FinanceTask.objects.exists()  # inside 14 days: charged, nothing owed back
    admin = CouncilMembershipFactory(council=market.staffs, role="course_admin").user
    with on_commit():
        waive_charge(line=line, by=admin, reason="Course moved")
    bill_booking(booking_id=booking.pk)
    task = FinanceTask.objects.get()
    recharge = documents_of(booking, DocumentType.RECHARGE).get()
    assert (task.kind, task.document, task.amount_pence, task.council) == (
        FinanceTaskKind.RECHARGE_REVERSAL,
        recharge,
        10_000,
        market.staffs,
    )
    assert not documents_of(booking, DocumentType.CREDIT_NOTE).exists()


def test_a_council_whose_places_are_all_free_issues_no_document(market, on_commit):
    """A free Staffordshire course beside a paid Shropshire one: Shropshire invoices, Staffordshire issues nothing
    (no £0 VAT invoice, no number used), no finance task, and billing again still issues nothing."""
    free_course = add_service(market.staffs, "course", title="Governor Briefing", price=Decimal("0.00"))
    free_date = add_course_date(free_course, capacity=30, days_ahead=20)
    with on_commit():
        booking = market.book(dates=[free_date, market.shrops_date])
    assert market.refreshed(booking).status == "confirmed"
    assert [(d.council.la_code, d.gross_pence) for d in documents_of(booking)] == [("893", 15_000)]
    assert not BillingDocument.objects.filter(council=market.staffs).exists()
    assert not FinanceTask.objects.exists()
    assert bill_booking(booking_id=booking.pk).documents == []
    # Cancelling the free place is owed nothing and asks for nothing.
    with on_commit():
        cancel_line(line=booking.lines.get(council=market.staffs), by=market.sbm)
    assert BillingDocument.objects.count() == 1 and not FinanceTask.objects.exists()


def test_bookings_not_confirmed_are_never_billed(market, on_commit):
    """A booking still waiting for its card payment (or never confirmed) issues nothing."""
    with on_commit():
        booking = market.book(dates=[market.staffs_date], routes={market.staffs: "card"})
    assert Booking.objects.get(pk=booking.pk).status == "awaiting_payment"
    assert bill_booking(booking_id=booking.pk).documents == []
    assert not BillingDocument.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_billing_of_three_council_bookings_numbers_without_gaps_or_deadlocks(councils):
    """Eight schools' three-council bookings billed at once (own connections): each council numbers 1-8 and no
    two issuers deadlock, because every run takes the councils' sequence locks in LA-code order."""
    market = Market(councils)
    # Book with billing's receiver off, so the eight bookings are confirmed but not billed yet.
    booking_confirmed.disconnect(dispatch_uid="billing_bill_confirmed_booking")
    try:
        bookings = []
        for _ in range(8):
            school, user = market.another_academy()
            bookings.append(market.book(school=school, user=user))
    finally:
        booking_confirmed.connect(bill_booking_later, dispatch_uid="billing_bill_confirmed_booking")
    assert not BillingDocument.objects.exists()
    errors, start = [], threading.Barrier(len(bookings))

    def bill(booking_id):
        try:
            start.wait(timeout=30)
            bill_booking(booking_id=booking_id)
        except BaseException as exc:  # asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=bill, args=(b.pk,)) for b in bookings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    for council in councils.values():
        numbers = sorted(
            BillingDocument.objects.filter(council=council, document_type="invoice").values_list(
                "sequence_number", flat=True
            )
        )
        assert numbers == list(range(1, 9)), council
    assert BillingDocument.objects.count() == 24
