"""Settlement statements of a council: the months, one month's statement as a page, CSV and PDF, and paying it out.

Finance officers of the council read them; only partnership administrators settle a month and pay it out (the
partnership holds the card money and sends it).
"""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_POST

from billing.models import PayoutStatus
from billing.money import from_pence
from billing.pdf import render_pdf
from billing.selectors.settlements import months_with_card_activity, settlement_statement
from billing.services.settlements import pay_out_settlement, settle_month
from portal.access import is_partnership_admin

from .finance import csv_response, csv_text, finance_required


def _month(year: int, month: int) -> datetime.date:
    try:
        first = datetime.date(year, month, 1)
    except ValueError:
        raise Http404("No such month") from None
    if first > timezone.localdate():
        raise Http404("That month has not started")
    return first


@finance_required
def settlement_list(request, council):
    this_month = timezone.localdate().replace(day=1)
    months = months_with_card_activity(council=council)
    if this_month not in months:
        months.insert(0, this_month)
    statements = [settlement_statement(council=council, month=month) for month in months[:24]]
    return render(request, "billing/settlement_list.html", {"council": council, "statements": statements})


@finance_required
def settlement_detail(request, council, year: int, month: int):
    statement = settlement_statement(council=council, month=_month(year, month))
    context = {
        "council": council,
        "statement": statement,
        "can_settle": is_partnership_admin(request.user),
        "month_ended": statement.month < timezone.localdate().replace(day=1),
    }
    return render(request, "billing/settlement_detail.html", context)


@finance_required
def settlement_csv(request, council, year: int, month: int):
    statement = settlement_statement(council=council, month=_month(year, month))
    response, writer = csv_response(f"settlement-{council.slug}-{statement.month:%Y-%m}.csv")
    writer.writerow(["Date", "Kind", "Card payment", "Reference", "Payment total", "Council share", "Card fee", "Net"])
    for row in statement.payments:
        writer.writerow(
            [
                row.received_on.isoformat(),
                "Card payment",
                row.payment.pk,
                csv_text(row.payment.reference),
                from_pence(row.payment.amount_pence),
                from_pence(row.share_pence),
                from_pence(-row.fee_pence),
                from_pence(row.net_pence),
            ]
        )
    for refund in statement.refunds:
        writer.writerow(
            [
                refund.paid_on.isoformat(),
                "Refund",
                refund.refund.payment_id,
                csv_text(refund.refund.reason),
                "",
                "",
                "",
                from_pence(-refund.amount_pence),
            ]
        )
    writer.writerow([])
    writer.writerow(["", "Card income", "", "", "", from_pence(statement.income_pence)])
    writer.writerow(["", "Less card fees", "", "", "", from_pence(-statement.fees_pence)])
    writer.writerow(["", "Less refunds", "", "", "", from_pence(-statement.refunds_pence)])
    writer.writerow(["", "Owed to the council", "", "", "", from_pence(statement.owed_pence)])
    return response


@finance_required
def settlement_pdf(request, council, year: int, month: int):
    statement = settlement_statement(council=council, month=_month(year, month))
    html = render_to_string("billing/settlement_pdf.html", {"council": council, "statement": statement})
    response = HttpResponse(render_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="settlement-{council.slug}-{statement.month:%Y-%m}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@finance_required
@require_POST
def settlement_payout(request, council, year: int, month: int):
    """Freeze the month's statement and send what is owed to the council (partnership administrators only)."""
    if not is_partnership_admin(request.user):
        raise PermissionDenied("Only partnership administrators pay out settlements.")
    first = _month(year, month)
    try:
        settlement = settle_month(council=council, month=first, settled_by=request.user)
        settlement = pay_out_settlement(settlement=settlement)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        if settlement.payout_status == PayoutStatus.PAID:
            messages.success(
                request,
                f"£{settlement.owed_pence / 100:,.2f} paid out to {council.short_name} "
                f"(transfer {settlement.payout_reference}).",
            )
        else:
            messages.error(request, f"The payout failed: {settlement.failure_message}")
    return redirect("billing:settlement", council_slug=council.slug, year=first.year, month=first.month)
