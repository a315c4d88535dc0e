"""Posting real, signed Stripe payload files to the webhook, as Stripe would."""

import hashlib
import hmac
import json
import time
from pathlib import Path

PAYLOADS = Path(__file__).parent / "payloads"
WEBHOOK_URL = "/stripe/webhook/"
TEST_SECRET = "whsec_billing_tests_only"


def payload(name: str) -> bytes:
    """The bytes of tests/billing/payloads/<name>.json, exactly as stored."""
    return (PAYLOADS / f"{name}.json").read_bytes()


def sign(body: bytes, *, secret: str = TEST_SECRET, timestamp: int | None = None) -> str:
    """A Stripe-Signature header: t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<body>") in hex."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def post_event(client, body: bytes, *, signature: str | None = None, **headers):
    """POST a body to the webhook, signed with the test secret unless a signature is given ('' for none)."""
    if signature is None:
        signature = sign(body)
    if signature:
        headers["HTTP_STRIPE_SIGNATURE"] = signature
    return client.post(WEBHOOK_URL, data=body, content_type="application/json", **headers)


def event_with(name: str, **changes) -> bytes:
    """A payload file with top-level fields changed (e.g. another event id), re-serialised."""
    event = json.loads(payload(name))
    event.update(changes)
    return json.dumps(event).encode()
