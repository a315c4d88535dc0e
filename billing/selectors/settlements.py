"""Settlement statements: for a council and a month, the card money the partnership account holds for it.

Worked out from the ledger alone, for any month: the council's share of each card payment received in the month,
less its share of those payments' Stripe fees and the card refunds paid out of its income in the month. The
result is the amount owed to the council, with the payments and refunds behind it.
"""

import calendar
import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from billing.models import LedgerEntry, LedgerEntryType, Payment, Refund, Settlement
from portal.models import Council


def month_bounds(month: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last day of the month containing ``month``."""
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


@dataclass(frozen=True)
class StatementPayment:
    payment: Payment
    received_on: datetime.date
    share_pence: int
    fee_pence: int  # the council's share of the fee, as a positive amount

    @property
    def net_pence(self) -> int:
        return self.share_pence - self.fee_pence


@dataclass(frozen=True)
class StatementRefund:
    refund: Refund
    paid_on: datetime.date
    amount_pence: int  # positive


@dataclass
class SettlementStatement:
    council: Council
    month: datetime.date
    payments: list[StatementPayment] = field(default_factory=list)
    refunds: list[StatementRefund] = field(default_factory=list)
    income_pence: int = 0
    fees_pence: int = 0
    refunds_pence: int = 0
    settlement: Settlement | None = None

    @property
    def owed_pence(self) -> int:
        return self.income_pence - self.fees_pence - self.refunds_pence

    @property
    def changed_since_settled(self) -> bool:
        """Entries posted after the settlement was paid out (a late fee): the difference carries forward."""
        return self.settlement is not None and self.settlement.owed_pence != self.owed_pence


def settlement_statement(*, council: Council, month: datetime.date) -> SettlementStatement:
    first, last = month_bounds(month)
    entries = (
        LedgerEntry.objects.filter(
            council=council,
            tax_point__range=(first, last),
            entry_type__in=[LedgerEntryType.PAYMENT, LedgerEntryType.CARD_FEE, LedgerEntryType.REFUND],
            payment__isnull=False,
        )
        .select_related("payment", "refund")
        .order_by("tax_point", "pk")
    )
    statement = SettlementStatement(
        council=council, month=first, settlement=Settlement.objects.filter(council=council, month=first).first()
    )
    shares: dict[int, int] = defaultdict(int)
    fees: dict[int, int] = defaultdict(int)
    payments: dict[int, tuple[Payment, datetime.date]] = {}
    for entry in entries:
        if entry.entry_type == LedgerEntryType.PAYMENT:
            shares[entry.payment_id] += entry.gross_pence
            payments.setdefault(entry.payment_id, (entry.payment, entry.tax_point))
        elif entry.entry_type == LedgerEntryType.CARD_FEE:
            fees[entry.payment_id] -= entry.gross_pence
            payments.setdefault(entry.payment_id, (entry.payment, entry.tax_point))
        else:
            statement.refunds.append(StatementRefund(entry.refund, entry.tax_point, -entry.gross_pence))
    for payment_id, (payment, received_on) in payments.items():
        statement.payments.append(StatementPayment(payment, received_on, shares[payment_id], fees[payment_id]))
    statement.income_pence = sum(shares.values())
    statement.fees_pence = sum(fees.values())
    statement.refunds_pence = sum(refund.amount_pence for refund in statement.refunds)
    return statement


def months_with_card_activity(*, council: Council) -> list[datetime.date]:
    """First days of the months with card entries for the council, newest first."""
    dates = LedgerEntry.objects.filter(council=council, payment__isnull=False).dates("tax_point", "month", order="DESC")
    return list(dates)
