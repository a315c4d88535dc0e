"""Money written once under real concurrency (PostgreSQL, one connection per thread)."""

import threading

import pytest
from django.db import connection

from billing.fake_gateway import InMemoryGateway
from billing.gateway import override_gateway
from billing.models import LedgerEntry, Payment, RemittanceBatch
from billing.services.payments import record_payment_fee, record_payment_intent
from billing.services.remittances import apply_remittance_batch, create_remittance_batch
from tests.billing.factories import exempt_course, make_invoice
from tests.factories import CouncilMembershipFactory, SchoolFactory

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
