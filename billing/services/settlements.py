"""Settling a month with a council: freeze its statement, then pay it out through the payout provider.

``settle_month`` writes the ``Settlement`` row once per council and month (the unique constraint decides between
two administrators pressing the button at once). ``pay_out_settlement`` calls the provider outside any
transaction (a network call must not hold row locks) with the settlement id as idempotency key, then records the
transfer under the settlement's row lock, so a repeat or a concurrent call never sends or records a second one.
"""

import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.gateway import PaymentError
from billing.models import PayoutStatus, Settlement
from billing.payouts import PayoutProvider, destination_for, get_payout_provider
from billing.selectors.settlements import month_bounds, settlement_statement
from portal.models import Council, User

logger = logging.getLogger(__name__)


def settle_month(*, council: Council, month: datetime.date, settled_by: User | None = None) -> Settlement:
    """Freeze the council's statement for a month that has ended; returns the existing row if already settled."""
    first, last = month_bounds(month)
    if last >= timezone.localdate():
        raise ValidationError(f"{first:%B %Y} has not ended yet: settle it from the 1st of the next month.")
    existing = Settlement.objects.filter(council=council, month=first).first()
    if existing is not None:
        return existing
    statement = settlement_statement(council=council, month=first)
    settlement = Settlement(
        council=council,
        month=first,
        income_pence=statement.income_pence,
        fees_pence=statement.fees_pence,
        refunds_pence=statement.refunds_pence,
        owed_pence=statement.owed_pence,
        payment_count=len(statement.payments),
        payout_destination=destination_for(council),
        created_by=settled_by,
    )
    settlement.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            settlement.save()
    except IntegrityError:
        return Settlement.objects.get(council=council, month=first)
    return settlement


def pay_out_settlement(*, settlement: Settlement, provider: PayoutProvider | None = None) -> Settlement:
    """Send the settlement's amount to the council once; safe to call again (it returns the paid settlement)."""
    settlement.refresh_from_db()
    if settlement.payout_status == PayoutStatus.PAID:
        return settlement
    if settlement.owed_pence <= 0:
        raise ValidationError(
            f"Nothing is owed to {settlement.council.short_name} for {settlement.month:%B %Y}: "
            "a negative balance is carried into the next settlement by finance."
        )
    provider = provider or get_payout_provider()
    try:
        result = provider.transfer(
            settlement_id=settlement.pk,
            amount_pence=settlement.owed_pence,
            destination=settlement.payout_destination,
            description=f"{settlement.council.name}: card income {settlement.month:%B %Y}",
        )
    except PaymentError as error:
        Settlement.objects.filter(pk=settlement.pk, payout_status=PayoutStatus.PENDING).update(
            payout_status=PayoutStatus.FAILED, failure_message=str(error)[:500]
        )
        settlement.refresh_from_db()
        return settlement
    with transaction.atomic():
        settlement = Settlement.objects.select_for_update().get(pk=settlement.pk)
        if settlement.payout_status != PayoutStatus.PAID:
            settlement.payout_status = PayoutStatus.PAID
            settlement.payout_reference = result.id
            settlement.paid_out_at = timezone.now()
            settlement.failure_message = ""
            settlement.save(update_fields=["payout_status", "payout_reference", "paid_out_at", "failure_message"])
    return settlement
