"""Money written once under real concurrency (PostgreSQL, one connection per thread)."""

import threading

import pytest
from django.db import connection, transaction

from billing.fake_gateway import InMemoryGateway
from billing.gateway import override_gateway
from billing.models import LedgerEntry, Payment, RemittanceBatch
from billing.services.payments import record_payment_fee, record_payment_intent
from billing.services.remittances import apply_remittance_batch, create_remittance_batch
from tests.billing.factories import exempt_course, make_invoice
from tests.factories import CouncilMembershipFactory, SchoolFactory
from tests.postgres import wait_until_another_session_waits_for_a_lock

THREADS = 6


def _race(target) -> list[BaseException]:
    """Run ``target`` in THREADS threads released together; returns what they raised."""
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run():
        try:
            start.wait(timeout=30)
            target()
        except BaseException as error:  # collected and asserted on by the caller
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_confirming_a_remittance_file_at_once_from_six_sessions_pays_once(councils):
    """Six simultaneous confirmations of one previewed file record each payment once."""
    council = councils["staffordshire"]
    finance = CouncilMembershipFactory(council=council, role="finance").user
    invoice = make_invoice(council=council, school=SchoolFactory(funding_route="academy"), lines=[exempt_course()])
    content = f"Date,Reference,Amount\n05/03/2026,{invoice.number},120.00\n".encode()
    batch = create_remittance_batch(council=council, uploaded_by=finance, filename="bank.csv", content=content)

    errors = _race(lambda: apply_remittance_batch(batch=RemittanceBatch.objects.get(pk=batch.pk), applied_by=finance))

    assert errors == []
    invoice.refresh_from_db()
    assert invoice.payments.count() == 1 and invoice.amount_paid_pence == 12_000 and invoice.status == "paid"
    assert LedgerEntry.objects.filter(document=invoice, entry_type="payment").totals()["gross"] == 12_000


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_card_payment_and_its_fee_are_posted_once_whoever_records_them(councils):
    """Six workers record the same succeeded intent and fetch its fee at once: one set of entries."""
    gateway = InMemoryGateway()
    payment = Payment.objects.create(
        reference="basket:9",
        amount_pence=16_200,
        idempotency_key="basket:9/attempt:1",
        stripe_payment_intent_id="pi_race",
        metadata={"councils": {"860": 4_200, "893": 12_000}},
    )
    gateway.stage_intent("pi_race", amount_pence=16_200, status="succeeded")

    def record():
        record_payment_intent(intent=gateway.retrieve_payment("pi_race"), payment=payment)
        record_payment_fee(payment=Payment.objects.get(pk=payment.pk), gateway=gateway)

    with override_gateway(gateway):  # the fee task enqueued on commit (eager here) uses it too
        errors = _race(record)

    assert errors == []
    entries = LedgerEntry.objects.filter(payment=payment)
    assert entries.filter(entry_type="payment").count() == 2 and entries.filter(entry_type="card_fee").count() == 2
    assert entries.filter(entry_type="payment").totals()["gross"] == 16_200
    assert -entries.filter(entry_type="card_fee").totals()["gross"] == Payment.objects.get(pk=payment.pk).fee_pence


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_card_money_arriving_while_a_bank_payment_holds_the_invoice_pays_only_what_is_left(councils):
    """A BACS receipt is being recorded (invoice locked, not committed) when the card succeeds: the card hook waits
    for the lock, then reads what is owed, pays the £200 left and refunds the £100 extra (no error, no overpay)."""
    from billing.fake_gateway import NEEDS_3DS
    from billing.services.documents import record_document_payment
    from billing.services.invoice_payments import pay_invoice_by_card
    from billing.services.payments import refresh_payment
    from tests.billing.factories import exempt_course

    gateway = InMemoryGateway()
    council = councils["shropshire"]
    invoice = make_invoice(
        council=council, school=SchoolFactory(funding_route="academy"), lines=[exempt_course(unit_net_pence=30_000)]
    )
    with override_gateway(gateway):
        payment = pay_invoice_by_card(document=invoice, payment_method_id=NEEDS_3DS, attempt="attempt-0001").payment
        gateway.authenticate(payment.stripe_payment_intent_id)
        held, errors = threading.Event(), []

        def bank_receipt():
            try:
                with transaction.atomic():
                    record_document_payment(
                        document=invoice,
                        amount_pence=10_000,
                        paid_on=invoice.issue_date,
                        method="bank_transfer",
                        reference="BACS 77",
                    )
                    held.set()
                    wait_until_another_session_waits_for_a_lock()
            except BaseException as error:  # asserted below
                errors.append(error)
            finally:
                held.set()
                connection.close()

        thread = threading.Thread(target=bank_receipt)
        thread.start()
        assert held.wait(timeout=30)
        refresh_payment(payment=payment)  # the server's re-fetch after 3-D Secure: the payment hook runs here
        thread.join(timeout=60)

    assert errors == []
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid_pence) == ("paid", 30_000)
    assert invoice.payments.get(card_payment=payment).amount_pence == 20_000
    refund = payment.refunds.get()
    assert (refund.amount_pence, refund.status, refund.council) == (10_000, "succeeded", council)
    payment.refresh_from_db()
    assert payment.amount_refunded_pence == 10_000
