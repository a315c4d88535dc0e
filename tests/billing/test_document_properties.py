"""Property tests: whatever the lines and however an invoice is credited, the documents add up to the penny."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.models import DocumentLine, DocumentStatus
from billing.money import round_pence
from billing.services.documents import (
    CreditLineInput,
    LineInput,
    credit_invoice_in_full,
    issue_credit_note,
    issue_invoice,
)
from billing.vat import VatTreatment
from tests.factories import SchoolFactory

line_inputs = st.builds(
    LineInput,
    description=st.just("A service"),
    unit_net_pence=st.integers(min_value=0, max_value=5_000_000),
    vat_treatment=st.sampled_from(list(VatTreatment)),
    quantity=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("400"), places=2),
)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(line_inputs, min_size=1, max_size=5),
    credits=st.lists(st.tuples(st.integers(0, 4), st.integers(1, 100)), max_size=6),
)
def test_totals_and_credits_always_add_up(councils, lines, credits):
    """Totals equal the lines and the VAT summary; part credits never exceed a line; a full credit matches exactly."""
    school = SchoolFactory()
    if not any(round_pence(line.quantity * line.unit_net_pence) for line in lines):
        # Nothing charged: no £0 VAT invoice is issued (and no number used).
        with pytest.raises(ValidationError, match="nothing to invoice"):
            issue_invoice(council=councils["staffordshire"], customer=school, lines=lines)
        return
    invoice = issue_invoice(
        council=councils["staffordshire"], customer=school, lines=lines, issue_date=datetime.date(2026, 6, 1)
    )
    stored = invoice.lines.aggregate(net=Sum("net_pence"), vat=Sum("vat_pence"), gross=Sum("gross_pence"))
    assert (invoice.net_pence, invoice.vat_pence, invoice.gross_pence) == (
        stored["net"],
        stored["vat"],
        stored["gross"],
    )
    summary = invoice.totals_by_vat()
    assert sum(row["net_pence"] for row in summary) == invoice.net_pence
    assert sum(row["vat_pence"] for row in summary) == invoice.vat_pence
    invoice_lines = list(invoice.lines.all())
    for index, percent in credits:
        line = invoice_lines[index % len(invoice_lines)]
        credited = DocumentLine.objects.filter(credited_line=line).aggregate(n=Sum("net_pence"))["n"] or 0
        remaining = line.net_pence - credited
        amount = remaining * percent // 100  # a part (up to all) of what remains on the line
        if amount <= 0:
            continue
        issue_credit_note(invoice=invoice, lines=[CreditLineInput(line=line, net_pence=amount)], reason="part")
        for checked in invoice_lines:
            totals = DocumentLine.objects.filter(credited_line=checked).aggregate(
                n=Sum("net_pence"), v=Sum("vat_pence")
            )
            assert (totals["n"] or 0) <= checked.net_pence and (totals["v"] or 0) <= checked.vat_pence
    if invoice.gross_pence > 0 and any(line.net_pence > 0 for line in invoice_lines):
        invoice.refresh_from_db()
        if invoice.amount_credited_pence < invoice.gross_pence:
            credit_invoice_in_full(invoice=invoice, reason="cancelled")
        invoice.refresh_from_db()
        for line in invoice_lines:
            totals = DocumentLine.objects.filter(credited_line=line).aggregate(n=Sum("net_pence"), v=Sum("vat_pence"))
            assert ((totals["n"] or 0), (totals["v"] or 0)) == (line.net_pence, line.vat_pence)
        notes = invoice.credit_notes.aggregate(g=Sum("gross_pence"))["g"]
        assert notes == invoice.amount_credited_pence == invoice.gross_pence
        assert invoice.status == DocumentStatus.CANCELLED
