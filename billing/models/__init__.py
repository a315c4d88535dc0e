"""Models of the billing app, one concept a module."""

from .customers import StripeCustomer
from .documents import (
    BillingDocument,
    CreditNote,
    DocumentLine,
    DocumentPayment,
    DocumentStatus,
    ImmutableDocumentError,
    InternalRecharge,
    Invoice,
    PaymentMethod,
    PaymentRoute,
)
from .events import StripeEvent
from .finance_tasks import FinanceTask, FinanceTaskKind, FinanceTaskStatus
from .ledger import DOCUMENT_ENTRY_TYPES, LedgerEntry, LedgerEntryType, LedgerError
from .payments import Payment, PaymentStatus, Refund, RefundStatus
from .reminders import REMINDER_STAGE_DAYS, OverdueReminder, ReminderStage
from .remittances import RemittanceBatch, RemittanceRowStatus, RemittanceStatus
from .sequences import DocumentType, InvoiceSequence
from .settlements import PayoutStatus, Settlement

__all__ = [
    "DOCUMENT_ENTRY_TYPES",
    "REMINDER_STAGE_DAYS",
    "BillingDocument",
    "CreditNote",
    "DocumentLine",
    "DocumentPayment",
    "DocumentStatus",
    "DocumentType",
    "FinanceTask",
    "FinanceTaskKind",
    "FinanceTaskStatus",
    "ImmutableDocumentError",
    "InternalRecharge",
    "Invoice",
    "InvoiceSequence",
    "LedgerEntry",
    "LedgerEntryType",
    "LedgerError",
    "OverdueReminder",
    "Payment",
    "PaymentMethod",
    "PaymentRoute",
    "PaymentStatus",
    "PayoutStatus",
    "Refund",
    "RefundStatus",
    "ReminderStage",
    "RemittanceBatch",
    "RemittanceRowStatus",
    "RemittanceStatus",
    "Settlement",
    "StripeCustomer",
    "StripeEvent",
]
