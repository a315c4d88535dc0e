"""Receiving Stripe events: store each once, then run its handlers in a Celery task.

Why a task, not inline in the webhook request: every handler re-fetches the object from Stripe (a network
call) before believing it, and that must hold neither the request (Stripe wants a quick 2xx) nor a database
transaction. The stored event row is the outbox: the task is enqueued on commit of the insert, retried with
backoff while Stripe is unreachable, and ``billing.requeue_stripe_events`` re-enqueues any event left
unprocessed (a lost task, a worker that died), so no event is dropped. Handlers are idempotent (see
``billing.registry``), so running an event twice is harmless.
"""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from billing.models import StripeEvent
from billing.registry import stripe_event_handlers
from billing.tasks import process_stripe_event as process_stripe_event_task

logger = logging.getLogger(__name__)


class MalformedEvent(ValueError):
    """The body is signed but is not a Stripe event (no id or type)."""


def receive_stripe_event(*, event: dict) -> tuple[StripeEvent, bool]:
    """Store a verified event; returns (event, created). A duplicate delivery returns the stored one, unchanged."""
    event_id, event_type = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str) or not event_type:
        raise MalformedEvent("a Stripe event needs a string id and type")
    try:
        # The unique event_id decides between concurrent deliveries of the same event: one insert wins.
        with transaction.atomic():
            stored = StripeEvent.objects.create(
                event_id=event_id, type=event_type, payload=event, livemode=bool(event.get("livemode"))
            )
    except IntegrityError:
        return StripeEvent.objects.get(event_id=event_id), False
    if stripe_event_handlers.handlers_for(event_type):
        transaction.on_commit(lambda: process_stripe_event_task.delay(stored.pk))
    else:
        # Nothing listens to this type: it is stored for the record and done.
        StripeEvent.objects.filter(pk=stored.pk).update(processed_at=timezone.now())
    return stored, True


def process_stripe_event(*, event_pk: int) -> StripeEvent:
    """Run every handler registered for the event's type, then mark it processed. Safe to run again."""
    event = StripeEvent.objects.get(pk=event_pk)
    if event.processed_at is not None:
        return event
    StripeEvent.objects.filter(pk=event_pk).update(attempts=F("attempts") + 1)
    try:
        for handler in stripe_event_handlers.handlers_for(event.type):
            handler(event)
    except Exception as error:
        StripeEvent.objects.filter(pk=event_pk).update(last_error=f"{type(error).__name__}: {error}"[:2000])
        raise
    StripeEvent.objects.filter(pk=event_pk, processed_at__isnull=True).update(
        processed_at=timezone.now(), last_error=""
    )
    event.refresh_from_db()
    return event


def unprocessed_event_ids(*, older_than: timedelta = timedelta(minutes=5), max_attempts: int = 20) -> list[int]:
    """Events whose task seems lost: stored a while ago, not processed, not given up on."""
    cutoff = timezone.now() - older_than
    return list(
        StripeEvent.objects.filter(processed_at__isnull=True, received_at__lt=cutoff, attempts__lt=max_attempts)
        .order_by("received_at")
        .values_list("pk", flat=True)[:500]
    )
