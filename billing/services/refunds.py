"""Refunds of card payments: asked for in the database first, then sent to Stripe by a task.

``request_refund`` runs under the payment's row lock, so concurrent requests can never add up to more than the
payment; the Stripe call happens after commit in ``billing.submit_refund`` (``submit_refund`` below), with the
refund's own idempotency key, so a retried task never refunds twice. A refund Stripe refuses is marked failed
with Stripe's reason: it stays on the payment, visible to finance, never silently lost.

A refund whose task was lost (the worker died between the commit and the Stripe call, the broker was down, the
task ran out of retries) stays "requested": ``resubmit_stuck_refunds`` (the periodic ``billing.resubmit_stuck_refunds``)
sends it again, with the same key, so Stripe makes it at most once; one still waiting after a day is also put
before finance as a task.
"""

import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from billing.gateway import GatewayUnavailable, PaymentError, PaymentGateway, RefundTooLarge, get_gateway
from billing.models import BillingDocument, DocumentType, FinanceTaskKind, Payment, Refund, RefundStatus
from billing.money import format_gbp
from billing.tasks import submit_refund as submit_refund_task
from portal.models import Council

from .finance_tasks import open_finance_task, open_task_for_failed_refund
from .ledger import post_refund
from .payments import record_payment_intent

logger = logging.getLogger(__name__)

# A refund's own task is enqueued on commit and normally answers within seconds; one still "requested" after this
# was lost or is stuck in its retries. Sending it again is harmless (same idempotency key; only "requested" acts).
STUCK_AFTER = datetime.timedelta(minutes=10)
# Still not made after this: Stripe has been refusing to answer for a day, so finance should know.
SURFACE_AFTER = datetime.timedelta(days=1)


def refundable_pence(payment: Payment) -> int:
    """What can still be asked back: the payment less every refund requested or made (not failed ones)."""
    asked = payment.refunds.exclude(status=RefundStatus.FAILED).aggregate(total=Sum("amount_pence"))["total"] or 0
    return payment.amount_pence - max(asked, payment.amount_refunded_pence)


@transaction.atomic
def request_refund(
    *,
    payment: Payment,
    amount_pence: int,
    reason: str,
    idempotency_key: str,
    source_reference: str = "",
    credit_note: BillingDocument | None = None,
    council: Council | None = None,
) -> Refund:
    """Ask for (part of) a payment back; Stripe is called after commit. Idempotent by ``idempotency_key``.

    ``credit_note`` (the credit the refund pays out) names the council whose income the refund comes out of;
    ``council`` names it directly. With neither, the refund is shared by the payment's councils pro rata.
    """
    if credit_note is not None:
        if credit_note.document_type != DocumentType.CREDIT_NOTE:
            raise ValidationError(f"{credit_note} is not a credit note.")
        if council is not None and council.pk != credit_note.council_id:
            raise ValidationError("The refund's council must be the credit note's council.")
        council = credit_note.council
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if council is not None and council.la_code not in payment.council_shares:
        raise ValidationError(f"{council} had no share of this payment, so it cannot refund from it.")
    existing = Refund.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.payment_id != payment.pk or existing.amount_pence != amount_pence:
            raise ValidationError("This refund key was already used for a different refund.")
        return existing
    if not payment.is_settled:
        raise ValidationError("Only a payment that has been taken can be refunded.")
    if not isinstance(amount_pence, int) or amount_pence <= 0:
        raise ValidationError("A refund must be a positive whole number of pence.")
    if not reason.strip():
        raise ValidationError("Say why the refund is made.")
    if council is not None:
        share = payment.council_shares[council.la_code]
        asked_of_council = (
            payment.refunds.filter(council=council)
            .exclude(status=RefundStatus.FAILED)
            .aggregate(total=Sum("amount_pence"))["total"]
            or 0
        )
        if asked_of_council + amount_pence > share:
            raise RefundTooLarge(
                f"refund of {amount_pence}p from {council.la_code} on payment {payment.pk}; share {share}p, "
                f"{asked_of_council}p already asked",
                user_message=f"Only {format_gbp(share - asked_of_council)} of {council.short_name}'s share of this "
                "payment can still be refunded.",
            )
    remaining = refundable_pence(payment)
    if amount_pence > remaining:
        raise RefundTooLarge(
            f"refund of {amount_pence}p asked on payment {payment.pk}; {remaining}p remains",
            user_message=f"Only {format_gbp(remaining)} of this payment can still be refunded.",
        )
    refund = Refund(
        payment=payment,
        amount_pence=amount_pence,
        reason=reason.strip()[:300],
        idempotency_key=idempotency_key,
        source_reference=source_reference or (f"credit_note:{credit_note.pk}" if credit_note else ""),
        council=council,
        credit_note=credit_note,
    )
    refund.full_clean(validate_unique=False, validate_constraints=False)
    refund.save()
    transaction.on_commit(lambda: submit_refund_task.delay(refund.pk))
    return refund


def refund_card_overpayment(*, payment: Payment, document: BillingDocument, excess_pence: int) -> Refund | None:
    """Card money for ``document`` beyond what it still owed (paid or credited meanwhile): back to the card.

    Runs inside the payment's transaction (a payment hook); the refund, out of the document's council's share,
    goes to Stripe after commit. If it cannot even be asked for, finance gets a task: the money is never kept
    silently.
    """
    why = (
        f"{format_gbp(excess_pence)} of card payment {payment.pk} was more than {document.number} still owed "
        f"({document.get_status_display().lower()})"
    )
    try:
        with transaction.atomic():
            return request_refund(
                payment=payment,
                amount_pence=excess_pence,
                reason=f"Overpaid: {why}"[:300],
                idempotency_key=f"payment:{payment.pk}:overpaid",
                source_reference=f"document:{document.pk}",
                council=document.council,
            )
    except (ValidationError, PaymentError) as error:
        message = " ".join(getattr(error, "messages", None) or [getattr(error, "user_message", str(error))])
        open_finance_task(
            key=f"card-overpayment:{payment.pk}",
            kind=FinanceTaskKind.CARD_OVERPAYMENT,
            title=f"{format_gbp(excess_pence)} paid by card beyond what {document.number} owed",
            details=f"{why}.\nThe refund could not be asked for: {message}. Pay the school back another way.",
            council=document.council,
            school=document.school,
            amount_pence=excess_pence,
            document=document,
            payment=payment,
        )
        return None


def submit_refund(*, refund_id: int, gateway: PaymentGateway | None = None) -> Refund:
    """Send a requested refund to Stripe and record the answer. Safe to run again: it only acts on 'requested'."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.status != RefundStatus.REQUESTED:
        return refund
    gateway = gateway or get_gateway()
    payment = refund.payment
    try:
        result = gateway.refund(
            payment_intent_id=payment.stripe_payment_intent_id,
            amount_pence=refund.amount_pence,
            idempotency_key=refund.idempotency_key,
            metadata={
                "portal_refund_id": str(refund.pk),
                "portal_payment_id": str(payment.pk),
                "reason": refund.reason,
            },
        )
    except GatewayUnavailable:
        raise  # the task retries with backoff, with the same idempotency key
    except PaymentError as error:
        logger.warning("refund %s refused: %s", refund.pk, error)
        with transaction.atomic():
            failed = Refund.objects.filter(pk=refund.pk, status=RefundStatus.REQUESTED).update(
                status=RefundStatus.FAILED, failure_message=str(error)[:500]
            )
            refund.refresh_from_db()
            if failed:
                # The school is still owed the money: finance sees a task until they settle it another way.
                open_task_for_failed_refund(refund=refund)
        return refund
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.status == RefundStatus.REQUESTED:
            refund.status = RefundStatus.SUCCEEDED
            refund.stripe_refund_id = result.id
            refund.succeeded_at = timezone.now()
            refund.save(update_fields=["status", "stripe_refund_id", "succeeded_at", "updated_at"])
            post_refund(refund=refund)
    # The payment's refunded amount comes from Stripe's own account of the intent, as for webhooks.
    record_payment_intent(intent=gateway.retrieve_payment(payment.stripe_payment_intent_id), payment=payment)
    return refund


def resubmit_stuck_refunds(*, now: datetime.datetime | None = None) -> list[int]:
    """Ids of refunds still "requested" after ``STUCK_AFTER``: enqueued again; those older than a day also get a
    finance task (once), so a refund Stripe never answered is never silently lost."""
    now = now or timezone.now()
    stuck = list(
        Refund.objects.filter(status=RefundStatus.REQUESTED, created_at__lt=now - STUCK_AFTER)
        .select_related("payment", "credit_note", "council")
        .order_by("pk")
    )
    for refund in stuck:
        if refund.created_at < now - SURFACE_AFTER:
            open_finance_task(
                key=f"refund-stuck:{refund.pk}",
                kind=FinanceTaskKind.REFUND_NOT_REQUESTED,
                title=f"Card refund of {format_gbp(refund.amount_pence)} has waited since "
                f"{timezone.localtime(refund.created_at):%d/%m/%Y %H:%M} for Stripe",
                details=f"{refund.reason}\nThe portal keeps asking Stripe for it (same request, so it is never made "
                "twice). Check the payment in Stripe; if the refund cannot be made, pay the school back another way "
                "and say so here.",
                council=refund.council,
                school=refund.credit_note.school if refund.credit_note_id else None,
                amount_pence=refund.amount_pence,
                document=refund.credit_note,
                payment=refund.payment,
                refund=refund,
            )
        submit_refund_task.delay(refund.pk)
    return [refund.pk for refund in stuck]
