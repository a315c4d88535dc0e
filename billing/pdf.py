"""Billing documents as PDF (WeasyPrint), from one template with four faces.

- an unpaid or part-paid invoice: a full UK VAT invoice (supplier VAT number, number, date and tax point,
  customer, per-line quantity / unit net / VAT rate, VAT totals by rate, due date, PO number, remittance details);
- a paid invoice: the same VAT invoice headed as a receipt, with the payments that settled it;
- a credit note: refers to the invoice it credits, with the reason;
- an internal recharge: a journal between budgets of one council, with no VAT invoice wording at all.

Rendering reads only the document's snapshots and lines, never the live council or school, so a PDF rendered
years later says what the document said on the day it was issued.
"""

import functools
import threading
from dataclasses import dataclass

from django.core.cache import cache
from django.template.loader import render_to_string

from billing.models import BillingDocument, DocumentStatus, DocumentType

TEMPLATE = "billing/invoice_pdf.html"
PDF_CACHE_SECONDS = 7 * 24 * 3600


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


@functools.cache
def _url_fetcher():
    # Documents embed everything they show, so nothing is fetched, ever: no protocol is allowed. Without this
    # WeasyPrint would follow any URL a template or a snapshot came to contain, over the network, mid-request.
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=())


_local = threading.local()


def _font_config():
    # One FontConfiguration per thread, reused: building one sets up a Pango font map and fontconfig (about 7 ms
    # here), and a reused one keeps Pango's font-set cache warm. Per thread, because Pango font maps are not
    # thread-safe (runserver and threaded servers render from several threads).
    font_config = getattr(_local, "font_config", None)
    if font_config is None:
        from weasyprint.text.fonts import FontConfiguration

        font_config = _local.font_config = FontConfiguration()
    return font_config


def render_pdf(html: str) -> bytes:
    """HTML (with its CSS inline) to PDF bytes, fetching nothing."""
    # Imported here: WeasyPrint pulls in Pango through cffi, which only PDF work needs to load.
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=_url_fetcher()).write_pdf(font_config=_font_config())


def render_document_pdf(document: BillingDocument) -> bytes:
    """The document as PDF bytes (A4)."""
    return render_pdf(render_document_html(document))


def _cache_key(document: BillingDocument) -> str:
    # The content never changes after issue; what can (status, payments, credits) moves updated_at.
    stamp = document.updated_at.timestamp() if document.updated_at else 0
    return f"billing:pdf:{document.pk}:{stamp:.6f}"


def document_pdf(document: BillingDocument) -> bytes:
    """The PDF a download serves: rendered once per state of the document, then served from the cache."""
    key = _cache_key(document)
    pdf = cache.get(key)
    if pdf is None:
        pdf = render_document_pdf(document)
        cache.set(key, pdf, timeout=PDF_CACHE_SECONDS)
    return pdf


def document_filename(document: BillingDocument) -> str:
    return f"{document.number}.pdf"
