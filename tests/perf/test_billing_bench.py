"""Benchmark: invoice PDFs rendered per second (WeasyPrint, from issued documents in the database).

Prints figures; timings never fail the run (see `make bench`).
"""

import datetime
import time
from decimal import Decimal

import pytest

from billing.pdf import render_document_html, render_document_pdf
from tests.billing.factories import exempt_course, make_invoice, standard_service
from tests.factories import SchoolFactory

RENDERS = 40


@pytest.mark.django_db
def test_invoice_pdfs_per_second(councils):
    """Render a mix of one-page invoices and receipts repeatedly and print PDFs per second."""
    school = SchoolFactory(name="Severn Valley Academy", funding_route="academy")
    invoices = []
    for index, council in enumerate(councils.values()):
        lines = [exempt_course(description=f"Course {n}") for n in range(index + 2)]
        lines.append(standard_service(quantity=Decimal("2.5")))
        invoices.append(
            make_invoice(
                council=council,
                school=school,
                lines=lines,
                po_number=f"PO-{index}",
                issue_date=datetime.date(2026, 3, 2),
            )
        )
    render_document_pdf(invoices[0])  # warm: fonts, CSS parser, template cache

    started = time.perf_counter()
    for index in range(RENDERS):
        render_document_html(invoices[index % len(invoices)])
    html_seconds = time.perf_counter() - started

    started = time.perf_counter()
    total_bytes = 0
    for index in range(RENDERS):
        total_bytes += len(render_document_pdf(invoices[index % len(invoices)]))
    pdf_seconds = time.perf_counter() - started

    print(
        f"\nbilling: {RENDERS / pdf_seconds:.1f} invoice PDFs per second "
        f"({pdf_seconds / RENDERS * 1000:.0f} ms each, of which template + queries "
        f"{html_seconds / RENDERS * 1000:.1f} ms; {total_bytes // RENDERS // 1024} KiB each; {RENDERS} renders)"
    )
    assert total_bytes > 0
