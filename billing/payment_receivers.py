"""Billing's own payment hooks (registered when the app is ready; see ``billing.registry``).

When a card payment's money arrives, its councils' shares are posted to the ledger, and a payment taken from an
invoice's page settles that invoice. Both run inside the transaction that records the payment's success (with the
payment row locked), so the invoice, the ledger and the payment change together or not at all, however the news
arrived (the webhook, or the server's own re-fetch after 3-D Secure).
"""

import logging

from django.utils import timezone

from billing.models import DocumentType, Payment, PaymentMethod
from billing.registry import payment_hooks
from billing.services.documents import record_document_payment
from billing.services.ledger import invoice_for_payment, post_card_payment

logger = logging.getLogger(__name__)


@payment_hooks.register("succeeded")
def post_card_income(payment: Payment) -> None:
    post_card_payment(payment=payment)


@payment_hooks.register("succeeded")
def settle_invoice_paid_by_card(payment: Payment) -> None:
    invoice = invoice_for_payment(payment)
    if invoice is None or invoice.document_type != DocumentType.INVOICE:
        return
    if invoice.payments.filter(card_payment=payment).exists():
        return
    # The invoice may have been paid another way (or credited) while the card was being charged: apply what is
    # still owed and leave the rest visible as unapplied card money for finance to refund.
    invoice.refresh_from_db()
    amount = min(payment.amount_pence, invoice.outstanding_pence)
    if amount < payment.amount_pence:
        logger.warning(
            "card payment %s of %sp for %s: only %sp was still owed", payment.pk, payment.amount_pence, invoice, amount
        )
    if amount <= 0:
        return
    record_document_payment(
        document=invoice,
        amount_pence=amount,
        paid_on=timezone.localdate(payment.succeeded_at),
        method=PaymentMethod.CARD,
        reference=payment.stripe_payment_intent_id or f"payment:{payment.pk}",
        card_payment=payment,
    )
