"""The webhook against real concurrency (PostgreSQL) and real deliveries (localstripe -> live server)."""

import threading
import time

import pytest
from django.db import connection
from django.test import Client

from billing.fake_gateway import InMemoryGateway
from billing.gateway import CardDeclined, override_gateway
from billing.models import Payment, PaymentStatus, StripeEvent
from billing.registry import payment_hooks
from billing.services.payments import start_card_payment
from tests.billing.webhook_helpers import TEST_SECRET, payload, post_event

PI = "pi_3QaPortalPay0001"
DELIVERIES = 8
# Payments name their councils by LA code; billing posts their shares to the ledger, so the councils must exist.
pytestmark = pytest.mark.usefixtures("councils")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_duplicate_deliveries_store_and_handle_the_event_once(settings):
    """Eight simultaneous deliveries of one event (own connections): one row, handlers once, every answer 200."""
    settings.STRIPE_WEBHOOK_SECRET = TEST_SECRET
    payment = Payment.objects.create(
        reference="basket:41/attempt:1",
        amount_pence=16_200,
        idempotency_key="basket:41/attempt:1",
        stripe_payment_intent_id=PI,
        metadata={"councils": {"893": 12_000, "860": 4_200}},
    )
    gateway = InMemoryGateway()
    gateway.stage_intent(PI, amount_pence=16_200, status="succeeded")
    hook_runs, answers, errors = [], [], []
    lock = threading.Lock()
    start = threading.Barrier(DELIVERIES)
    body = payload("payment_intent.succeeded")

    def hook(paid):
        with lock:
            hook_runs.append(paid.pk)

    def deliver():
        try:
            start.wait(timeout=30)
            response = post_event(Client(), body)
            with lock:
                answers.append((response.status_code, response.json()["duplicate"]))
        except BaseException as exc:  # asserted below
            errors.append(exc)
        finally:
            connection.close()

    payment_hooks.add("succeeded", hook)
    try:
        with override_gateway(gateway):
            threads = [threading.Thread(target=deliver) for _ in range(DELIVERIES)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
    finally:
        payment_hooks.remove("succeeded", hook)

    assert errors == []
    assert sorted(answers) == [(200, False)] + [(200, True)] * (DELIVERIES - 1)
    assert StripeEvent.objects.count() == 1 and StripeEvent.objects.get().attempts == 1
    assert hook_runs == [payment.pk]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED


def wait_for(condition, *, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def processed(event_type: str, payment_intent_id: str) -> bool:
    return StripeEvent.objects.filter(
        type=event_type, payload__data__object__id=payment_intent_id, processed_at__isnull=False
    ).exists()


@pytest.mark.stripe
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_localstripe_webhooks_reach_the_live_server_and_confirm_payments(
    live_server, localstripe, stripe_gateway, settings
):
    """Through localstripe: a 3-D Secure payment is confirmed by its signed webhook alone; a decline is recorded."""
    settings.STRIPE_WEBHOOK_SECRET = "whsec_billing_live_test"
    localstripe.register_webhook(
        "billing-live", url=f"{live_server.url}/stripe/webhook/", secret=settings.STRIPE_WEBHOOK_SECRET
    )
    try:
        customer = stripe_gateway.create_customer(name="Severn Valley Academy", email="sbm@severnvalley.example")
        outcome = start_card_payment(
            reference="basket:7",
            amount_pence=16_200,
            council_shares={"893": 12_000, "860": 4_200},
            customer_id=customer,
            payment_method_id=localstripe.create_card("4000002500003155"),
            idempotency_key="basket:7/attempt:1",
            gateway=stripe_gateway,
        )
        assert outcome.requires_action
        payment = outcome.payment
        # The browser's 3-D Secure step; from here only the webhook tells us the payment went through.
        localstripe.authenticate(payment.stripe_payment_intent_id, outcome.client_secret)
        # The handler commits the payment before the event is marked processed: wait for the event.
        wait_for(
            lambda: processed("payment_intent.succeeded", payment.stripe_payment_intent_id),
            what="payment_intent.succeeded to be processed",
        )
        assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.SUCCEEDED

        with pytest.raises(CardDeclined):
            start_card_payment(
                reference="basket:8",
                amount_pence=5_000,
                council_shares={"885": 5_000},
                customer_id=customer,
                payment_method_id="pm_card_chargeCustomerFail",
                idempotency_key="basket:8/attempt:1",
                gateway=stripe_gateway,
            )
        declined = Payment.objects.get(idempotency_key="basket:8/attempt:1")
        assert declined.status == PaymentStatus.FAILED
        wait_for(
            lambda: processed("payment_intent.payment_failed", declined.stripe_payment_intent_id),
            what="payment_intent.payment_failed",
        )
        declined.refresh_from_db()
        assert declined.status == PaymentStatus.FAILED
        wait_for(lambda: StripeEvent.objects.filter(type="customer.created").exists(), what="customer.created")
        assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.SUCCEEDED
    finally:
        # Later test modules must not post to this (then stopped) live server.
        localstripe.register_webhook("billing-live", url="http://127.0.0.1:9/", secret="x", events=["none.none"])
