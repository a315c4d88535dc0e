"""Billing's own handlers of Stripe events (registered when the app is ready).

Each re-fetches the PaymentIntent from Stripe and records that, never the payload's copy: the payload only
tells us which intent to look at. Events for intents that are not ours are ignored without calling Stripe.
"""

from billing.gateway import get_gateway
from billing.models import StripeEvent
from billing.registry import stripe_event_handlers
from billing.services.payments import find_payment_for_intent, record_payment_intent

PAYMENT_INTENT_EVENTS = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.processing",
    "payment_intent.requires_action",
    "payment_intent.canceled",
)


def _sync_intent(payment_intent_id: str, metadata: dict | None) -> None:
    if not payment_intent_id:
        return
    if find_payment_for_intent(payment_intent_id=payment_intent_id, metadata=metadata) is None:
        return
    record_payment_intent(intent=get_gateway().retrieve_payment(payment_intent_id))


@stripe_event_handlers.register(*PAYMENT_INTENT_EVENTS)
def sync_payment_intent(event: StripeEvent) -> None:
    intent = event.data_object
    _sync_intent(intent.get("id", ""), intent.get("metadata"))


@stripe_event_handlers.register("charge.refunded", "charge.refund.updated")
def sync_refunded_charge(event: StripeEvent) -> None:
    charge = event.data_object
    payment_intent = charge.get("payment_intent")
    if isinstance(payment_intent, dict):  # expanded
        payment_intent = payment_intent.get("id")
    _sync_intent(payment_intent or "", charge.get("metadata"))
