"""Billing's URLs, included at the site root by portal/urls.py."""

from django.urls import path

from billing.views import card, documents, finance, finance_tasks, pay_booking, remittances, settlements
from billing.webhooks import stripe_webhook

app_name = "billing"

COUNCIL = "billing/finance/<slug:council_slug>/"
MONTH = "settlements/<int:year>/<int:month>/"

urlpatterns = [
    path("stripe/webhook/", stripe_webhook, name="stripe-webhook"),
    # Schools (and anyone who may see a document)
    path("billing/schools/<int:urn>/", documents.school_documents, name="school_documents"),
    path("billing/documents/<int:pk>/", documents.document_detail, name="document"),
    path("billing/documents/<int:pk>/pdf/", documents.document_pdf_download, name="document_pdf"),
    path("billing/documents/<int:pk>/record-payment/", documents.record_payment, name="record_payment"),
    path("billing/documents/<int:pk>/pay/", card.pay_invoice, name="pay_invoice"),
    path("billing/documents/<int:pk>/pay/setup/", card.pay_setup, name="pay_setup"),
    path("billing/documents/<int:pk>/pay/charge/", card.pay_charge, name="pay_charge"),
    path("billing/documents/<int:pk>/pay/complete/", card.pay_complete, name="pay_complete"),
    # A booking's card payment (billing-3): its page and the JSON steps of its script, and the invoice fallback
    path("billing/bookings/<str:reference>/pay/", pay_booking.pay_booking, name="pay_booking"),
    path("billing/bookings/<str:reference>/documents/", pay_booking.pay_booking, name="booking_documents"),
    path("billing/bookings/<str:reference>/pay/setup/", pay_booking.pay_setup, name="pay_booking_setup"),
    path("billing/bookings/<str:reference>/pay/charge/", pay_booking.pay_charge, name="pay_booking_charge"),
    path("billing/bookings/<str:reference>/pay/complete/", pay_booking.pay_complete, name="pay_booking_complete"),
    path("billing/bookings/<str:reference>/pay/by-invoice/", pay_booking.pay_by_invoice, name="pay_booking_by_invoice"),
    # Council finance
    path("billing/finance/", finance.finance_home, name="finance"),
    path("billing/finance/tasks/", finance_tasks.partnership_tasks, name="partnership_tasks"),
    path("billing/finance/tasks/<int:pk>/", finance_tasks.task_detail, name="finance_task"),
    path("billing/finance/tasks/<int:pk>/retry-refund/", finance_tasks.retry_refund, name="finance_task_retry_refund"),
    path(COUNCIL + "tasks/", finance_tasks.council_tasks, name="finance_tasks"),
    path(COUNCIL, finance.council_documents, name="council_documents"),
    path(COUNCIL + "ledger/", finance.ledger, name="ledger"),
    path(COUNCIL + "ledger.csv", finance.ledger_csv, name="ledger_csv"),
    path(COUNCIL + "settlements/", settlements.settlement_list, name="settlements"),
    path(COUNCIL + MONTH, settlements.settlement_detail, name="settlement"),
    path(COUNCIL + MONTH + "statement.csv", settlements.settlement_csv, name="settlement_csv"),
    path(COUNCIL + MONTH + "statement.pdf", settlements.settlement_pdf, name="settlement_pdf"),
    path(COUNCIL + MONTH + "pay-out/", settlements.settlement_payout, name="settlement_payout"),
    path(COUNCIL + "remittances/", remittances.remittance_upload, name="remittances"),
    path(COUNCIL + "remittances/<int:pk>/", remittances.remittance_detail, name="remittance"),
    path(COUNCIL + "remittances/<int:pk>/apply/", remittances.remittance_apply, name="remittance_apply"),
]
