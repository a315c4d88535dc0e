"""Card payments: starting one, and recording what Stripe says about it.

``record_payment_intent`` is the single place a payment's status changes, whichever way the news arrives (the
response to our own create/confirm call, a server-side re-fetch after 3-D Secure, or a webhook handler). It
locks the payment row, moves the status only along ``ALLOWED_TRANSITIONS`` (a succeeded payment is never
"un-succeeded" by a late failure event), only ever raises the refunded amount, and runs the ``payment_hooks``
for the new status once, inside the same transaction.

Stripe is always called outside a database transaction: a slow network call must not hold row locks.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.gateway import CardDeclined, PaymentGateway, PaymentIntentResult, SetupIntentResult, get_gateway
from billing.models import Payment, PaymentStatus, StripeCustomer
from billing.models.payments import SETTLED_STATUSES, can_transition
from billing.registry import payment_hooks
from billing.tasks import fetch_payment_fee
from portal.models import Council, School

from .ledger import post_card_fee

logger = logging.getLogger(__name__)

PAYMENT_ID_KEY = "portal_payment_id"
REFERENCE_KEY = "portal_reference"
COUNCIL_KEY_PREFIX = "council_"


@dataclass(frozen=True)
class CardPaymentOutcome:
    """What the checkout view needs: the payment, and for 3-D Secure the secret the browser authenticates with."""

    payment: Payment
    client_secret: str = ""

    @property
    def succeeded(self) -> bool:
        return self.payment.is_settled

    @property
    def requires_action(self) -> bool:
        return self.payment.status == PaymentStatus.REQUIRES_ACTION


def stripe_metadata(*, payment: Payment) -> dict[str, str]:
    """What Stripe is told: our ids (to match webhooks) and the pence per providing council (LA code)."""
    metadata = {PAYMENT_ID_KEY: str(payment.pk), REFERENCE_KEY: payment.reference}
    for la_code, pence in sorted(payment.council_shares.items()):
        metadata[f"{COUNCIL_KEY_PREFIX}{la_code}"] = str(pence)
    return metadata


def status_from_intent(intent: PaymentIntentResult) -> str:
    """Our status for Stripe's PaymentIntent status (refunds are folded in for succeeded intents)."""
    if intent.status == "succeeded":
        if intent.amount_refunded_pence >= intent.amount_pence:
            return PaymentStatus.REFUNDED
        if intent.amount_refunded_pence > 0:
            return PaymentStatus.PARTIALLY_REFUNDED
        return PaymentStatus.SUCCEEDED
    if intent.status == "requires_action":
        return PaymentStatus.REQUIRES_ACTION
    if intent.status in ("processing", "requires_capture"):
        return PaymentStatus.PROCESSING
    if intent.status == "canceled":
        return PaymentStatus.CANCELED
    if intent.failed:
        return PaymentStatus.FAILED
    return PaymentStatus.PENDING  # requires_payment_method (no attempt yet), requires_confirmation


def stripe_customer_for(*, school: School, gateway: PaymentGateway | None = None) -> str:
    """The school's Stripe customer id, created at Stripe (outside any transaction) the first time."""
    existing = StripeCustomer.objects.filter(school=school).values_list("stripe_customer_id", flat=True).first()
    if existing:
        return existing
    customer_id = (gateway or get_gateway()).create_customer(
        name=school.name,
        metadata={"school_urn": str(school.urn), "school_id": str(school.pk)},
        idempotency_key=f"school:{school.pk}:customer",
    )
    try:
        with transaction.atomic():
            StripeCustomer.objects.create(school=school, stripe_customer_id=customer_id)
    except IntegrityError:
        # A concurrent first payment won; its customer is the school's (ours is left unused at Stripe).
        return StripeCustomer.objects.get(school=school).stripe_customer_id
    return customer_id


def start_card_setup(*, school: School, gateway: PaymentGateway | None = None) -> SetupIntentResult:
    """A SetupIntent for the school's customer: the checkout page confirms its client secret with Stripe.js."""
    gateway = gateway or get_gateway()
    customer_id = stripe_customer_for(school=school, gateway=gateway)
    return gateway.create_setup_intent(customer_id=customer_id, metadata={"school_id": str(school.pk)})


def _validate_shares(amount_pence: int, council_shares: Mapping[str, int]) -> dict[str, int]:
    if not isinstance(amount_pence, int) or amount_pence <= 0:
        raise ValidationError("A card payment must be a positive whole number of pence.")
    shares = {str(code): pence for code, pence in council_shares.items()}
    if not shares or any(not isinstance(p, int) or p < 0 for p in shares.values()):
        raise ValidationError("Each council's share must be a whole number of pence, not negative.")
    if sum(shares.values()) != amount_pence:
        raise ValidationError(f"Council shares add up to {sum(shares.values())}p, not the {amount_pence}p charged.")
    unknown = set(shares) - set(Council.objects.filter(la_code__in=shares).values_list("la_code", flat=True))
    if unknown:
        # Each share is posted to its council's ledger when the money arrives: it must name a real council.
        raise ValidationError(f"No council has the LA code {', '.join(sorted(unknown))}.")
    return shares


def _payment_for_attempt(*, reference: str, amount_pence: int, shares: dict[str, int], idempotency_key: str) -> Payment:
    """The payment row of this attempt, created (and committed) before Stripe hears of it."""
    payment = Payment(
        reference=reference,
        amount_pence=amount_pence,
        idempotency_key=idempotency_key,
        metadata={"councils": shares},
    )
    payment.full_clean(validate_unique=False, validate_constraints=False)
    try:
        # durable: refuses to run inside a caller's transaction, since Stripe is called next and the row must be
        # committed first (to be found by a retry or an early webhook) and no lock may be held during the call.
        with transaction.atomic(durable=True):
            payment.save()
            return payment
    except IntegrityError:
        existing = Payment.objects.get(idempotency_key=idempotency_key)
        if existing.amount_pence != amount_pence or existing.council_shares != shares:
            raise ValidationError(
                "This payment attempt was already started with a different amount: start a new attempt."
            ) from None
        return existing


def start_card_payment(
    *,
    reference: str,
    amount_pence: int,
    council_shares: Mapping[str, int],
    customer_id: str,
    payment_method_id: str,
    idempotency_key: str,
    gateway: PaymentGateway | None = None,
) -> CardPaymentOutcome:
    """Charge a card once for ``amount_pence``, split by council; safe to call again with the same key.

    ``council_shares`` maps each providing council's LA code to its pence and must add up to the amount; it is
    kept on the payment and sent to Stripe as metadata. ``idempotency_key`` names this booking attempt: a
    repeated call (a double click, a retried request) finds the same payment and never charges twice.
    Returns the outcome (succeeded, requires_action with the client secret, or pending); raises ``CardDeclined``
    (with a message for the school) after recording the failure, or ``GatewayUnavailable`` if Stripe could not be
    reached (the payment stays pending and can be retried with the same key).
    """
    gateway = gateway or get_gateway()
    shares = _validate_shares(amount_pence, council_shares)
    payment = _payment_for_attempt(
        reference=reference, amount_pence=amount_pence, shares=shares, idempotency_key=idempotency_key
    )
    if payment.stripe_payment_intent_id:
        intent = gateway.retrieve_payment(payment.stripe_payment_intent_id)
    else:
        try:
            intent = gateway.create_payment(
                amount_pence=amount_pence,
                customer_id=customer_id,
                payment_method_id=payment_method_id,
                idempotency_key=idempotency_key,
                metadata=stripe_metadata(payment=payment),
            )
        except CardDeclined as declined:
            if declined.payment_intent is not None:
                record_payment_intent(intent=declined.payment_intent, payment=payment)
            raise
    payment = record_payment_intent(intent=intent, payment=payment)
    return CardPaymentOutcome(payment=payment, client_secret=intent.client_secret if intent.requires_action else "")


def refresh_payment(*, payment: Payment, gateway: PaymentGateway | None = None) -> Payment:
    """Ask Stripe how the payment stands now and record it: the server-side check after 3-D Secure."""
    if not payment.stripe_payment_intent_id:
        return payment
    intent = (gateway or get_gateway()).retrieve_payment(payment.stripe_payment_intent_id)
    return record_payment_intent(intent=intent, payment=payment)


def find_payment_for_intent(*, payment_intent_id: str, metadata: Mapping[str, str] | None = None) -> Payment | None:
    """Our payment for a PaymentIntent: by its id, or (before we stored the id) by the id in its metadata."""
    payment = Payment.objects.filter(stripe_payment_intent_id=payment_intent_id).first()
    if payment is None and metadata and str(metadata.get(PAYMENT_ID_KEY, "")).isdigit():
        payment = Payment.objects.filter(pk=int(metadata[PAYMENT_ID_KEY]), stripe_payment_intent_id=None).first()
    return payment


@transaction.atomic
def record_payment_intent(*, intent: PaymentIntentResult, payment: Payment | None = None) -> Payment | None:
    """Record Stripe's word on a PaymentIntent against our payment; returns it (None if the intent is not ours)."""
    if payment is None:
        payment = find_payment_for_intent(payment_intent_id=intent.id, metadata=intent.metadata)
        if payment is None:
            logger.info("PaymentIntent %s is not one of ours; ignored", intent.id)
            return None
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.stripe_payment_intent_id and payment.stripe_payment_intent_id != intent.id:
        logger.error("payment %s is %s, not %s: ignored", payment.pk, payment.stripe_payment_intent_id, intent.id)
        return payment
    if intent.amount_pence != payment.amount_pence or intent.currency.lower() != payment.currency:
        # Never mark as paid an intent whose amount is not what we asked for.
        logger.error(
            "PaymentIntent %s is for %s %s, payment %s expects %s",
            intent.id,
            intent.amount_pence,
            intent.currency,
            payment.pk,
            payment.amount_pence,
        )
        return payment

    previous = payment.status
    payment.stripe_payment_intent_id = intent.id
    payment.stripe_customer_id = intent.customer_id or payment.stripe_customer_id
    payment.stripe_payment_method_id = intent.payment_method_id or payment.stripe_payment_method_id
    payment.stripe_charge_id = intent.latest_charge_id or payment.stripe_charge_id
    # Refunds only ever add up: an older snapshot of the intent cannot shrink them.
    payment.amount_refunded_pence = max(
        payment.amount_refunded_pence, min(intent.amount_refunded_pence, payment.amount_pence)
    )
    new = status_from_intent(intent)
    if previous in SETTLED_STATUSES and new in SETTLED_STATUSES:
        # Settled states are ordered by the refunded amount we hold, whatever this snapshot says.
        new = (
            PaymentStatus.REFUNDED
            if payment.amount_refunded_pence >= payment.amount_pence
            else PaymentStatus.PARTIALLY_REFUNDED
            if payment.amount_refunded_pence
            else PaymentStatus.SUCCEEDED
        )
    if not can_transition(previous, new):
        logger.info("payment %s: %s -> %s is not allowed; kept %s", payment.pk, previous, new, previous)
        new = previous
    payment.status = new
    if new == PaymentStatus.FAILED:
        payment.failure_code = intent.failure_code[:100]
        payment.failure_message = intent.failure_message[:500]
    if new in SETTLED_STATUSES and payment.succeeded_at is None:
        payment.succeeded_at = timezone.now()
    payment.save()
    if new != previous:
        if previous not in SETTLED_STATUSES and new in SETTLED_STATUSES:
            # The money arrived: hooks for "succeeded" run even if the first news already included a refund.
            _run_hooks(PaymentStatus.SUCCEEDED, payment)
            if new != PaymentStatus.SUCCEEDED:
                _run_hooks(new, payment)
        else:
            _run_hooks(new, payment)
        if new in SETTLED_STATUSES and payment.fee_pence is None:
            transaction.on_commit(lambda: fetch_payment_fee.delay(payment.pk))
    return payment


def _run_hooks(status: str, payment: Payment) -> None:
    for hook in payment_hooks.handlers_for(status):
        hook(payment)


def record_payment_fee(*, payment: Payment, gateway: PaymentGateway | None = None) -> Payment:
    """Store Stripe's fee for a settled payment (from its balance transaction), once."""
    if payment.fee_pence is not None or not payment.is_settled or not payment.stripe_payment_intent_id:
        return payment
    fee = (gateway or get_gateway()).payment_fee(payment.stripe_payment_intent_id)
    if fee is None:
        return payment
    with transaction.atomic():
        # The conditional update elects one writer: only the run that stored the fee posts it to the ledger.
        stored = Payment.objects.filter(pk=payment.pk, fee_pence__isnull=True).update(
            fee_pence=fee, updated_at=timezone.now()
        )
        payment.refresh_from_db()
        if stored:
            post_card_fee(payment=payment)
    return payment
