"""Billing's Celery tasks: thin, by id, idempotent, retried with backoff while Stripe or the database is unreachable."""

from celery import shared_task
from django.db import OperationalError

from billing.gateway import GatewayUnavailable

RETRY = {
    "autoretry_for": (GatewayUnavailable, OperationalError),
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "max_retries": 10,
}


@shared_task(name="billing.process_stripe_event", **RETRY)
def process_stripe_event(event_pk: int) -> None:
    from billing.services.stripe_events import process_stripe_event as process

    process(event_pk=event_pk)


@shared_task(name="billing.requeue_stripe_events")
def requeue_stripe_events() -> int:
    """Periodic: re-enqueue events whose processing task was lost. Returns how many were re-enqueued."""
    from billing.services.stripe_events import unprocessed_event_ids

    ids = unprocessed_event_ids()
    for event_pk in ids:
        process_stripe_event.delay(event_pk)
    return len(ids)


@shared_task(name="billing.submit_refund", **RETRY)
def submit_refund(refund_id: int) -> None:
    from billing.services.refunds import submit_refund as submit

    submit(refund_id=refund_id)


@shared_task(name="billing.resubmit_stuck_refunds")
def resubmit_stuck_refunds() -> int:
    """Periodic: send again refunds left "requested" (their task was lost). Returns how many were sent again."""
    from billing.services.refunds import resubmit_stuck_refunds as resubmit

    return len(resubmit())


@shared_task(name="billing.fetch_payment_fee", **RETRY)
def fetch_payment_fee(payment_id: int) -> None:
    from billing.models import Payment
    from billing.services.payments import record_payment_fee

    record_payment_fee(payment=Payment.objects.get(pk=payment_id))


@shared_task(name="billing.remind_overdue_invoices")
def remind_overdue_invoices() -> int:
    """Daily: one reminder per overdue invoice per stage. Returns how many reminders were created."""
    from billing.services.reminders import remind_overdue_invoices as remind

    return len(remind())


@shared_task(name="billing.send_overdue_reminder", autoretry_for=(OSError,), retry_backoff=30, max_retries=8)
def send_overdue_reminder(reminder_id: int) -> int:
    from billing.services.reminders import send_reminder_emails

    return send_reminder_emails(reminder_id=reminder_id)
