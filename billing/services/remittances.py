"""Remittance and bank files: read, match by invoice number, preview, then apply once.

A file is a CSV whose columns are found by name, not position (banks and finance systems order them differently):
an amount (``Amount``, ``Paid in``, ``Credit`` ...), a date (``Date``, ``Payment date`` ...) and a reference
(``Reference``, ``Description``, ``Narrative`` ...) that contains the invoice number, e.g. ``SCC-2026-000123``.

Each row ends up as one of: matched (an open invoice, the amount within what is owed, counting earlier rows of the
same file), already recorded (the same reference, amount and date is already a payment of that invoice: the file,
or this line of it, was uploaded before), overpays (more than is owed: flagged, never applied), unmatched (no
invoice number, an unknown one, another council's, or several in one line) or invalid (no readable amount or date).
Nothing is written until finance confirms the preview; confirming twice applies nothing twice.
"""

import csv
import datetime
import hashlib
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import (
    BillingDocument,
    DocumentPayment,
    DocumentType,
    PaymentMethod,
    RemittanceBatch,
    RemittanceRowStatus,
    RemittanceStatus,
)
from billing.money import format_gbp, to_pence
from billing.selectors.documents import OPEN_STATUSES
from portal.models import Council, User

from .documents import record_document_payment

MAX_ROWS = 5_000
MAX_BYTES = 2 * 1024 * 1024
AMOUNT_COLUMNS = ("amount", "amount gbp", "amount £", "paid in", "credit", "credit amount", "value", "payment amount")
DATE_COLUMNS = ("date", "payment date", "transaction date", "value date", "date paid", "paid on")
REFERENCE_COLUMNS = ("reference", "payment reference", "description", "details", "narrative", "memo", "remittance")
DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d %b %Y", "%d %B %Y", "%d-%b-%Y")
# Invoice numbers only (credit notes and recharges carry CN-/RC- after the prefix and are never paid by bank).
INVOICE_NUMBER = re.compile(r"(?<![A-Z0-9-])([A-Z]{2,6})[\s-]?(\d{4})[\s-]?(\d{6})(?!\d)")


@dataclass(frozen=True)
class Columns:
    amount: str
    date: str
    reference: str


def _normalise(header: str) -> str:
    return re.sub(r"[^a-z0-9£ ]+", " ", (header or "").lower()).strip().replace("  ", " ")


def find_columns(headers: list[str]) -> Columns:
    """The amount, date and reference columns, by name; a clear error naming what is missing."""
    by_name = {_normalise(header): header for header in headers if header}
    found = {}
    missing = []
    for role, candidates in (("amount", AMOUNT_COLUMNS), ("date", DATE_COLUMNS), ("reference", REFERENCE_COLUMNS)):
        match = next((by_name[name] for name in candidates if name in by_name), None)
        if match is None:
            missing.append(f"{role} (for example '{candidates[0].title()}')")
        found[role] = match
    if missing:
        raise ValidationError(
            f"The file needs a column for the {' and the '.join(missing)}. Its first line names the columns: "
            f"{', '.join(h for h in headers if h) or 'it has none'}."
        )
    return Columns(**found)


def parse_amount(text: str) -> int:
    cleaned = (text or "").strip().replace("£", "").replace(",", "").replace(" ", "")
    if cleaned.startswith("(") and cleaned.endswith(")"):
        cleaned = "-" + cleaned[1:-1]
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"'{text}' is not an amount") from None
    if amount <= 0:
        raise ValueError(f"{text} is not money received (it must be more than 0)")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"{text} has more than two decimal places")
    return to_pence(amount)


def parse_date(text: str) -> datetime.date:
    value = (text or "").strip()
    for pattern in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"'{text}' is not a date (write it as 27/03/2026)")


def _decode(content: bytes) -> str:
    # Banks export in UTF-8 (often with a byte-order mark) or Windows-1252.
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def read_rows(content: bytes) -> list[dict]:
    """The file's rows as dicts of amount (pence), date and reference, or an error per unreadable row."""
    if len(content) > MAX_BYTES:
        raise ValidationError("The file is larger than 2 MB. Split it into smaller files.")
    text = _decode(content)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if not reader.fieldnames:
        raise ValidationError("The file is empty. Upload a CSV file whose first line names its columns.")
    columns = find_columns(list(reader.fieldnames))
    rows = []
    for number, record in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            raise ValidationError(f"The file has more than {MAX_ROWS:,} rows. Split it into smaller files.")
        if not any((value or "").strip() for value in record.values() if isinstance(value, str)):
            continue
        reference = (record.get(columns.reference) or "").strip()
        row = {"line": number, "reference": reference[:100], "amount_pence": None, "date": None}
        try:
            row["amount_pence"] = parse_amount(record.get(columns.amount) or "")
            row["date"] = parse_date(record.get(columns.date) or "").isoformat()
        except ValueError as error:
            row.update(status=RemittanceRowStatus.INVALID, message=f"Line {number}: {error}.")
        rows.append(row)
    if not rows:
        raise ValidationError("The file has no rows under its header line.")
    return rows


def _invoice_numbers(reference: str) -> list[str]:
    return sorted({f"{p}-{y}-{n}" for p, y, n in INVOICE_NUMBER.findall(reference.upper())})


def match_rows(rows: list[dict], *, council: Council | None) -> list[dict]:
    """Give each readable row its invoice and status, counting earlier rows of the file against the same invoice."""
    numbers = {number for row in rows for number in _invoice_numbers(row["reference"])}
    invoices = {
        invoice.number: invoice
        for invoice in BillingDocument.objects.filter(document_type=DocumentType.INVOICE, number__in=numbers)
    }
    pending: dict[int, int] = defaultdict(int)  # pence matched earlier in this file, per invoice
    seen: set[tuple] = set()
    for row in rows:
        if row.get("status") == RemittanceRowStatus.INVALID:
            continue
        found = _invoice_numbers(row["reference"])
        row["invoice_number"] = found[0] if len(found) == 1 else ""
        row["document_id"] = None
        if not found:
            row.update(status=RemittanceRowStatus.UNMATCHED, message="No invoice number in the reference.")
            continue
        if len(found) > 1:
            row.update(
                status=RemittanceRowStatus.UNMATCHED,
                message=f"Names {len(found)} invoices ({', '.join(found)}): record it against each by hand.",
            )
            continue
        invoice = invoices.get(found[0])
        if invoice is None or (council is not None and invoice.council_id != council.pk):
            whose = f" of {council.short_name}" if council is not None else ""
            row.update(status=RemittanceRowStatus.UNMATCHED, message=f"{found[0]} is not an invoice{whose}.")
            continue
        row["document_id"] = invoice.pk
        key = (invoice.pk, row["reference"], row["amount_pence"], row["date"])
        recorded = DocumentPayment.objects.filter(
            document=invoice, reference=row["reference"], amount_pence=row["amount_pence"], paid_on=row["date"]
        ).exists()
        if recorded or key in seen:
            where = "earlier in this file" if key in seen and not recorded else "already"
            row.update(
                status=RemittanceRowStatus.ALREADY_APPLIED,
                message=f"This payment to {invoice.number} is {where} recorded: it will not be applied again.",
            )
            continue
        seen.add(key)
        owed = invoice.outstanding_pence - pending[invoice.pk] if invoice.status in OPEN_STATUSES else 0
        if row["amount_pence"] > owed:
            row.update(
                status=RemittanceRowStatus.OVERPAYS,
                message=f"{format_gbp(row['amount_pence'])} is more than the {format_gbp(max(owed, 0))} owed on "
                f"{invoice.number}: not applied. Check it, then record what is due by hand.",
            )
            continue
        pending[invoice.pk] += row["amount_pence"]
        row.update(status=RemittanceRowStatus.MATCHED, message=f"Pays {invoice.number}.")
    return rows


def create_remittance_batch(*, council: Council | None, uploaded_by: User, filename: str, content: bytes):
    """Read and match an uploaded file and keep it for the preview. Nothing is paid yet."""
    rows = match_rows(read_rows(content), council=council)
    batch = RemittanceBatch(
        council=council,
        uploaded_by=uploaded_by,
        filename=(filename or "upload.csv")[:255],
        content_sha256=hashlib.sha256(content).hexdigest(),
        rows=rows,
    )
    batch.full_clean()
    batch.save()
    return batch


@transaction.atomic
def apply_remittance_batch(*, batch: RemittanceBatch, applied_by: User) -> RemittanceBatch:
    """Record every matched row as a bank payment, once. Rows that no longer fit are marked, not applied."""
    # The batch row lock serialises a double click: the second waits, then sees the batch applied.
    batch = RemittanceBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status == RemittanceStatus.APPLIED:
        return batch
    applied_count = applied_pence = 0
    rows = []
    for row in batch.rows:
        row = dict(row)
        if row.get("status") == RemittanceRowStatus.MATCHED:
            paid_on = datetime.date.fromisoformat(row["date"])
            invoice = BillingDocument.objects.get(pk=row["document_id"])
            try:
                # A savepoint per row: a row refused now (the invoice was paid or credited since the preview)
                # leaves the others applied.
                with transaction.atomic():
                    record_document_payment(
                        document=invoice,
                        amount_pence=row["amount_pence"],
                        paid_on=paid_on,
                        method=PaymentMethod.BANK_TRANSFER,
                        reference=row["reference"],
                        recorded_by=applied_by,
                    )
            except (ValidationError, IntegrityError) as error:
                recorded = invoice.payments.filter(
                    reference=row["reference"], amount_pence=row["amount_pence"], paid_on=paid_on
                ).exists()
                text = " ".join(error.messages) if isinstance(error, ValidationError) else "it is already recorded."
                row.update(
                    status=RemittanceRowStatus.ALREADY_APPLIED if recorded else RemittanceRowStatus.OVERPAYS,
                    message=f"Not applied: {text}",
                )
            else:
                row["applied"] = True
                applied_count += 1
                applied_pence += row["amount_pence"]
        rows.append(row)
    batch.rows = rows
    batch.status = RemittanceStatus.APPLIED
    batch.applied_count = applied_count
    batch.applied_pence = applied_pence
    batch.applied_at = timezone.now()
    batch.save(update_fields=["rows", "status", "applied_count", "applied_pence", "applied_at"])
    return batch
