"""An in-memory ``PaymentGateway`` for tests and demos that should not need a Stripe server.

It behaves like Stripe (and the local fake) for what billing uses, and the same contract tests run against it
and against ``StripeGateway`` + localstripe (``tests/billing/test_gateway.py``), so it cannot quietly drift.
Unlike the local fake it charges a fee (1.5% + 20p, Stripe's UK card rate) so fee apportionment has something
to split, and it lets a test move an intent to any state (``set_status``) to stage out-of-order webhooks.

Test payment methods, as Stripe names them: ``pm_card_visa`` succeeds, ``pm_card_chargeCustomerFail`` is
declined, ``pm_card_threeDSecureRequired`` needs 3-D Secure (finish it with ``authenticate``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal

from .gateway import (
    CURRENCY,
    CardDeclined,
    NotRefundable,
    PaymentIntentResult,
    PaymentRequestRejected,
    RefundResult,
    RefundTooLarge,
    SetupIntentResult,
)
from .money import round_pence

DECLINED = "pm_card_chargeCustomerFail"
NEEDS_3DS = "pm_card_threeDSecureRequired"
SUCCEEDS = "pm_card_visa"


class InMemoryGateway:
    def __init__(self, *, fee_basis_points: int = 150, fee_fixed_pence: int = 20):
        self.fee_basis_points = fee_basis_points
        self.fee_fixed_pence = fee_fixed_pence
        self.customers: dict[str, dict] = {}
        self.intents: dict[str, PaymentIntentResult] = {}
        self.refunds: dict[str, RefundResult] = {}
        self.calls: list[tuple[str, str]] = []
        self._by_key: dict[str, str] = {}
        self._ids = itertools.count(1)

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):06d}"

    def create_customer(
        self, *, name: str, email: str = "", metadata: Mapping[str, str] | None = None, idempotency_key: str = ""
    ) -> str:
        if idempotency_key and idempotency_key in self._by_key:
            return self._by_key[idempotency_key]
        customer_id = self._new_id("cus")
        self.customers[customer_id] = {"name": name, "email": email, "metadata": dict(metadata or {})}
        if idempotency_key:
            self._by_key[idempotency_key] = customer_id
        self.calls.append(("create_customer", customer_id))
        return customer_id

    def create_setup_intent(self, *, customer_id: str, metadata: Mapping[str, str] | None = None) -> SetupIntentResult:
        intent_id = self._new_id("seti")
        return SetupIntentResult(
            id=intent_id,
            client_secret=f"{intent_id}_secret_fake",
            status="requires_payment_method",
            customer_id=customer_id,
        )

    def create_payment(
        self,
        *,
        amount_pence: int,
        customer_id: str,
        payment_method_id: str,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
    ) -> PaymentIntentResult:
        if not isinstance(amount_pence, int) or amount_pence <= 0:
            raise PaymentRequestRejected(f"amount must be positive pence, not {amount_pence!r}")
        if not idempotency_key:
            raise PaymentRequestRejected("a payment needs an idempotency key")
        if idempotency_key in self._by_key:  # Stripe replays the first response for a repeated key
            return self.intents[self._by_key[idempotency_key]]
        intent_id = self._new_id("pi")
        self._by_key[idempotency_key] = intent_id
        self.calls.append(("create_payment", intent_id))
        intent = PaymentIntentResult(
            id=intent_id,
            status="requires_confirmation",
            amount_pence=amount_pence,
            currency=CURRENCY,
            client_secret=f"{intent_id}_secret_fake",
            customer_id=customer_id,
            payment_method_id=payment_method_id,
            metadata={str(k): str(v) for k, v in (metadata or {}).items()},
        )
        if payment_method_id == DECLINED:
            self.intents[intent_id] = replace(
                intent,
                status="requires_payment_method",
                failure_code="card_declined",
                failure_message="Your card was declined.",
            )
            raise CardDeclined("card declined (fake)", code="card_declined", payment_intent=self.intents[intent_id])
        needs_3ds = payment_method_id == NEEDS_3DS
        intent = replace(intent, status="requires_action") if needs_3ds else self._succeed(intent)
        self.intents[intent_id] = intent
        return intent

    def _succeed(self, intent: PaymentIntentResult) -> PaymentIntentResult:
        return replace(
            intent,
            status="succeeded",
            amount_received_pence=intent.amount_pence,
            latest_charge_id=intent.id.replace("pi_", "ch_"),
            failure_code="",
            failure_message="",
        )

    def authenticate(self, payment_intent_id: str, *, success: bool = True) -> PaymentIntentResult:
        """What the browser's 3-D Secure step does: the payment then succeeds, or goes back to needing a card."""
        intent = self.intents[payment_intent_id]
        if intent.status != "requires_action":
            raise PaymentRequestRejected(f"{payment_intent_id} is not waiting for authentication")
        if success:
            intent = self._succeed(intent)
        else:
            intent = replace(
                intent,
                status="requires_payment_method",
                payment_method_id="",
                failure_code="payment_intent_authentication_failure",
                failure_message="The provided PaymentMethod has failed authentication.",
            )
        self.intents[payment_intent_id] = intent
        return intent

    def stage_intent(
        self, payment_intent_id: str, *, amount_pence: int, status: str = "succeeded", **fields
    ) -> PaymentIntentResult:
        """Put an intent with a chosen id and state in place (to match a stored webhook payload)."""
        intent = PaymentIntentResult(
            id=payment_intent_id, status="requires_confirmation", amount_pence=amount_pence, currency=CURRENCY
        )
        self.intents[payment_intent_id] = intent
        return self.set_status(payment_intent_id, status, **fields)

    def set_status(self, payment_intent_id: str, status: str, **changes) -> PaymentIntentResult:
        """Stage any state (for tests of webhooks arriving late or out of order)."""
        intent = self.intents[payment_intent_id]
        intent = self._succeed(intent) if status == "succeeded" else replace(intent, status=status)
        self.intents[payment_intent_id] = replace(intent, **changes)
        return self.intents[payment_intent_id]

    def retrieve_payment(self, payment_intent_id: str) -> PaymentIntentResult:
        self.calls.append(("retrieve_payment", payment_intent_id))
        try:
            return self.intents[payment_intent_id]
        except KeyError:
            raise PaymentRequestRejected(f"No such payment_intent: {payment_intent_id}") from None

    def refund(
        self,
        *,
        payment_intent_id: str,
        amount_pence: int,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
    ) -> RefundResult:
        if not isinstance(amount_pence, int) or amount_pence <= 0:
            raise PaymentRequestRejected(f"a refund must be positive pence, not {amount_pence!r}")
        if idempotency_key in self._by_key:
            return self.refunds[self._by_key[idempotency_key]]
        intent = self.retrieve_payment(payment_intent_id)
        if not intent.succeeded:
            raise NotRefundable(f"{payment_intent_id} is {intent.status}", payment_intent=intent)
        if amount_pence > intent.refundable_pence:
            raise RefundTooLarge(
                f"refund of {amount_pence}p asked, only {intent.refundable_pence}p remains", payment_intent=intent
            )
        refund = RefundResult(
            id=self._new_id("re"),
            amount_pence=amount_pence,
            status="succeeded",
            payment_intent_id=payment_intent_id,
            charge_id=intent.latest_charge_id,
        )
        self.refunds[refund.id] = refund
        self._by_key[idempotency_key] = refund.id
        self.intents[payment_intent_id] = replace(
            intent, amount_refunded_pence=intent.amount_refunded_pence + amount_pence
        )
        self.calls.append(("refund", refund.id))
        return refund

    def payment_fee(self, payment_intent_id: str) -> int | None:
        intent = self.retrieve_payment(payment_intent_id)
        if not intent.succeeded:
            return None
        return round_pence(Decimal(intent.amount_pence * self.fee_basis_points) / 10_000) + self.fee_fixed_pence
