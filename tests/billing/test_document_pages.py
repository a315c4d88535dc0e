"""Document pages: the PDF download (rendered once per state), the dashboard's billing sections, the detail page."""

import datetime

import pytest
from django.urls import reverse

from billing import pdf
from billing.services.documents import record_document_payment
from tests.billing.factories import make_invoice
from tests.factories import CouncilMembershipFactory, SchoolFactory, SchoolMembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(councils):
    school = SchoolFactory(name="Severn Valley Academy", funding_route="academy")
    return make_invoice(council=councils["worcestershire"], school=school, issue_date=datetime.date(2026, 1, 5))


def test_pdf_is_rendered_once_per_state_of_the_document(client, invoice, monkeypatch):
    """Downloading twice renders once; a payment changes the document's state and so its PDF (now a receipt)."""
    renders = []
    real = pdf.render_document_pdf
    monkeypatch.setattr(pdf, "render_document_pdf", lambda document: renders.append(document.pk) or real(document))
    client.force_login(SchoolMembershipFactory(school=invoice.school, role="booker").user)
    url = reverse("billing:document_pdf", args=[invoice.pk])
    first = client.get(url)
    second = client.get(url)
    assert first["Content-Type"] == "application/pdf" and first.content.startswith(b"%PDF")
    assert f'filename="{invoice.number}.pdf"' in first["Content-Disposition"]
    assert second.content == first.content and renders == [invoice.pk]
    record_document_payment(
        document=invoice,
        amount_pence=invoice.gross_pence,
        paid_on=datetime.date(2026, 1, 20),
        method="bank_transfer",
        reference="BACS 1",
    )
    assert client.get(url).content != first.content and renders == [invoice.pk, invoice.pk]


def test_pdfs_fetch_nothing(caplog):
    """A URL in a document's HTML is refused before any request (every protocol is disallowed); the PDF renders."""
    with caplog.at_level("WARNING", logger="weasyprint"):
        rendered = pdf.render_pdf('<p>Hello</p><img src="http://127.0.0.1:9/logo.png" alt="">')
    assert rendered.startswith(b"%PDF")
    assert "disallowed protocol" in caplog.text


def test_dashboard_shows_a_schools_open_and_overdue_invoices(client, invoice):
    """A school member's dashboard lists what the school owes, flags overdue invoices and links to the list."""
    client.force_login(SchoolMembershipFactory(school=invoice.school, role="approver").user)
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert "Invoices and receipts" in page and invoice.school.name in page
    assert "1 overdue" in page  # issued in January with 30 days' terms
    assert reverse("billing:school_documents", args=[invoice.school.urn]) in page
    assert "Go to finance" not in page


def test_dashboard_links_finance_officers_to_finance(client, invoice):
    """A finance officer's dashboard has the finance section and no schools' invoices section."""
    client.force_login(CouncilMembershipFactory(council=invoice.council, role="finance").user)
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert "Go to finance" in page and reverse("billing:finance") in page
    assert "1 invoice overdue" in page


def test_document_page_offers_what_the_role_may_do(client, invoice):
    """The approver sees 'Pay by card', finance sees 'Record a payment', a booker sees neither."""
    url = reverse("billing:document", args=[invoice.pk])
    client.force_login(SchoolMembershipFactory(school=invoice.school, role="approver").user)
    page = client.get(url).content.decode()
    assert "by card" in page and "Record a payment" not in page and "Overdue" in page
    client.force_login(SchoolMembershipFactory(school=invoice.school, role="booker").user)
    page = client.get(url).content.decode()
    assert "by card" not in page and "Record a payment" not in page and "Download PDF" in page
    client.force_login(CouncilMembershipFactory(council=invoice.council, role="finance").user)
    page = client.get(url).content.decode()
    assert "Record a payment" in page and "by card" not in page


def test_a_paid_invoice_is_listed_as_a_receipt_with_nothing_due_and_the_booking_as_our_reference(client, councils):
    """The school sees a card- or bank-paid invoice as a receipt, with no due date or amount owed; the PDF and the
    page name the booking, not the internal source key."""
    invoice = make_invoice(
        council=councils["worcestershire"],
        school=SchoolFactory(name="Severn Valley Academy", funding_route="academy"),
        issue_date=datetime.date(2026, 1, 5),
        source_reference="booking:TCB-ABC123:council:885",
    )
    record_document_payment(
        document=invoice,
        amount_pence=invoice.gross_pence,
        paid_on=datetime.date(2026, 1, 20),
        method="bank_transfer",
        reference="BACS 1",
    )
    invoice.refresh_from_db()
    client.force_login(SchoolMembershipFactory(school=invoice.school, role="approver").user)
    listing = client.get(reverse("billing:school_documents", args=[invoice.school.urn])).content.decode()
    assert "Receipt" in listing and invoice.due_date.strftime("%-d %b %Y") not in listing
    page = client.get(reverse("billing:document", args=[invoice.pk])).content.decode()
    assert "Payment due by" not in page and "Booking TCB-ABC123" in page
    html = pdf.render_document_html(invoice)
    assert "Booking TCB-ABC123" in html and "booking:TCB-ABC123" not in html


def test_another_schools_document_looks_like_one_that_does_not_exist(client, invoice):
    """Document ids run in sequence: someone who may not see one gets the same 404 as for an id nobody has."""
    client.force_login(SchoolMembershipFactory(school=SchoolFactory(), role="approver").user)
    for view in ("billing:document", "billing:document_pdf"):
        assert client.get(reverse(view, args=[invoice.pk])).status_code == 404
        assert client.get(reverse(view, args=[invoice.pk + 1000])).status_code == 404
