"""Paying an invoice by card from its page: the page, and the three JSON steps its script takes.

1. ``setup``: a SetupIntent's client secret, which the browser confirms with Stripe.js and the card fields;
2. ``charge``: the server creates and confirms the PaymentIntent for what is owed, with the card the SetupIntent
   saved; the answer is ``succeeded``, ``requires_action`` (with the secret for 3-D Secure) or an error message;
3. ``complete``: after 3-D Secure, the server re-fetches the PaymentIntent from Stripe and records what it says.

The invoice becomes paid only through the payment hook (the webhook or the server's re-fetch), never because the
browser says so. Only the school's approvers pay.
"""

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.views.decorators.http import require_POST

from billing.gateway import PaymentError
from billing.selectors import documents as selectors
from billing.services.invoice_payments import (
    complete_invoice_card_payment,
    pay_invoice_by_card,
    start_invoice_card_setup,
)
from portal import access

from .documents import visible_document_or_404
from .json_api import json_body, json_error

logger = logging.getLogger(__name__)


def _payable_document(request, pk: int):
    document = visible_document_or_404(request, pk)
    if not selectors.can_pay_by_card(request.user, document):
        raise PermissionDenied("Only the school's approvers can pay an open invoice by card.")
    return document


@login_required
def pay_invoice(request, pk: int):
    document = visible_document_or_404(request, pk)
    if document.school is None or not access.is_school_approver(request.user, document.school):
        raise PermissionDenied("Only the school's approvers can pay an open invoice by card.")
    if not selectors.is_payable_by_card(document):
        return render(request, "billing/pay_invoice.html", {"document": document, "nothing_to_pay": True})
    context = {
        "document": document,
        "attempt": get_random_string(24),
        "stripe_js_url": settings.STRIPE_JS_URL,
        "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
    }
    return render(request, "billing/pay_invoice.html", context)


@login_required
@require_POST
def pay_setup(request, pk: int):
    document = _payable_document(request, pk)
    try:
        setup = start_invoice_card_setup(document=document)
    except ValidationError as error:
        return json_error(" ".join(error.messages))
    except PaymentError as error:
        return json_error(error.user_message, status=502)
    return JsonResponse({"status": "ok", "client_secret": setup.client_secret})


@login_required
@require_POST
def pay_charge(request, pk: int):
    document = _payable_document(request, pk)
    data = json_body(request)
    try:
        outcome = pay_invoice_by_card(
            document=document,
            payment_method_id=str(data.get("payment_method") or ""),
            attempt=str(data.get("attempt") or ""),
        )
    except ValidationError as error:
        return json_error(" ".join(error.messages))
    except PaymentError as error:
        logger.info("invoice %s card payment refused: %s", document.pk, error)
        return json_error(error.user_message, status=402)
    done = reverse("billing:document", args=[document.pk])
    if outcome.requires_action:
        return JsonResponse(
            {"status": "requires_action", "client_secret": outcome.client_secret, "payment": outcome.payment.pk}
        )
    if outcome.succeeded:
        return JsonResponse({"status": "succeeded", "redirect": f"{done}?paid=1"})
    return JsonResponse({"status": "processing", "redirect": f"{done}?paid=processing"})


@login_required
@require_POST
def pay_complete(request, pk: int):
    document = visible_document_or_404(request, pk)
    # Not can_pay_by_card: the webhook may have settled the invoice already, and the approver still needs the answer.
    if document.school is None or not access.is_school_approver(request.user, document.school):
        raise PermissionDenied("Only the school's approvers can pay an open invoice by card.")
    data = json_body(request)
    payment_id = data.get("payment")
    if not str(payment_id or "").isdigit():
        return json_error("The payment could not be found. Reload the page to see whether the invoice is paid.")
    try:
        payment = complete_invoice_card_payment(document=document, payment_id=int(payment_id))
    except ValidationError as error:
        return json_error(" ".join(error.messages))
    except PaymentError as error:
        return json_error(error.user_message, status=502)
    done = reverse("billing:document", args=[document.pk])
    if payment.is_settled:
        return JsonResponse({"status": "succeeded", "redirect": f"{done}?paid=1"})
    if payment.status == "failed":
        return json_error("Your bank did not confirm this payment. Try again, or use another card.", status=402)
    return JsonResponse({"status": "processing", "redirect": f"{done}?paid=processing"})
