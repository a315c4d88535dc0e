"""Remittance and bank files: columns by name, matched by invoice number, previewed, applied once."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing.models import DocumentStatus, RemittanceBatch, RemittanceRowStatus, RemittanceStatus
from billing.services.remittances import apply_remittance_batch, create_remittance_batch, read_rows
from tests.billing.factories import exempt_course, make_invoice
from tests.factories import CouncilMembershipFactory, SchoolFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoices(councils):
    council = councils["staffordshire"]
    school = SchoolFactory(name="Oakfield Primary", funding_route="academy")
    day = datetime.date(2026, 3, 2)
    first = make_invoice(council=council, school=school, lines=[exempt_course(unit_net_pence=12_000)], issue_date=day)
    second = make_invoice(council=council, school=school, lines=[exempt_course(unit_net_pence=5_000)], issue_date=day)
    other = make_invoice(council=councils["shropshire"], school=school, lines=[exempt_course()], issue_date=day)
    return first, second, other


@pytest.fixture
def finance(councils):
    return CouncilMembershipFactory(council=councils["staffordshire"], role="finance").user


def _file(invoices) -> bytes:
    first, second, other = invoices
    # Columns in an unusual order, with extra ones, a byte-order mark and a Windows line ending, as banks send.
    return (
        "\ufeffTransaction Date,Type,Details,Paid in,Balance\r\n"
        f"05/03/2026,BAC,OAKFIELD PRIMARY {first.number.lower()},120.00,1000\r\n"
        f'06/03/2026,BAC,Oakfield {second.number} part,"1,000.00",2000\r\n'
        f"06/03/2026,BAC,{second.number} first half,25.00,2025\r\n"
        "07/03/2026,BAC,School fund no reference,40.00,2065\r\n"
        f"07/03/2026,BAC,{other.number},10.00,2075\r\n"
        f"08/03/2026,BAC,{first.number} and SCC-2026-999999,5.00,2080\r\n"
        "not a date,BAC,SCC-2026-000001,12.00,2092\r\n"
    ).encode()


def test_rows_are_matched_by_invoice_number_and_explained(invoices, finance, councils):
    """Matched, overpaying, unmatched, other council's, ambiguous and unreadable rows are each told apart."""
    first, second, other = invoices
    batch = create_remittance_batch(
        council=councils["staffordshire"], uploaded_by=finance, filename="bank.csv", content=_file(invoices)
    )
    statuses = [(row["line"], row["status"]) for row in batch.rows]
    assert statuses == [
        (2, RemittanceRowStatus.MATCHED),
        (3, RemittanceRowStatus.OVERPAYS),
        (4, RemittanceRowStatus.MATCHED),
        (5, RemittanceRowStatus.UNMATCHED),
        (6, RemittanceRowStatus.UNMATCHED),
        (7, RemittanceRowStatus.UNMATCHED),
        (8, RemittanceRowStatus.INVALID),
    ]
    rows = {row["line"]: row for row in batch.rows}
    assert rows[2]["document_id"] == first.pk and rows[2]["amount_pence"] == 12_000
    assert "more than the £50.00 owed" in rows[3]["message"]
    assert "not an invoice of Staffordshire" in rows[6]["message"]
    assert "Names 2 invoices" in rows[7]["message"]
    # Nothing is paid by the preview.
    first.refresh_from_db()
    assert first.amount_paid_pence == 0 and batch.status == RemittanceStatus.PREVIEWED


def test_applying_records_matched_rows_once_and_a_re_upload_applies_nothing(invoices, finance, councils):
    """Confirming pays the matched rows; confirming again, or the same file uploaded again, adds nothing."""
    first, second, _ = invoices
    council = councils["staffordshire"]
    batch = create_remittance_batch(council=council, uploaded_by=finance, filename="bank.csv", content=_file(invoices))
    batch = apply_remittance_batch(batch=batch, applied_by=finance)
    assert (batch.status, batch.applied_count, batch.applied_pence) == (RemittanceStatus.APPLIED, 2, 14_500)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == DocumentStatus.PAID and first.paid_on == datetime.date(2026, 3, 5)
    assert (second.status, second.amount_paid_pence) == (DocumentStatus.PART_PAID, 2_500)
    assert apply_remittance_batch(batch=batch, applied_by=finance).applied_count == 2
    again = create_remittance_batch(council=council, uploaded_by=finance, filename="bank.csv", content=_file(invoices))
    statuses = {row["line"]: row["status"] for row in again.rows}
    assert statuses[2] == statuses[4] == RemittanceRowStatus.ALREADY_APPLIED
    assert apply_remittance_batch(batch=again, applied_by=finance).applied_count == 0
    assert first.payments.count() == 1 and second.payments.count() == 1


def test_a_row_paid_meanwhile_is_not_applied(invoices, finance, councils):
    """If an invoice is paid between preview and confirmation, its row is marked, the others still applied."""
    from billing.services.documents import record_document_payment

    first, second, _ = invoices
    batch = create_remittance_batch(
        council=councils["staffordshire"], uploaded_by=finance, filename="bank.csv", content=_file(invoices)
    )
    record_document_payment(
        document=first, amount_pence=12_000, paid_on=datetime.date(2026, 3, 4), method="cheque", reference="CHQ"
    )
    batch = apply_remittance_batch(batch=batch, applied_by=finance)
    assert batch.applied_count == 1
    assert {row["line"]: row["status"] for row in batch.rows}[2] == RemittanceRowStatus.OVERPAYS


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Date,Reference\n01/03/2026,SCC-2026-000001\n", "column for the amount"),
        (b"", "empty"),
        (b"Amount,Date,Reference\n", "no rows"),
    ],
)
def test_unusable_files_are_refused_with_a_reason(content, message):
    """A file without the needed columns, or without rows, is refused, saying why."""
    with pytest.raises(ValidationError, match=message):
        read_rows(content)


def test_upload_preview_and_confirm_pages(client, invoices, finance, councils):
    """Upload shows the preview with what will happen; confirming applies; the batch is the council's own."""
    council = councils["staffordshire"]
    client.force_login(finance)
    upload = SimpleUploadedFile("bank.csv", _file(invoices), content_type="text/csv")
    response = client.post(reverse("billing:remittances", args=[council.slug]), {"file": upload})
    batch = RemittanceBatch.objects.get()
    assert response["Location"] == reverse("billing:remittance", args=[council.slug, batch.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Record 2 payments" in page and "Not matched to an invoice (3)" in page and "£145.00" in page
    client.post(reverse("billing:remittance_apply", args=[council.slug, batch.pk]))
    batch.refresh_from_db()
    assert batch.status == RemittanceStatus.APPLIED
    other = councils["shropshire"].slug
    assert client.get(reverse("billing:remittance", args=[other, batch.pk])).status_code == 403
    response = client.post(
        reverse("billing:remittances", args=[council.slug]),
        {"file": SimpleUploadedFile("notes.pdf", b"%PDF", content_type="application/pdf")},
    )
    assert "must be a CSV" in response.content.decode()
