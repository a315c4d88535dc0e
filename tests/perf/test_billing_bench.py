"""Benchmark: invoice PDFs rendered per second (WeasyPrint, from issued documents in the database).

Prints figures; timings never fail the run (see `make bench`). On these shared two-core machines wall-clock time
mostly measures how many other processes want the CPU, so CPU time per PDF is printed beside it, with the load
average and a fixed pure-Python loop as a yardstick of how fast the machine was at the time.
"""

import datetime
import os
import time
from decimal import Decimal

import pytest

from billing import pdf
from billing.pdf import document_pdf, render_document_html, render_document_pdf
from tests.billing.factories import exempt_course, make_invoice, standard_service
from tests.factories import SchoolFactory

RENDERS = 40


def _yardstick_ms() -> float:
    """CPU milliseconds for a fixed loop (about 12 ms on an idle modern core): how fast the machine was just now."""
    started = time.process_time()
    sum(range(1_000_000))
    return (time.process_time() - started) * 1000


def _timed(function, documents, renders=RENDERS) -> tuple[float, float, int]:
    """(wall ms, CPU ms, bytes) per call of ``function`` over the documents in turn."""
    wall, cpu = time.perf_counter(), time.process_time()
    total = 0
    for index in range(renders):
        result = function(documents[index % len(documents)])
        total += len(result) if isinstance(result, bytes | str) else 0
    return (
        (time.perf_counter() - wall) / renders * 1000,
        (time.process_time() - cpu) / renders * 1000,
        total // renders,
    )


@pytest.mark.django_db
def test_invoice_pdfs_per_second(councils):
    """Render a mix of one-page invoices repeatedly and print PDFs per second, CPU ms each, and the cached path."""
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

    html_wall, _, _ = _timed(render_document_html, invoices)
    wall, cpu, size = _timed(render_document_pdf, invoices)

    # What it cost before: WeasyPrint's default, a new FontConfiguration (Pango font map, fontconfig) per PDF.
    from weasyprint import HTML

    def fresh_font_config(document):
        return HTML(string=render_document_html(document)).write_pdf()

    fresh_wall, fresh_cpu, _ = _timed(fresh_font_config, invoices, renders=RENDERS // 2)

    # A download: rendered once per state of the document, then served from the cache.
    for invoice in invoices:
        document_pdf(invoice)
    cached_wall, cached_cpu, _ = _timed(document_pdf, invoices)

    load = os.getloadavg()[0]
    print(
        f"\nbilling: {1000 / wall:.1f} invoice PDFs per second ({wall:.0f} ms each wall, {cpu:.0f} ms CPU; "
        f"template + queries {html_wall:.1f} ms; {size // 1024} KiB each; {RENDERS} renders)"
        f"\nbilling: with a new FontConfiguration per PDF (WeasyPrint's default, as before): {fresh_wall:.0f} ms wall, "
        f"{fresh_cpu:.0f} ms CPU each"
        f"\nbilling: a repeated download from the PDF cache: {cached_wall:.2f} ms wall, {cached_cpu:.2f} ms CPU"
        f"\nbilling: machine: load average {load:.1f} on {os.cpu_count()} cores; "
        f"yardstick loop {_yardstick_ms():.0f} ms CPU (about 12 ms on an idle modern core)"
        f"\nbilling: PDF renderer reuses one FontConfiguration per thread: {pdf._font_config() is pdf._font_config()}"
    )
    assert size > 0
