"""Card payments and refunds through the services, on the in-memory gateway (the contract tests cover Stripe)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from billing.fake_gateway import DECLINED, NEEDS_3DS, SUCCEEDS
from billing.gateway import CardDeclined, RefundTooLarge
from billing.models import Payment, PaymentStatus, RefundStatus
from billing.models.payments import ALLOWED_TRANSITIONS, can_transition
from billing.registry import payment_hooks
from billing.services.payments import refresh_payment, start_card_payment
from billing.services.refunds import request_refund

# Payments name their councils by LA code; billing posts their shares to the ledger, so the councils must exist.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("councils")]

SHARES = {"860": 4_200, "893": 12_000}


def pay(method=SUCCEEDS, key="basket:41/attempt:1", amount=16_200, shares=None):
    return start_card_payment(
        reference="basket:41",
        amount_pence=amount,
        council_shares=SHARES if shares is None else shares,
        customer_id="cus_test",
        payment_method_id=method,
        idempotency_key=key,
    )


@pytest.fixture
def hooks():
    """Records (status, payment id) for every payment hook run."""
    calls = []
    registered = []
    for status in ("succeeded", "failed", "partially_refunded", "refunded"):

        def hook(payment, status=status):
            calls.append((status, payment.pk))

        payment_hooks.add(status, hook)
        registered.append((status, hook))
    yield calls
    for status, hook in registered:
        payment_hooks.remove(status, hook)


def test_successful_card_payment(fake_gateway, hooks, django_capture_on_commit_callbacks):
    """A good card: the payment succeeds, Stripe hears the council split, the fee is fetched after commit."""
    with django_capture_on_commit_callbacks(execute=True):
        outcome = pay()
    payment = outcome.payment
    payment.refresh_from_db()
    assert outcome.succeeded and not outcome.requires_action and outcome.client_secret == ""
    assert payment.status == PaymentStatus.SUCCEEDED and payment.stripe_payment_intent_id.startswith("pi_")
    intent = fake_gateway.intents[payment.stripe_payment_intent_id]
    assert intent.metadata == {
        "portal_payment_id": str(payment.pk),
        "portal_reference": "basket:41",
        "council_860": "4200",
        "council_893": "12000",
    }
    assert payment.council_shares == SHARES
    assert payment.fee_pence == 263  # 1.5% of £162.00 = 243p, + 20p
    assert hooks == [("succeeded", payment.pk)]


def test_same_attempt_twice_charges_once(fake_gateway, hooks):
    """A double click or retried request with the same key finds the same payment; Stripe creates one intent."""
    first = pay().payment
    second = pay().payment
    assert first.pk == second.pk and Payment.objects.count() == 1
    assert [c for c in fake_gateway.calls if c[0] == "create_payment"] == [
        ("create_payment", first.stripe_payment_intent_id)
    ]
    assert hooks == [("succeeded", first.pk)]
    with pytest.raises(ValidationError, match="different amount"):
        pay(amount=100, shares={"860": 100})


def test_shares_must_add_up_to_the_amount(fake_gateway):
    """The council breakdown must sum exactly to what is charged; nothing is created otherwise."""
    with pytest.raises(ValidationError, match="add up to 16199p"):
        pay(shares={"860": 4_199, "893": 12_000})
    with pytest.raises(ValidationError):
        pay(amount=0, shares={"860": 0})
    assert not Payment.objects.exists() and fake_gateway.calls == []


def test_declined_card_is_recorded_and_reported(fake_gateway, hooks):
    """A declined card raises CardDeclined with a message for the school; the payment is recorded failed."""
    with pytest.raises(CardDeclined) as caught:
        pay(method=DECLINED)
    assert "declined" in caught.value.user_message
    payment = Payment.objects.get()
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "card_declined")
    assert hooks == [("failed", payment.pk)]


def test_three_d_secure_is_confirmed_by_the_server_re_fetch(fake_gateway, hooks):
    """requires_action hands back the client secret; after the browser step a re-fetch confirms the payment."""
    outcome = pay(method=NEEDS_3DS)
    assert outcome.requires_action and outcome.client_secret
    payment = outcome.payment
    assert payment.status == PaymentStatus.REQUIRES_ACTION and hooks == []
    fake_gateway.authenticate(payment.stripe_payment_intent_id)
    payment = refresh_payment(payment=payment)
    assert payment.status == PaymentStatus.SUCCEEDED
    refresh_payment(payment=payment)
    assert hooks == [("succeeded", payment.pk)]


def test_start_card_payment_refuses_to_run_inside_a_transaction(fake_gateway):
    """Stripe must not be called while the caller holds a transaction (and its locks)."""
    with pytest.raises(RuntimeError), transaction.atomic():
        pay()


def test_refunds_are_bounded_by_the_payment_and_sent_after_commit(
    fake_gateway, hooks, django_capture_on_commit_callbacks
):
    """Part refunds go to Stripe after commit; asking for more than remains is refused; all refunded at the end."""
    payment = pay().payment
    with django_capture_on_commit_callbacks(execute=True):
        first = request_refund(payment=payment, amount_pence=5_000, reason="Place cancelled", idempotency_key="r1")
    first.refresh_from_db()
    payment.refresh_from_db()
    assert first.status == RefundStatus.SUCCEEDED and first.stripe_refund_id.startswith("re_")
    assert (payment.status, payment.amount_refunded_pence) == (PaymentStatus.PARTIALLY_REFUNDED, 5_000)
    with pytest.raises(RefundTooLarge):
        request_refund(payment=payment, amount_pence=11_201, reason="too much", idempotency_key="r2")
    again = request_refund(payment=payment, amount_pence=5_000, reason="Place cancelled", idempotency_key="r1")
    assert again.pk == first.pk  # idempotent
    with django_capture_on_commit_callbacks(execute=True):
        request_refund(payment=payment, amount_pence=11_200, reason="Course cancelled", idempotency_key="r3")
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded_pence) == (PaymentStatus.REFUNDED, 16_200)
    assert [c[0] for c in hooks] == ["succeeded", "partially_refunded", "refunded"]


def test_refund_stripe_refuses_is_kept_as_failed_for_finance(fake_gateway, django_capture_on_commit_callbacks):
    """If Stripe refuses a refund it is marked failed with the reason, not lost."""
    payment = pay().payment
    fake_gateway.set_status(payment.stripe_payment_intent_id, "canceled")  # Stripe will now refuse
    with django_capture_on_commit_callbacks(execute=True):
        refund = request_refund(payment=payment, amount_pence=100, reason="Goodwill", idempotency_key="r-f")
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED and refund.failure_message


def test_unpaid_payment_cannot_be_refunded(fake_gateway):
    """Only a payment that was taken can be refunded."""
    with pytest.raises(CardDeclined):
        pay(method=DECLINED)
    with pytest.raises(ValidationError, match="taken"):
        request_refund(payment=Payment.objects.get(), amount_pence=1, reason="x", idempotency_key="r")


def test_state_machine_succeeded_is_terminal_except_refunds():
    """From succeeded only refunds move a payment; failed can still succeed; refunded and cancelled are final."""
    assert ALLOWED_TRANSITIONS["succeeded"] == {"partially_refunded", "refunded"}
    for status in ("pending", "requires_action", "processing", "failed", "canceled"):
        assert not can_transition("succeeded", status)
    assert can_transition("failed", "succeeded")
    assert not can_transition("refunded", "succeeded") and not can_transition("canceled", "succeeded")
    assert not can_transition("partially_refunded", "succeeded")


def test_school_gets_one_stripe_customer_and_a_setup_intent(fake_gateway):
    """The first card payment creates the school's Stripe customer; later ones reuse it."""
    from billing.models import StripeCustomer
    from billing.services.payments import start_card_setup, stripe_customer_for
    from tests.factories import SchoolFactory

    school = SchoolFactory(name="Severn Valley Academy")
    setup = start_card_setup(school=school)
    assert setup.client_secret and setup.customer_id == StripeCustomer.objects.get(school=school).stripe_customer_id
    assert stripe_customer_for(school=school) == setup.customer_id
    assert [c[0] for c in fake_gateway.calls] == ["create_customer"]
    assert fake_gateway.customers[setup.customer_id]["metadata"]["school_urn"] == str(school.urn)


def test_refunds_left_requested_by_a_dead_worker_are_sent_again_by_the_beat_sweep(
    fake_gateway, django_capture_on_commit_callbacks
):
    """A refund whose task never ran (worker died after the commit) is made by the periodic sweep, once."""
    from datetime import timedelta

    from django.utils import timezone

    from billing.models import Refund
    from billing.tasks import resubmit_stuck_refunds
    from portal.celery import BEAT_SCHEDULE, app

    payment = pay().payment
    # The row is committed but its on-commit task is lost: nothing captured runs.
    with django_capture_on_commit_callbacks(execute=False):
        lost = request_refund(payment=payment, amount_pence=4_000, reason="Place cancelled", idempotency_key="lost")
        fresh = request_refund(payment=payment, amount_pence=1_000, reason="Just asked", idempotency_key="fresh")
    Refund.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=30))
    assert resubmit_stuck_refunds.delay().get() == 1
    assert resubmit_stuck_refunds.delay().get() == 0  # made: nothing left to send
    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert (lost.status, fresh.status) == (RefundStatus.SUCCEEDED, RefundStatus.REQUESTED)  # fresh: task in flight
    assert len(fake_gateway.refunds) == 1
    payment.refresh_from_db()
    assert payment.amount_refunded_pence == 4_000
    assert "billing.resubmit_stuck_refunds" in {entry["task"] for entry in BEAT_SCHEDULE.values()}
    assert "billing.resubmit_stuck_refunds" in app.tasks


def test_a_refund_still_not_made_after_a_day_is_put_before_finance_once(fake_gateway, monkeypatch):
    """Stripe has not answered for a day: the sweep keeps sending it and opens one finance task for it."""
    from datetime import timedelta

    from django.utils import timezone

    from billing.models import FinanceTask, FinanceTaskKind, Refund
    from billing.services import refunds

    payment = pay().payment
    stuck = request_refund(payment=payment, amount_pence=2_500, reason="Course cancelled", idempotency_key="old")
    Refund.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(days=2))
    sent = []
    monkeypatch.setattr(refunds.submit_refund_task, "delay", sent.append)  # the broker takes it; Stripe is down

    assert refunds.resubmit_stuck_refunds() == [stuck.pk]
    assert refunds.resubmit_stuck_refunds() == [stuck.pk]
    assert sent == [stuck.pk, stuck.pk]
    task = FinanceTask.objects.get()
    assert (task.kind, task.refund_id, task.amount_pence, task.payment_id) == (
        FinanceTaskKind.REFUND_NOT_REQUESTED,
        stuck.pk,
        2_500,
        payment.pk,
    )
