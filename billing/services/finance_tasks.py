"""Opening and closing finance tasks (``billing.models.FinanceTask``), and retrying a refused refund.

``open_finance_task`` is idempotent by key and safe inside any transaction (a savepoint absorbs the race of two
openers); it never raises for a duplicate, because it is called on paths that are themselves handling a failure.
"""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import FinanceTask, FinanceTaskKind, FinanceTaskStatus, Refund, RefundStatus
from portal import access
from portal.models import CouncilRole

logger = logging.getLogger(__name__)


def open_finance_task(*, key: str, kind: str, title: str, details: str = "", **fields) -> FinanceTask:
    """The open (or already dealt with) task for ``key``; created the first time. ``fields``: council, school,
    amount_pence, booking_reference, document, payment, refund."""
    existing = FinanceTask.objects.filter(key=key).first()
    if existing is not None:
        return existing
    task = FinanceTask(key=key[:200], kind=FinanceTaskKind(kind), title=title[:200], details=details, **fields)
    task.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            task.save()
    except IntegrityError:
        return FinanceTask.objects.get(key=key)
    logger.warning("finance task opened: %s (%s)", task.title, key)
    return task


def open_task_for_failed_refund(*, refund: Refund) -> FinanceTask:
    """Stripe refused a refund: the school is still owed the money, so finance must pay it another way."""
    payment = refund.payment
    credit_note = refund.credit_note
    return open_finance_task(
        key=f"refund:{refund.pk}",
        kind=FinanceTaskKind.REFUND_FAILED,
        title=f"Card refund of £{refund.amount_pence / 100:,.2f} was refused by Stripe",
        details=(
            f"{refund.reason}\nStripe said: {refund.failure_message or 'no reason given'}.\n"
            "Try the refund again, or pay the school back another way (for example by BACS) and say so here."
        ),
        council=refund.council,
        school=credit_note.school if credit_note else None,
        amount_pence=refund.amount_pence,
        booking_reference=_booking_reference(payment.reference),
        document=credit_note,
        payment=payment,
        refund=refund,
    )


def _booking_reference(payment_reference: str) -> str:
    # Booking payments are named "booking:<reference>" (billing.services.booking_payments).
    return payment_reference.removeprefix("booking:")[:16] if payment_reference.startswith("booking:") else ""


def may_handle_task(user, task: FinanceTask) -> bool:
    """The task's council's finance officers; partnership administrators for every task."""
    if access.is_partnership_admin(user):
        return True
    return task.council_id is not None and access.is_council_member(user, task.council, role=CouncilRole.FINANCE)


@transaction.atomic
def resolve_finance_task(*, task: FinanceTask, by, resolution: str) -> FinanceTask:
    """Close the task with a note of what was done."""
    task = FinanceTask.objects.select_for_update().get(pk=task.pk)
    if not may_handle_task(by, task):
        raise PermissionDenied("Only the council's finance officers can deal with this task.")
    resolution = " ".join((resolution or "").split())
    if not resolution:
        raise ValidationError({"resolution": "Say what you did about it."})
    if len(resolution) > 1000:
        raise ValidationError({"resolution": "Keep the note to 1,000 characters or fewer."})
    if task.status != FinanceTaskStatus.OPEN:
        raise ValidationError("This task has already been dealt with.")
    task.status = FinanceTaskStatus.DONE
    task.resolution = resolution
    task.resolved_by = by
    task.resolved_at = timezone.now()
    task.save(update_fields=["status", "resolution", "resolved_by", "resolved_at", "updated_at"])
    return task


def retry_refused_refund(*, task: FinanceTask, by) -> Refund:
    """Ask Stripe again for a refused refund (a new refund with its own key) and close the task.

    If Stripe refuses again, the new refund opens a task of its own.
    """
    from billing.services.refunds import request_refund

    with transaction.atomic():
        task = (
            FinanceTask.objects.select_for_update(of=("self",))
            .select_related("refund", "refund__payment")
            .get(pk=task.pk)
        )
        if not may_handle_task(by, task):
            raise PermissionDenied("Only the council's finance officers can deal with this task.")
        if task.kind != FinanceTaskKind.REFUND_FAILED or task.refund is None:
            raise ValidationError("Only a refused refund can be tried again.")
        if task.status != FinanceTaskStatus.OPEN:
            raise ValidationError("This task has already been dealt with.")
        old = task.refund
        if old.status != RefundStatus.FAILED:
            raise ValidationError("This refund was not refused.")
        tries = Refund.objects.filter(idempotency_key__startswith=f"{old.idempotency_key}:retry:").count()
        refund = request_refund(
            payment=old.payment,
            amount_pence=old.amount_pence,
            reason=old.reason,
            idempotency_key=f"{old.idempotency_key}:retry:{tries + 1}",
            source_reference=old.source_reference,
            credit_note=old.credit_note,
            council=None if old.credit_note_id else old.council,
        )
        task.status = FinanceTaskStatus.DONE
        task.resolution = f"Refund asked of Stripe again (refund {refund.pk})."
        task.resolved_by = by
        task.resolved_at = timezone.now()
        task.save(update_fields=["status", "resolution", "resolved_by", "resolved_at", "updated_at"])
    return refund
