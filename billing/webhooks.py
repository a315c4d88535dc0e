"""The Stripe webhook endpoint: verify, store once, answer quickly.

400 for a missing or wrong signature (or a stale timestamp) and for a body that is not a Stripe event; 200 for
everything else, including duplicates and types nobody handles, so Stripe stops re-sending them. The work is
done later by the event's handlers (``billing.services.stripe_events``).
"""

import json
import logging

import stripe
from django.conf import settings
from django.http import HttpRequest, HttpResponseBadRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing.services.stripe_events import MalformedEvent, receive_stripe_event

logger = logging.getLogger(__name__)

# Stripe's recommended window: a captured request replayed later than this is refused.
SIGNATURE_TOLERANCE_SECONDS = 300


@csrf_exempt  # Stripe cannot send our CSRF token; the signature is what authenticates the request.
@require_POST
def stripe_webhook(request: HttpRequest):
    signature = request.headers.get("Stripe-Signature", "")
    if not signature:
        return HttpResponseBadRequest("Missing Stripe-Signature header.")
    try:
        payload = request.body.decode("utf-8")
        stripe.WebhookSignature.verify_header(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=SIGNATURE_TOLERANCE_SECONDS
        )
    except (UnicodeDecodeError, stripe.SignatureVerificationError) as error:
        logger.warning("Stripe webhook refused: %s", error)
        return HttpResponseBadRequest("Invalid signature.")
    try:
        event = json.loads(payload)
        if not isinstance(event, dict):
            raise MalformedEvent("not an object")
        stored, created = receive_stripe_event(event=event)
    except (ValueError, MalformedEvent) as error:  # json.JSONDecodeError is a ValueError
        logger.warning("Stripe webhook body refused: %s", error)
        return HttpResponseBadRequest("Not a Stripe event.")
    return JsonResponse({"received": stored.event_id, "duplicate": not created})
