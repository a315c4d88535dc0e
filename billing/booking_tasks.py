"""Celery tasks that bill bookings: thin, by id, idempotent (``bill_booking`` reconciles), retried with backoff.

Named ``billing.*``, so they run on the billing queue (settings' ``CELERY_TASK_ROUTES``). Imported by
``billing.booking_receivers`` when the app is ready, so web processes and workers both know them.
"""

import datetime
import logging

from celery import shared_task
from django.db import OperationalError

from billing.gateway import GatewayUnavailable

logger = logging.getLogger(__name__)

# OperationalError: a lock timeout or a deadlock victim (PostgreSQL) is worth another go a little later.
RETRY = {
    "autoretry_for": (GatewayUnavailable, OperationalError),
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "max_retries": 10,
}
SWEEP_LOOKBACK = datetime.timedelta(days=2)


@shared_task(name="billing.bill_booking", **RETRY)
def bill_booking(booking_id: int) -> list[int]:
    """Issue what the booking is owed (documents, credits, refunds); the new documents' PDFs are rendered next."""
    from billing.services.bookings import bill_booking as bill

    result = bill(booking_id=booking_id)
    for document_id in result.issued_ids:
        render_document_pdf.delay(document_id)
    return result.issued_ids


@shared_task(name="billing.render_document_pdf", autoretry_for=(OSError,), retry_backoff=10, max_retries=5)
def render_document_pdf(document_id: int) -> int:
    """Render a document's PDF into the cache, so the school's first download is instant. Size in bytes."""
    from billing.models import BillingDocument
    from billing.pdf import document_pdf

    document = BillingDocument.objects.filter(pk=document_id).first()
    return len(document_pdf(document)) if document else 0


@shared_task(name="billing.sweep_booking_billing")
def sweep_booking_billing() -> int:
    """Periodic: bill every booking whose lines changed lately, in case a signal or a task was lost."""
    from billing.services.booking_sweep import bookings_to_bill

    ids = bookings_to_bill(since=SWEEP_LOOKBACK)
    for booking_id in ids:
        bill_booking.delay(booking_id)
    return len(ids)
