"""The Stripe webhook with real signed payload files: verification, storing once, order, re-fetching."""

import time

import pytest

from billing.models import Payment, PaymentStatus, StripeEvent
from billing.registry import payment_hooks, stripe_event_handlers
from billing.services.stripe_events import process_stripe_event
from tests.billing.webhook_helpers import TEST_SECRET, event_with, payload, post_event, sign

# Payments name their councils by LA code; billing posts their shares to the ledger, so the councils must exist.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("councils")]

PI = "pi_3QaPortalPay0001"


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = TEST_SECRET


@pytest.fixture
def payment():
    """Our record of the payment the payload files are about (16200p: 12000p Shropshire, 4200p Staffordshire)."""
    return Payment.objects.create(
        reference="basket:41/attempt:1",
        amount_pence=16_200,
        idempotency_key="basket:41/attempt:1",
        stripe_payment_intent_id=PI,
        metadata={"councils": {"893": 12_000, "860": 4_200}},
    )


@pytest.fixture
def succeeded_hooks():
    """Records every run of the 'succeeded' payment hook."""
    calls = []

    def hook(payment):
        calls.append(payment.pk)

    payment_hooks.add("succeeded", hook)
    yield calls
    payment_hooks.remove("succeeded", hook)


def deliver(client, capture, body, **kwargs):
    """Post an event and run what it enqueued on commit (the handlers' Celery task, eager in tests)."""
    with capture(execute=True):
        return post_event(client, body, **kwargs)


def test_valid_succeeded_event_is_stored_and_confirms_the_payment(
    client, django_capture_on_commit_callbacks, fake_gateway, payment, succeeded_hooks
):
    """A signed payment_intent.succeeded is stored once, processed, and the payment succeeds from a re-fetch."""
    fake_gateway.stage_intent(PI, amount_pence=16_200, status="succeeded")
    response = deliver(client, django_capture_on_commit_callbacks, payload("payment_intent.succeeded"))
    assert response.status_code == 200
    assert response.json() == {"received": "evt_3QaPortalSucceeded01", "duplicate": False}
    event = StripeEvent.objects.get()
    assert (event.type, event.attempts, event.last_error) == ("payment_intent.succeeded", 1, "")
    assert event.processed_at is not None
    assert event.payload["data"]["object"]["id"] == PI
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED and payment.succeeded_at is not None
    assert ("retrieve_payment", PI) in fake_gateway.calls
    assert succeeded_hooks == [payment.pk]


def test_the_payload_alone_is_never_trusted(client, django_capture_on_commit_callbacks, fake_gateway, payment):
    """If Stripe, asked directly, says the intent still needs 3-D Secure, a 'succeeded' payload changes nothing."""
    fake_gateway.stage_intent(PI, amount_pence=16_200, status="requires_action")
    deliver(client, django_capture_on_commit_callbacks, payload("payment_intent.succeeded"))
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REQUIRES_ACTION


def test_an_intent_for_a_different_amount_is_not_believed(
    client, django_capture_on_commit_callbacks, fake_gateway, payment
):
    """A succeeded intent whose amount is not the payment's does not mark the payment paid."""
    fake_gateway.stage_intent(PI, amount_pence=100, status="succeeded")
    deliver(client, django_capture_on_commit_callbacks, payload("payment_intent.succeeded"))
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING


@pytest.mark.parametrize(
    ("signature", "why"),
    [
        ("", "missing header"),
        ("t=1772445600,v1=" + "0" * 64, "wrong signature"),
        (sign(payload("payment_intent.succeeded"), secret="whsec_someone_else"), "other secret"),
        (sign(payload("payment_intent.succeeded"), timestamp=int(time.time()) - 600), "too old: a replay"),
        ("garbage", "unparseable header"),
    ],
)
def test_bad_or_missing_signature_is_refused(client, fake_gateway, payment, signature, why):
    """Anything not signed with our secret within five minutes gets 400 and nothing is stored."""
    response = post_event(client, payload("payment_intent.succeeded"), signature=signature)
    assert response.status_code == 400, why
    assert not StripeEvent.objects.exists()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING


def test_tampered_body_is_refused(client, fake_gateway):
    """A body changed after signing fails verification."""
    body = payload("payment_intent.succeeded")
    signature = sign(body)
    response = post_event(client, body.replace(b"16200", b"1"), signature=signature)
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"type": "payment_intent.succeeded"}', b'{"id": "evt_1"}'])
def test_signed_body_that_is_not_an_event_is_refused(client, body):
    """Correctly signed but not a Stripe event (bad JSON, no id or type): 400."""
    assert post_event(client, body).status_code == 400
    assert not StripeEvent.objects.exists()


def test_only_post_is_allowed(client):
    """GET on the webhook is 405."""
    assert client.get("/stripe/webhook/").status_code == 405


def test_duplicate_delivery_is_answered_200_and_changes_nothing(
    client, django_capture_on_commit_callbacks, fake_gateway, payment, succeeded_hooks
):
    """The same event delivered twice: one row, handlers run once, the second answer says duplicate."""
    fake_gateway.stage_intent(PI, amount_pence=16_200, status="succeeded")
    body = payload("payment_intent.succeeded")
    first = deliver(client, django_capture_on_commit_callbacks, body)
    stored = StripeEvent.objects.get()
    calls_after_first = list(fake_gateway.calls)
    second = deliver(client, django_capture_on_commit_callbacks, body)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["duplicate"] is True
    assert StripeEvent.objects.count() == 1
    again = StripeEvent.objects.get()
    assert (again.attempts, again.processed_at, again.received_at) == (1, stored.processed_at, stored.received_at)
    assert fake_gateway.calls == calls_after_first  # Stripe was not asked again
    assert succeeded_hooks == [payment.pk]


def test_late_failure_never_undoes_a_success(
    client, django_capture_on_commit_callbacks, fake_gateway, payment, succeeded_hooks
):
    """payment_failed delivered after succeeded (even if Stripe's answer were stale) leaves it succeeded."""
    fake_gateway.stage_intent(PI, amount_pence=16_200, status="succeeded")
    deliver(client, django_capture_on_commit_callbacks, payload("payment_intent.succeeded"))
    # Stage the worst case: the re-fetch itself reports the earlier failed attempt.
    fake_gateway.set_status(PI, "requires_payment_method", failure_code="card_declined", failure_message="Declined")
    response = deliver(client, django_capture_on_commit_callbacks, payload("payment_intent.payment_failed"))
    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED and payment.failure_code == ""
    assert StripeEvent.objects.filter(processed_at__isnull=False).count() == 2
    assert succeeded_hooks == [payment.pk]


def test_failure_then_success_in_order_ends_succeeded(
    client, django_capture_on_commit_callbacks, fake_gateway, payment, succeeded_hooks
):
    """A declined first attempt then a successful retry on the same intent: failed, then succeeded."""
    fake_gateway.stage_intent(
        PI, amount_pence=16_200, status="requires_payment_method", failure_code="card_declined", failure_message="No"
    )
    deliver(client, django_capture_on_commit_callbacks, payload("payment_intent.payment_failed"))
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "card_declined")
    fake_gateway.set_status(PI, "succeeded")
    deliver(client, django_capture_on_commit_callbacks, payload("payment_intent.succeeded"))
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert succeeded_hooks == [payment.pk]


def test_charge_refunded_records_the_refunded_amount(client, django_capture_on_commit_callbacks, fake_gateway, payment):
    """charge.refunded re-fetches the intent and records the part refund; an older event cannot shrink it."""
    fake_gateway.stage_intent(PI, amount_pence=16_200, status="succeeded")
    deliver(client, django_capture_on_commit_callbacks, payload("payment_intent.succeeded"))
    fake_gateway.set_status(PI, "succeeded", amount_refunded_pence=5_000)
    deliver(client, django_capture_on_commit_callbacks, payload("charge.refunded"))
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded_pence) == (PaymentStatus.PARTIALLY_REFUNDED, 5_000)
    fake_gateway.set_status(PI, "succeeded", amount_refunded_pence=0)  # a stale snapshot
    deliver(client, django_capture_on_commit_callbacks, event_with("payment_intent.succeeded", id="evt_replayed_old"))
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded_pence) == (PaymentStatus.PARTIALLY_REFUNDED, 5_000)


def test_unknown_event_type_is_stored_and_answered_200(client, django_capture_on_commit_callbacks, fake_gateway):
    """An event nobody handles is kept for the record, marked processed, and Stripe is not called."""
    response = deliver(client, django_capture_on_commit_callbacks, payload("customer.created"))
    assert response.status_code == 200
    event = StripeEvent.objects.get()
    assert event.type == "customer.created" and event.processed_at is not None
    assert fake_gateway.calls == []


def test_event_for_an_intent_that_is_not_ours_is_ignored(client, django_capture_on_commit_callbacks, fake_gateway):
    """Another system's payment on the same account: stored, processed, Stripe not asked, nothing changed."""
    response = deliver(client, django_capture_on_commit_callbacks, payload("payment_intent.succeeded"))
    assert response.status_code == 200
    assert StripeEvent.objects.get().processed_at is not None
    assert fake_gateway.calls == [] and not Payment.objects.exists()


def test_event_arriving_before_we_stored_the_intent_id_is_matched_by_metadata(
    client, django_capture_on_commit_callbacks, fake_gateway
):
    """A webhook faster than our own request finds the payment through the id we put in the metadata."""
    payment = Payment.objects.create(
        reference="basket:41/attempt:1",
        amount_pence=16_200,
        idempotency_key="k",
        metadata={"councils": {"893": 16_200}},
    )
    body = payload("payment_intent.succeeded").replace(
        b'"portal_payment_id": "1"', f'"portal_payment_id": "{payment.pk}"'.encode()
    )
    fake_gateway.stage_intent(
        PI, amount_pence=16_200, status="succeeded", metadata={"portal_payment_id": str(payment.pk)}
    )
    deliver(client, django_capture_on_commit_callbacks, body)
    payment.refresh_from_db()
    assert (payment.status, payment.stripe_payment_intent_id) == (PaymentStatus.SUCCEEDED, PI)


def test_handlers_registered_by_other_code_receive_the_event(client, django_capture_on_commit_callbacks):
    """Later code (the bookings integration) can register handlers for any event type."""
    seen = []

    def on_customer(event):
        seen.append((event.type, event.data_object["id"]))

    stripe_event_handlers.add("customer.created", on_customer)
    try:
        deliver(client, django_capture_on_commit_callbacks, payload("customer.created"))
    finally:
        stripe_event_handlers.remove("customer.created", on_customer)
    assert seen == [("customer.created", "cus_SvaPortal0001")]
    assert StripeEvent.objects.get().processed_at is not None


def test_a_failing_handler_leaves_the_event_for_a_retry(client, django_capture_on_commit_callbacks):
    """A handler error is recorded on the event, which stays unprocessed until a later run succeeds."""
    attempts = []

    def flaky(event):
        attempts.append(event.pk)
        if len(attempts) == 1:
            raise RuntimeError("ledger unavailable")

    stripe_event_handlers.add("customer.created", flaky)
    try:
        with pytest.raises(RuntimeError):
            deliver(client, django_capture_on_commit_callbacks, payload("customer.created"))
        event = StripeEvent.objects.get()
        assert event.processed_at is None and "ledger unavailable" in event.last_error and event.attempts == 1
        process_stripe_event(event_pk=event.pk)
    finally:
        stripe_event_handlers.remove("customer.created", flaky)
    event.refresh_from_db()
    assert event.processed_at is not None and event.last_error == "" and event.attempts == 2
    process_stripe_event(event_pk=event.pk)  # already processed: nothing runs
    assert len(attempts) == 2


def test_events_whose_task_was_lost_are_requeued():
    """The periodic task finds events stored minutes ago but never processed and processes them."""
    import json
    from datetime import timedelta

    from django.utils import timezone

    from billing.tasks import requeue_stripe_events
    from portal.celery import BEAT_SCHEDULE, app

    lost = StripeEvent.objects.create(
        event_id="evt_lost", type="customer.created", payload=json.loads(payload("customer.created"))
    )
    fresh = StripeEvent.objects.create(event_id="evt_fresh", type="customer.created", payload={})
    StripeEvent.objects.filter(pk=lost.pk).update(received_at=timezone.now() - timedelta(minutes=10))
    assert requeue_stripe_events() == 1
    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.processed_at is not None and fresh.processed_at is None  # a fresh one's task may still be queued
    schedule = {entry["task"] for entry in BEAT_SCHEDULE.values()}
    assert "billing.requeue_stripe_events" in schedule
    assert "billing.requeue_stripe_events" in app.tasks
