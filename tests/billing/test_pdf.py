"""Invoice, receipt, credit note and recharge documents carry what each must say, and render as PDF."""

import datetime
import re

import pytest

from billing.pdf import document_face, render_document_html, render_document_pdf
from billing.services.documents import (
    CreditLineInput,
    issue_credit_note,
    issue_invoice,
    record_document_payment,
)
from tests.billing.factories import exempt_course, make_invoice, standard_service
from tests.factories import SchoolFactory

pytestmark = pytest.mark.django_db

ISSUED = datetime.date(2026, 3, 2)


def body_text(html: str) -> str:
    """The visible text of the document: no stylesheet, no tags, whitespace collapsed."""
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def academy():
    return SchoolFactory(
        name="Severn Valley Academy",
        funding_route="academy",
        street="Bridgnorth Road",
        town="Highley",
        postcode="WV16 6JG",
        la_code="893",
        urn=145001,
    )


def test_invoice_carries_every_field_of_a_uk_vat_invoice(councils, academy):
    """Number, supplier and VAT number, date and tax point, customer, lines with unit net and VAT rate,
    VAT totals by rate, exempt marking, due date, PO number and remittance details are all printed."""
    invoice = make_invoice(council=councils["shropshire"], school=academy, po_number="PO-4471", issue_date=ISSUED)
    text = body_text(render_document_html(invoice))
    assert document_face(invoice).key == "invoice"
    for expected in [
        "VAT invoice",
        "SHR-2026-000001",
        "Shropshire Council",
        "Shirehall",
        "SY2 6ND",
        "VAT registration number: GB 000 8930 00 (demo)",
        "Date of issue 2 March 2026",
        "Tax point 2 March 2026",
        "Severn Valley Academy",
        "Bridgnorth Road",
        "WV16 6JG",
        "URN 145001",
        "Your purchase order PO-4471",
        "Safeguarding refresher",
        "Unit price (net)",
        "£333.33",  # unit net of the 2.5-day line
        "Exempt",
        "20%",
        "£166.67",
        "VAT summary",
        "Total VAT £166.67",
        "Invoice total £1,120.00",
        "Payment due by 1 April 2026",
        "Sort code 00-89-30",
        "Account number 08930001",
        "income@shropshire.example",
        'Lines marked "Exempt" are exempt from VAT',
    ]:
        assert expected in text, expected


def test_paid_invoice_renders_as_a_receipt(councils, academy):
    """Once paid, the invoice prints as a receipt with its payments and no request to pay."""
    invoice = make_invoice(council=councils["staffordshire"], school=academy, route="card", issue_date=ISSUED)
    assert "How to pay" in body_text(render_document_html(invoice))
    record_document_payment(
        document=invoice, amount_pence=invoice.gross_pence, paid_on=ISSUED, method="card", reference="pi_3Abc"
    )
    invoice.refresh_from_db()
    text = body_text(render_document_html(invoice))
    assert document_face(invoice).key == "receipt"
    assert "Receipt and VAT invoice" in text and "PAID" in text
    assert "Payments received" in text and "pi_3Abc" in text
    assert "Balance £0.00" in text
    assert "How to pay" not in text and "Payment due by" not in text
    assert "VAT registration number" in text  # still a valid VAT invoice


def test_credit_note_refers_to_its_invoice(councils, academy):
    """A credit note names the invoice it credits, the reason, and its own number in the CN sequence."""
    invoice = make_invoice(council=councils["shropshire"], school=academy, issue_date=ISSUED)
    credit = issue_credit_note(
        invoice=invoice,
        lines=[CreditLineInput(line=invoice.lines.last(), net_pence=33_333)],
        reason="One day of the SLA cancelled",
        issue_date=ISSUED,
    )
    text = body_text(render_document_html(credit))
    assert "Credit note SHR-CN-2026-000001" in text
    assert "Credits invoice SHR-2026-000001 of 2 March 2026" in text
    assert "Reason for credit: One day of the SLA cancelled" in text
    assert "Total credited £400.00" in text
    assert "How to pay" not in text


def test_recharge_is_a_journal_not_a_vat_invoice(councils):
    """An internal recharge prints as a journal with ledger codes and no VAT invoice wording at all."""
    scc = councils["staffordshire"]
    school = SchoolFactory(name="Oakfield Primary School", council=scc, funding_route="maintained")
    recharge = issue_invoice(
        council=scc, customer=school, route="recharge", lines=[exempt_course(), standard_service()], issue_date=ISSUED
    )
    text = body_text(render_document_html(recharge))
    assert "Internal recharge journal" in text and "SCC-RC-2026-000001" in text
    assert "It is not a VAT invoice" in text
    assert "Total to journal £570.00" in text
    assert "SCC-EDU-100" in text and "SCC-9100" in text
    assert "VAT" not in text.replace("It is not a VAT invoice", "")
    assert "Tax point" not in text and "How to pay" not in text


def test_pdf_renders(councils, academy):
    """WeasyPrint turns the document into a one-page A4 PDF."""
    invoice = make_invoice(council=councils["worcestershire"], school=academy, issue_date=ISSUED)
    from weasyprint import HTML

    pdf = render_document_pdf(invoice)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    rendered = HTML(string=render_document_html(invoice)).render()
    assert len(rendered.pages) == 1
    assert round(rendered.pages[0].width * 25.4 / 96) == 210  # A4, in millimetres
