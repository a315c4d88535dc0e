"""Invoice payments: finance records money by hand, a school pays by card from the invoice page, overdue reminders."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse

from billing.fake_gateway import DECLINED, NEEDS_3DS, SUCCEEDS
from billing.models import (
    DocumentStatus,
    FinanceTask,
    FinanceTaskKind,
    LedgerEntry,
    OverdueReminder,
    Payment,
    PaymentStatus,
    RefundStatus,
)
from billing.services.reminders import remind_overdue_invoices, send_reminder_emails
from tests.billing.factories import exempt_course, make_invoice
from tests.factories import CouncilMembershipFactory, SchoolFactory, SchoolMembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(councils):
    school = SchoolFactory(name="Severn Valley Academy", funding_route="academy")
    return make_invoice(
        council=councils["shropshire"],
        school=school,
        lines=[exempt_course(unit_net_pence=30_000)],
        po_number="PO-1",
        issue_date=datetime.date(2026, 4, 1),
    )


@pytest.fixture
def finance(invoice):
    return CouncilMembershipFactory(council=invoice.council, role="finance").user


@pytest.fixture
def approver(invoice):
    return SchoolMembershipFactory(school=invoice.school, role="approver").user


def test_finance_records_a_part_payment_then_the_rest(client, invoice, finance):
    """A part payment leaves the invoice part paid; the rest pays it; both reach the ledger."""
    client.force_login(finance)
    url = reverse("billing:record_payment", args=[invoice.pk])
    form = {"amount": "100.00", "paid_on": "10/04/2026", "method": "bank_transfer", "reference": "BACS 0001"}
    response = client.post(url, form)
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid_pence) == (DocumentStatus.PART_PAID, 10_000)
    client.post(url, {**form, "amount": "£200.00", "reference": "BACS 0002"})
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_on) == (DocumentStatus.PAID, datetime.date(2026, 4, 10))
    assert LedgerEntry.objects.filter(document=invoice, entry_type="payment").totals()["gross"] == 30_000


def test_recording_a_payment_refuses_bad_input_with_clear_messages(client, invoice, finance):
    """Too much, a future date, a missing reference and a repeated receipt are refused; nothing is written."""
    client.force_login(finance)
    url = reverse("billing:record_payment", args=[invoice.pk])
    response = client.post(url, {"amount": "300.01", "paid_on": "31/12/2099", "method": "cheque", "reference": ""})
    page = response.content.decode()
    assert response.status_code == 200 and "There is a problem" in page
    assert "must not be more than the £300.00 owed" in page and "today or in the past" in page
    assert 'href="#id_reference"' in page
    form = {"amount": "50", "paid_on": "10/04/2026", "method": "bank_transfer", "reference": "BACS 9"}
    client.post(url, form)
    response = client.post(url, form)
    assert "already recorded" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.amount_paid_pence == 5_000 and invoice.payments.count() == 1


def _pay(client, invoice, method, attempt="attempt-0001"):
    setup = client.post(reverse("billing:pay_setup", args=[invoice.pk]), content_type="application/json")
    assert setup.json()["client_secret"]
    return client.post(
        reverse("billing:pay_charge", args=[invoice.pk]),
        {"payment_method": method, "attempt": attempt},
        content_type="application/json",
    )


def test_school_pays_an_invoice_by_card(client, invoice, approver, fake_gateway, django_capture_on_commit_callbacks):
    """The approver's card payment settles the invoice and posts the council's card income and fee share."""
    client.force_login(approver)
    page = client.get(reverse("billing:document", args=[invoice.pk])).content.decode()
    assert "Pay £300.00 by card" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = _pay(client, invoice, SUCCEEDS)
    assert response.json()["status"] == "succeeded"
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.PAID
    payment = Payment.objects.get()
    assert payment.reference == f"invoice:{invoice.pk}" and payment.council_shares == {"893": 30_000}
    assert invoice.payments.get().card_payment == payment
    entries = {e.entry_type: e.gross_pence for e in LedgerEntry.objects.filter(payment=payment)}
    assert entries == {"payment": 30_000, "card_fee": -470}  # 1.5% + 20p
    again = client.post(
        reverse("billing:pay_charge", args=[invoice.pk]),
        {"payment_method": SUCCEEDS, "attempt": "attempt-0002"},
        content_type="application/json",
    )
    assert again.status_code == 403 and Payment.objects.count() == 1


def test_a_double_submit_charges_once(client, invoice, approver, fake_gateway):
    """Two submits of the same attempt make one payment and one charge."""
    client.force_login(approver)
    _pay(client, invoice, NEEDS_3DS)
    _pay(client, invoice, NEEDS_3DS)
    assert Payment.objects.count() == 1
    assert len([call for call in fake_gateway.calls if call[0] == "create_payment"]) == 1


def test_declined_card_leaves_the_invoice_open(client, invoice, approver, fake_gateway):
    """A declined card answers with a message for the school; the invoice stays unpaid."""
    client.force_login(approver)
    response = _pay(client, invoice, DECLINED)
    assert response.status_code == 402 and "declined" in response.json()["message"]
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.ISSUED and not invoice.payments.exists()


def test_three_d_secure_is_settled_by_the_server_re_fetch(client, invoice, approver, fake_gateway):
    """After 3-D Secure the server asks Stripe; nothing is paid until Stripe says so."""
    client.force_login(approver)
    answer = _pay(client, invoice, NEEDS_3DS).json()
    assert answer["status"] == "requires_action" and answer["client_secret"]
    complete = reverse("billing:pay_complete", args=[invoice.pk])
    # The browser claiming success changes nothing while Stripe still waits for the card holder.
    response = client.post(complete, {"payment": answer["payment"]}, content_type="application/json")
    assert response.json()["status"] == "processing"
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.ISSUED
    fake_gateway.authenticate(Payment.objects.get().stripe_payment_intent_id)
    response = client.post(complete, {"payment": answer["payment"]}, content_type="application/json")
    assert response.json()["status"] == "succeeded"
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.PAID
    assert Payment.objects.get().status == PaymentStatus.SUCCEEDED


def test_card_payment_arriving_after_a_bank_payment_is_applied_only_up_to_what_is_owed(
    client, invoice, approver, finance, fake_gateway, django_capture_on_commit_callbacks
):
    """If the invoice was part paid meanwhile, the card pays only what is left and the rest goes back to the card."""
    client.force_login(approver)
    answer = _pay(client, invoice, NEEDS_3DS).json()
    from billing.services.documents import record_document_payment

    record_document_payment(
        document=invoice, amount_pence=10_000, paid_on=datetime.date(2026, 4, 2), method="bank_transfer", reference="B"
    )
    fake_gateway.authenticate(Payment.objects.get().stripe_payment_intent_id)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("billing:pay_complete", args=[invoice.pk]), {"payment": answer["payment"]}, "application/json"
        )
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.PAID and invoice.amount_paid_pence == 30_000
    assert invoice.payments.get(card_payment__isnull=False).amount_pence == 20_000
    payment = Payment.objects.get()
    refund = payment.refunds.get()
    assert (refund.amount_pence, refund.status, refund.council) == (10_000, RefundStatus.SUCCEEDED, invoice.council)
    assert (payment.status, payment.amount_refunded_pence) == (PaymentStatus.PARTIALLY_REFUNDED, 10_000)
    card = LedgerEntry.objects.filter(payment=payment).exclude(entry_type="card_fee")
    # The card's £300 in, its £100 back out: £200 of card money kept, plus the £100 by bank.
    assert card.totals()["gross"] == 20_000
    assert {e.school_id for e in card} == {invoice.school_id}
    assert not FinanceTask.objects.exists()


def test_card_payment_for_an_invoice_paid_or_credited_meanwhile_is_refunded_in_full(
    client, invoice, approver, fake_gateway, django_capture_on_commit_callbacks
):
    """Nothing left to pay when the card money arrives: the invoice is untouched and the whole payment refunded."""
    from billing.services.documents import credit_invoice_in_full

    client.force_login(approver)
    answer = _pay(client, invoice, NEEDS_3DS).json()
    credit_invoice_in_full(invoice=invoice, reason="Course cancelled by the council")
    invoice.refresh_from_db()
    before = (invoice.status, invoice.amount_paid_pence, invoice.amount_credited_pence, invoice.updated_at)
    fake_gateway.authenticate(Payment.objects.get().stripe_payment_intent_id)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("billing:pay_complete", args=[invoice.pk]), {"payment": answer["payment"]}, "application/json"
        )
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid_pence, invoice.amount_credited_pence, invoice.updated_at) == before
    assert not invoice.payments.exists()
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.refunds.get().amount_pence == 30_000


def test_card_overpayment_that_cannot_be_refunded_is_a_finance_task(
    client, invoice, approver, fake_gateway, monkeypatch
):
    """If the refund of the excess cannot even be asked for, finance sees the money as a task."""
    from billing.gateway import RefundTooLarge
    from billing.services import refunds
    from billing.services.documents import record_document_payment

    client.force_login(approver)
    answer = _pay(client, invoice, NEEDS_3DS).json()
    record_document_payment(
        document=invoice, amount_pence=30_000, paid_on=datetime.date(2026, 4, 2), method="cheque", reference="C"
    )

    def refuse(**kwargs):
        raise RefundTooLarge("test", user_message="Nothing can be refunded.")

    monkeypatch.setattr(refunds, "request_refund", refuse)
    fake_gateway.authenticate(Payment.objects.get().stripe_payment_intent_id)
    client.post(reverse("billing:pay_complete", args=[invoice.pk]), {"payment": answer["payment"]}, "application/json")
    task = FinanceTask.objects.get()
    assert (task.kind, task.amount_pence, task.council, task.document, task.payment) == (
        FinanceTaskKind.CARD_OVERPAYMENT,
        30_000,
        invoice.council,
        invoice,
        Payment.objects.get(),
    )
    assert Payment.objects.get().status == PaymentStatus.SUCCEEDED  # the money is recorded as taken


def test_overdue_reminders_go_once_per_stage(invoice, approver, django_capture_on_commit_callbacks):
    """Past due the approvers are reminded once; the same day again sends nothing; at 14 days the next stage."""
    SchoolMembershipFactory(school=invoice.school, role="booker")
    due = invoice.due_date
    assert remind_overdue_invoices(today=due) == []
    with django_capture_on_commit_callbacks(execute=True):
        first = remind_overdue_invoices(today=due + datetime.timedelta(days=1))
        again = remind_overdue_invoices(today=due + datetime.timedelta(days=1))
    assert [r.stage for r in first] == ["overdue"] and again == []
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [approver.email]
    assert invoice.number in mail.outbox[0].subject and "£300.00" in mail.outbox[0].body
    assert send_reminder_emails(reminder_id=first[0].pk) == 0  # a retried task sends nothing twice
    with django_capture_on_commit_callbacks(execute=True):
        later = remind_overdue_invoices(today=due + datetime.timedelta(days=20))
    assert [r.stage for r in later] == ["overdue_14"] and len(mail.outbox) == 2
    assert OverdueReminder.objects.filter(document=invoice).count() == 2


def test_paid_and_card_route_invoices_are_never_overdue(councils, invoice, approver):
    """A paid invoice and a card receipt are not reminded, however old."""
    from billing.services.documents import record_document_payment

    record_document_payment(
        document=invoice, amount_pence=30_000, paid_on=invoice.issue_date, method="cheque", reference="CHQ 1"
    )
    make_invoice(council=councils["staffordshire"], school=invoice.school, route="card", issue_date=invoice.issue_date)
    assert remind_overdue_invoices(today=invoice.due_date + datetime.timedelta(days=60)) == []


def test_the_beat_schedule_runs_the_reminders_daily():
    """portal/celery.py schedules billing.remind_overdue_invoices by name."""
    from portal.celery import BEAT_SCHEDULE

    entries = [entry for entry in BEAT_SCHEDULE.values() if entry["task"] == "billing.remind_overdue_invoices"]
    assert len(entries) == 1
