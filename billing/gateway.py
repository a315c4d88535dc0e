"""The payment gateway: what billing asks of a card processor, and Stripe's implementation of it.

Billing code talks to ``PaymentGateway`` and gets plain dataclasses back, never Stripe objects (which are not
dicts and change shape between API versions); Stripe's exceptions are translated into ``PaymentError``
subclasses that carry a message fit to show a school. ``get_gateway()`` gives the configured gateway
(``StripeGateway`` against ``STRIPE_API_BASE``: the local fake Stripe server in development and tests, Stripe
itself in production); ``override_gateway()`` swaps in another (``billing.fake_gateway.InMemoryGateway``) for a
test or a demo.

Flow (DESIGN.md): a SetupIntent is confirmed in the browser with Stripe.js; the server then creates and
confirms one PaymentIntent for the card part of the basket. Create and confirm are two calls, so that a declined
card still leaves us the PaymentIntent's id to record and re-fetch (the local fake does not return it in the
decline error). A payment is believed only from a re-fetch or a verified webhook.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import stripe
from django.conf import settings

CURRENCY = "gbp"


# --- errors -------------------------------------------------------------------------------------------------
class PaymentError(Exception):
    """A payment operation failed. ``user_message`` is safe and useful to show the person paying."""

    default_user_message = "The payment could not be taken. You have not been charged. Please try again later."
    retryable = False

    def __init__(
        self,
        message: str = "",
        *,
        user_message: str | None = None,
        code: str = "",
        payment_intent: PaymentIntentResult | None = None,
    ):
        super().__init__(message or user_message or self.default_user_message)
        self.user_message = user_message or self.default_user_message
        self.code = code
        self.payment_intent = payment_intent


class CardDeclined(PaymentError):
    """The card issuer (or 3-D Secure) said no. The school can try another card or pay by invoice."""

    default_user_message = "Your card was declined. Try another card, or choose to pay by invoice."


class RefundTooLarge(PaymentError):
    """Asked to refund more than remains of the payment: refused before Stripe is asked."""

    default_user_message = "The refund is more than what remains of the payment."


class NotRefundable(PaymentError):
    default_user_message = "This payment has not been taken, so it cannot be refunded."


class GatewayUnavailable(PaymentError):
    """Stripe could not be reached or is overloaded: worth retrying later (with the same idempotency key)."""

    default_user_message = (
        "We could not reach the card payment service. You have not been charged. Please try again in a few minutes."
    )
    retryable = True


class GatewayMisconfigured(PaymentError):
    """Our keys or account are wrong: no retry will help; an administrator must act."""


class PaymentRequestRejected(PaymentError):
    """Stripe rejected the request itself (a bug on our side, or an idempotency key reused with other values)."""


CARD_ERROR_MESSAGES = {
    "expired_card": "Your card has expired. Use another card, or choose to pay by invoice.",
    "incorrect_cvc": "The card's security code is wrong. Check it and try again.",
    "incorrect_number": "The card number is wrong. Check it and try again.",
    "processing_error": "Your card could not be processed. Try again in a few minutes, or use another card.",
    "authentication_required": "Your bank did not confirm this payment. Try again, or use another card.",
    "payment_intent_authentication_failure": "Your bank did not confirm this payment. Try again, or use another card.",
}


def translate_stripe_error(error: stripe.StripeError) -> PaymentError:
    """Map a Stripe exception to ours, keeping Stripe's text for the logs and a plain message for people."""
    code = getattr(error, "code", None) or ""
    text = f"{type(error).__name__}: {error}"
    if isinstance(error, stripe.CardError):
        return CardDeclined(text, user_message=CARD_ERROR_MESSAGES.get(code), code=code or "card_declined")
    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError | stripe.APIError):
        return GatewayUnavailable(text, code=code)
    if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
        return GatewayMisconfigured(text, code=code)
    if isinstance(error, stripe.InvalidRequestError | stripe.IdempotencyError):
        return PaymentRequestRejected(text, code=code)
    return PaymentError(text, code=code)


# --- results ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SetupIntentResult:
    id: str
    client_secret: str
    status: str
    customer_id: str = ""
    payment_method_id: str = ""


@dataclass(frozen=True)
class PaymentIntentResult:
    """A PaymentIntent as Stripe reported it just now."""

    id: str
    status: str  # Stripe's: requires_payment_method, requires_confirmation, requires_action, processing, ...
    amount_pence: int
    currency: str
    client_secret: str = ""
    customer_id: str = ""
    payment_method_id: str = ""
    latest_charge_id: str = ""
    amount_received_pence: int = 0
    amount_refunded_pence: int = 0
    failure_code: str = ""
    failure_message: str = ""
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def requires_action(self) -> bool:
        """3-D Secure: the browser must authenticate with ``client_secret`` before the payment can finish."""
        return self.status == "requires_action"

    @property
    def failed(self) -> bool:
        """The last attempt was declined (Stripe puts the PaymentIntent back to requires_payment_method)."""
        return self.status == "requires_payment_method" and bool(self.failure_code or self.failure_message)

    @property
    def refundable_pence(self) -> int:
        return max(self.amount_received_pence - self.amount_refunded_pence, 0) if self.succeeded else 0


@dataclass(frozen=True)
class RefundResult:
    id: str
    amount_pence: int
    status: str
    payment_intent_id: str = ""
    charge_id: str = ""


# --- the interface ------------------------------------------------------------------------------------------
@runtime_checkable
class PaymentGateway(Protocol):
    def create_customer(
        self, *, name: str, email: str = "", metadata: Mapping[str, str] | None = None, idempotency_key: str = ""
    ) -> str:
        """Create a customer (one per school) and return its id."""

    def create_setup_intent(self, *, customer_id: str, metadata: Mapping[str, str] | None = None) -> SetupIntentResult:
        """A SetupIntent whose client secret the browser confirms with the card fields."""

    def create_payment(
        self,
        *,
        amount_pence: int,
        customer_id: str,
        payment_method_id: str,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
    ) -> PaymentIntentResult:
        """Create and confirm a PaymentIntent in pounds sterling. Raises CardDeclined (with the intent) on decline."""

    def retrieve_payment(self, payment_intent_id: str) -> PaymentIntentResult:
        """Fetch the PaymentIntent as it is now (status, amounts received and refunded)."""

    def refund(
        self,
        *,
        payment_intent_id: str,
        amount_pence: int,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
    ) -> RefundResult:
        """Refund part or all of a succeeded payment; refuses more than remains refundable, before asking Stripe."""

    def payment_fee(self, payment_intent_id: str) -> int | None:
        """Stripe's fee for the payment in pence, from its balance transaction (None until there is one)."""


# --- Stripe -------------------------------------------------------------------------------------------------
def _plain(obj: Any) -> Any:
    """A Stripe object (or anything inside one) as plain dicts and lists."""
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return obj


def _id_of(value: Any) -> str:
    """An expandable field is an id string, an expanded object (dict), or nothing."""
    if not value:
        return ""
    if isinstance(value, str):
        return value
    return value.get("id", "") if isinstance(value, dict) else ""


def _metadata(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    # Stripe metadata values are strings (at most 500 characters each).
    return {str(key): str(value)[:500] for key, value in (metadata or {}).items()}


def payment_intent_from_stripe(data: Mapping[str, Any]) -> PaymentIntentResult:
    """Our view of a PaymentIntent from Stripe's JSON (an API response or a webhook's data.object)."""
    data = _plain(data)
    charge = data.get("latest_charge")
    charge = charge if isinstance(charge, dict) else {}
    error = data.get("last_payment_error") or {}
    return PaymentIntentResult(
        id=data["id"],
        status=data.get("status") or "",
        amount_pence=int(data.get("amount") or 0),
        currency=(data.get("currency") or CURRENCY).lower(),
        client_secret=data.get("client_secret") or "",
        customer_id=_id_of(data.get("customer")),
        payment_method_id=_id_of(data.get("payment_method")),
        latest_charge_id=_id_of(data.get("latest_charge")),
        # The local fake leaves amount_received out; a succeeded charge received the whole amount.
        amount_received_pence=int(
            data.get("amount_received")
            if data.get("amount_received") is not None
            else (data.get("amount") or 0)
            if data.get("status") == "succeeded"
            else 0
        ),
        amount_refunded_pence=int(charge.get("amount_refunded") or 0),
        failure_code=error.get("decline_code") or error.get("code") or "",
        failure_message=error.get("message") or "",
        metadata=dict(data.get("metadata") or {}),
    )


class StripeGateway:
    """``PaymentGateway`` on stripe-python 16's ``StripeClient`` (``client.v1...``)."""

    def __init__(self, *, api_key: str, api_base: str | None = None, max_network_retries: int = 2, timeout: int = 30):
        base_addresses = {"api": api_base} if api_base else None
        self.client = stripe.StripeClient(
            api_key,
            base_addresses=base_addresses,
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout),
        )

    @classmethod
    def from_settings(cls) -> StripeGateway:
        return cls(api_key=settings.STRIPE_SECRET_KEY, api_base=settings.STRIPE_API_BASE)

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except stripe.StripeError as error:
            raise translate_stripe_error(error) from error

    def create_customer(
        self, *, name: str, email: str = "", metadata: Mapping[str, str] | None = None, idempotency_key: str = ""
    ) -> str:
        params: dict[str, Any] = {"name": name, "metadata": _metadata(metadata)}
        if email:
            params["email"] = email
        options = {"idempotency_key": idempotency_key} if idempotency_key else {}
        with self._translated():
            return self.client.v1.customers.create(params=params, options=options).id

    def create_setup_intent(self, *, customer_id: str, metadata: Mapping[str, str] | None = None) -> SetupIntentResult:
        params = {"customer": customer_id, "payment_method_types": ["card"], "usage": "on_session"}
        if metadata:
            params["metadata"] = _metadata(metadata)
        with self._translated():
            intent = _plain(self.client.v1.setup_intents.create(params=params))
        return SetupIntentResult(
            id=intent["id"],
            client_secret=intent.get("client_secret") or "",
            status=intent.get("status") or "",
            customer_id=_id_of(intent.get("customer")),
            payment_method_id=_id_of(intent.get("payment_method")),
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
        params = {
            "amount": amount_pence,
            "currency": CURRENCY,  # always: the local fake would otherwise assume euros
            "customer": customer_id,
            "payment_method": payment_method_id,
            "payment_method_types": ["card"],
            "metadata": _metadata(metadata),
        }
        with self._translated():
            created = self.client.v1.payment_intents.create(
                params=params, options={"idempotency_key": f"{idempotency_key}:create"}
            )
        try:
            confirmed = self.client.v1.payment_intents.confirm(
                created.id, options={"idempotency_key": f"{idempotency_key}:confirm"}
            )
        except stripe.CardError as error:
            declined = translate_stripe_error(error)
            # Re-fetch so the caller can record the failed intent (and retry on it or on a new one).
            declined.payment_intent = self.retrieve_payment(created.id)
            raise declined from error
        except stripe.StripeError as error:
            raise translate_stripe_error(error) from error
        return payment_intent_from_stripe(confirmed)

    def retrieve_payment(self, payment_intent_id: str) -> PaymentIntentResult:
        with self._translated():
            intent = self.client.v1.payment_intents.retrieve(payment_intent_id, params={"expand": ["latest_charge"]})
        return payment_intent_from_stripe(intent)

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
        current = self.retrieve_payment(payment_intent_id)
        if not current.succeeded:
            raise NotRefundable(f"{payment_intent_id} is {current.status}", payment_intent=current)
        # Stripe refuses over-refunds itself, but the local fake accepts them: check here, first, for both.
        if amount_pence > current.refundable_pence:
            raise RefundTooLarge(
                f"refund of {amount_pence}p asked on {payment_intent_id}, only {current.refundable_pence}p remains",
                user_message=f"Only £{current.refundable_pence / 100:,.2f} of this payment can still be refunded.",
                payment_intent=current,
            )
        params = {"payment_intent": payment_intent_id, "amount": amount_pence, "metadata": _metadata(metadata)}
        with self._translated():
            refund = _plain(self.client.v1.refunds.create(params=params, options={"idempotency_key": idempotency_key}))
        return RefundResult(
            id=refund["id"],
            amount_pence=int(refund["amount"]),
            status=refund.get("status") or "",
            payment_intent_id=_id_of(refund.get("payment_intent")) or payment_intent_id,
            charge_id=_id_of(refund.get("charge")),
        )

    def payment_fee(self, payment_intent_id: str) -> int | None:
        with self._translated():
            intent = _plain(
                self.client.v1.payment_intents.retrieve(
                    payment_intent_id, params={"expand": ["latest_charge.balance_transaction"]}
                )
            )
        charge = intent.get("latest_charge")
        transaction = charge.get("balance_transaction") if isinstance(charge, dict) else None
        if not isinstance(transaction, dict):
            return None
        return int(transaction.get("fee") or 0)


# --- which gateway ------------------------------------------------------------------------------------------
_override: PaymentGateway | None = None


def get_gateway() -> PaymentGateway:
    """The gateway to use now: an override if a test or demo set one, else Stripe as configured in settings."""
    if _override is not None:
        return _override
    return StripeGateway.from_settings()


@contextlib.contextmanager
def override_gateway(gateway: PaymentGateway) -> Iterator[PaymentGateway]:
    """Use ``gateway`` for everything billing does inside the block (tests, demos)."""
    global _override
    previous, _override = _override, gateway
    try:
        yield gateway
    finally:
        _override = previous
