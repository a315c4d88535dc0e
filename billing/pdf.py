"""Billing documents as PDF (WeasyPrint), from one template with four faces.

- an unpaid or part-paid invoice: a full UK VAT invoice (supplier VAT number, number, date and tax point,
  customer, per-line quantity / unit net / VAT rate, VAT totals by rate, due date, PO number, remittance details);
- a paid invoice: the same VAT invoice headed as a receipt, with the payments that settled it;
- a credit note: refers to the invoice it credits, with the reason;
- an internal recharge: a journal between budgets of one council, with no VAT invoice wording at all.

Rendering reads only the document's snapshots and lines, never the live council or school, so a PDF rendered
years later says what the document said on the day it was issued.
"""

from dataclasses import dataclass

from django.template.loader import render_to_string

from billing.models import BillingDocument, DocumentStatus, DocumentType

TEMPLATE = "billing/invoice_pdf.html"


@dataclass(frozen=True)
class Face:
    key: str
    title: str
    is_vat_document: bool


def document_face(document: BillingDocument) -> Face:
    """Which of the four faces a document is printed with."""
    if document.document_type == DocumentType.RECHARGE:
        return Face("recharge", "Internal recharge journal", is_vat_document=False)
    if document.document_type == DocumentType.CREDIT_NOTE:
        return Face("credit_note", "Credit note", is_vat_document=True)
    if document.status == DocumentStatus.PAID:
        return Face("receipt", "Receipt and VAT invoice", is_vat_document=True)
    return Face("invoice", "VAT invoice", is_vat_document=True)


def document_context(document: BillingDocument) -> dict:
    lines = list(document.lines.all())
    return {
        "document": document,
        "face": document_face(document),
        "supplier": document.supplier,
        "customer": document.customer,
        "lines": lines,
        "vat_summary": document.totals_by_vat(),
        "payments": list(document.payments.all()) if not document.is_credit_note else [],
        "credited": document.credited_document,
        "has_exempt_lines": any(line.vat_treatment == "exempt" for line in lines),
    }


def render_document_html(document: BillingDocument) -> str:
    return render_to_string(TEMPLATE, document_context(document))


def render_document_pdf(document: BillingDocument) -> bytes:
    """The document as PDF bytes (A4)."""
    # Imported here: WeasyPrint pulls in Pango through cffi, which only PDF work needs to load.
    from weasyprint import HTML

    return HTML(string=render_document_html(document)).write_pdf()


def document_filename(document: BillingDocument) -> str:
    return f"{document.number}.pdf"
