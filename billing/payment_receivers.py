"""Billing's own payment hooks (registered when the app is ready; see ``billing.registry``).

When a card payment's money arrives, its councils' shares are posted to the ledger, and a payment taken from an
invoice's page settles that invoice. Both run inside the transaction that records the payment's success (with the
payment row locked), so the invoice, the ledger and the payment change together or not at all, however the news
arrived (the webhook, or the server's own re-fetch after 3-D Secure).

Lock order in the invoice hook: the payment row (taken by ``record_payment_intent``), then the invoice row, before
anything owed is read. A bank receipt or a credit note recorded while the card holder was on 3-D Secure is then
seen, so the card never pays more than is owed; whatever it brought beyond that is refunded to the card (or, if
the refund cannot be asked for, left as a finance task), never kept silently.
"""

import logging

from django.utils import timezone

from billing.models import BillingDocument, DocumentType, Payment, PaymentMethod
from billing.registry import payment_hooks
from billing.services.documents import record_document_payment
from billing.services.ledger import invoice_for_payment, post_card_payment
from billing.services.refunds import refund_card_overpayment

logger = logging.getLogger(__name__)


@payment_hooks.register("succeeded")
def post_card_income(payment: Payment) -> None:
    post_card_payment(payment=payment)


@payment_hooks.register("succeeded")
def settle_invoice_paid_by_card(payment: Payment) -> None:
    invoice = invoice_for_payment(payment)
    if invoice is None:
        return
    # Locked before reading what is owed (see the module docstring): the same lock record_document_payment takes.
    invoice = BillingDocument.objects.select_for_update().get(pk=invoice.pk)
    if invoice.payments.filter(card_payment=payment).exists():
        return
    # The invoice may have been paid another way, credited or cancelled while the card was being charged: apply
    # what is still owed; the rest goes back to the card.
    owed = invoice.outstanding_pence if invoice.document_type == DocumentType.INVOICE else 0
    applied = min(payment.amount_pence, owed)
    if applied > 0:
        record_document_payment(
            document=invoice,
            amount_pence=applied,
            paid_on=timezone.localdate(payment.succeeded_at),
            method=PaymentMethod.CARD,
            reference=payment.stripe_payment_intent_id or f"payment:{payment.pk}",
            card_payment=payment,
        )
    if applied < payment.amount_pence:
        logger.warning(
            "card payment %s of %sp for %s: only %sp was still owed; refunding the rest",
            payment.pk,
            payment.amount_pence,
            invoice,
            applied,
        )
        refund_card_overpayment(payment=payment, document=invoice, excess_pence=payment.amount_pence - applied)
