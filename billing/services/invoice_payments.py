"""Paying an open invoice by card from its page: the same Stripe flow as checkout, for one council's invoice.

The browser confirms a SetupIntent with Stripe.js (``start_invoice_card_setup``); the server then creates and
confirms one PaymentIntent for what is owed (``pay_invoice_by_card``), named ``invoice:<id>`` so the payment hook
(``billing.payment_receivers``) settles the invoice and the ledger when the money arrives. After 3-D Secure the
browser asks ``complete_invoice_card_payment``, which re-fetches the intent from Stripe: the browser's own word
that it paid is never taken.
"""

import re

from django.core.exceptions import ValidationError

from billing.gateway import PaymentGateway, SetupIntentResult
from billing.models import BillingDocument, Payment
from billing.selectors.documents import is_payable_by_card
from billing.services.ledger import INVOICE_REFERENCE_PREFIX

from .payments import CardPaymentOutcome, refresh_payment, start_card_payment, start_card_setup, stripe_customer_for

ATTEMPT = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def _payable(document: BillingDocument) -> BillingDocument:
    document.refresh_from_db()
    if not is_payable_by_card(document):
        raise ValidationError(f"{document.number} has nothing left to pay.")
    if document.school is None:
        raise ValidationError(f"{document.number} is not addressed to a school.")
    return document


def start_invoice_card_setup(*, document: BillingDocument, gateway: PaymentGateway | None = None) -> SetupIntentResult:
    document = _payable(document)
    return start_card_setup(school=document.school, gateway=gateway)


def pay_invoice_by_card(
    *, document: BillingDocument, payment_method_id: str, attempt: str, gateway: PaymentGateway | None = None
) -> CardPaymentOutcome:
    """Charge what is owed on the invoice. ``attempt`` names this page's try: a double submit charges once."""
    if not ATTEMPT.match(attempt or ""):
        raise ValidationError("The payment form has expired. Reload the page and try again.")
    if not payment_method_id:
        raise ValidationError("Enter your card details.")
    document = _payable(document)
    amount = document.outstanding_pence
    return start_card_payment(
        reference=f"{INVOICE_REFERENCE_PREFIX}{document.pk}",
        amount_pence=amount,
        council_shares={document.council.la_code: amount},
        customer_id=stripe_customer_for(school=document.school, gateway=gateway),
        payment_method_id=payment_method_id,
        idempotency_key=f"{INVOICE_REFERENCE_PREFIX}{document.pk}:{attempt}",
        gateway=gateway,
    )


def complete_invoice_card_payment(
    *, document: BillingDocument, payment_id: int, gateway: PaymentGateway | None = None
) -> Payment:
    """After the browser's 3-D Secure step: ask Stripe how the invoice's payment stands, and record it."""
    payment = Payment.objects.filter(pk=payment_id, reference=f"{INVOICE_REFERENCE_PREFIX}{document.pk}").first()
    if payment is None:
        raise ValidationError("That payment is not one of this invoice's.")
    return refresh_payment(payment=payment, gateway=gateway)
