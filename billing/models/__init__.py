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
from .payments import Payment, PaymentStatus, Refund, RefundStatus
from .sequences import DocumentType, InvoiceSequence

__all__ = [
    "BillingDocument",
    "CreditNote",
    "DocumentLine",
    "DocumentPayment",
    "DocumentStatus",
    "DocumentType",
    "ImmutableDocumentError",
    "InternalRecharge",
    "Invoice",
    "InvoiceSequence",
    "Payment",
    "PaymentMethod",
    "PaymentRoute",
    "PaymentStatus",
    "Refund",
    "RefundStatus",
    "StripeCustomer",
    "StripeEvent",
]
