"""Council finance pages: the landing page, a council's documents, and its ledger (page and CSV).

Every page under /billing/finance/<council>/ is for that council's finance officers and partnership
administrators (``council_member_required(role="finance")``): anonymous users sign in first, anybody else gets 403.
"""

import csv
import datetime

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from billing.forms import MonthForm
from billing.models import DocumentStatus, DocumentType, LedgerEntry, LedgerEntryType
from billing.money import from_pence
from billing.selectors import documents as selectors
from billing.selectors.finance_tasks import open_task_count
from billing.selectors.settlements import month_bounds, settlement_statement
from portal.access import council_member_required, is_partnership_admin
from portal.models import CouncilRole

finance_required = council_member_required(role=CouncilRole.FINANCE)
PAGE_SIZE = 50


def csv_text(value) -> str:
    """A cell a spreadsheet will not run as a formula (school names and references come from outside)."""
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def csv_response(filename: str) -> tuple[HttpResponse, "csv._writer"]:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response.write("\ufeff")  # Excel reads UTF-8 only with a byte-order mark
    return response, csv.writer(response)


@login_required
def finance_home(request):
    """Where a finance officer starts: each of their councils, with what needs attention."""
    today = timezone.localdate()
    councils = []
    for council in selectors.finance_councils_for(request.user):
        last_month = month_bounds(today.replace(day=1) - datetime.timedelta(days=1))[0]
        councils.append(
            {
                "council": council,
                "overdue": selectors.overdue_invoices(today=today).filter(council=council).count(),
                "open": selectors.council_documents(council=council, document_type=DocumentType.INVOICE)
                .filter(status__in=selectors.OPEN_STATUSES)
                .count(),
                "last_month": last_month,
                "last_month_owed": settlement_statement(council=council, month=last_month).owed_pence,
                "open_tasks": open_task_count(council=council),
            }
        )
    return render(
        request,
        "billing/finance_home.html",
        {"councils": councils, "is_admin": is_partnership_admin(request.user)},
    )


@finance_required
def council_documents(request, council):
    document_type = request.GET.get("type", "")
    status = request.GET.get("status", "")
    document_type = document_type if document_type in DocumentType.values else ""
    status = status if status in DocumentStatus.values else ""
    overdue = request.GET.get("overdue") == "1"
    query = request.GET.get("q", "").strip()[:100]
    documents = selectors.council_documents(
        council=council, document_type=document_type, status=status, overdue=overdue, query=query
    )
    page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
    for document in page:
        document.overdue_flag = selectors.is_overdue(document)
    context = {
        "council": council,
        "page": page,
        "filters": {"type": document_type, "status": status, "overdue": overdue, "q": query},
        "types": DocumentType.choices,
        "statuses": DocumentStatus.choices,
        "query": query_without_page(request),
    }
    return render(request, "billing/council_documents.html", context)


def _ledger_entries(council, form: MonthForm):
    first, last = month_bounds(form.month_start())
    entries = LedgerEntry.objects.filter(council=council, tax_point__range=(first, last)).select_related(
        "document", "school"
    )
    entry_type = form.cleaned_data.get("entry_type") if form.is_valid() else ""
    if entry_type:
        entries = entries.filter(entry_type=entry_type)
    return first, entries.order_by("tax_point", "pk")


def _month_form(request) -> MonthForm:
    today = timezone.localdate()
    data = request.GET if "month" in request.GET else {"month": today.month, "year": today.year}
    return MonthForm(data)


@finance_required
def ledger(request, council):
    form = _month_form(request)
    first, entries = _ledger_entries(council, form)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    sums = {name: Sum(f"{name}_pence") for name in ("net", "vat", "gross")}
    totals_by_type = {row["entry_type"]: row for row in entries.order_by().values("entry_type").annotate(**sums)}
    context = {
        "council": council,
        "form": form,
        "month": first,
        "page": page,
        "totals": entries.totals(),
        "totals_by_type": [
            (label, totals_by_type[value]) for value, label in LedgerEntryType.choices if value in totals_by_type
        ],
        "query": query_without_page(request),
    }
    return render(request, "billing/ledger.html", context)


@finance_required
def ledger_csv(request, council):
    form = _month_form(request)
    first, entries = _ledger_entries(council, form)
    response, writer = csv_response(f"ledger-{council.slug}-{first:%Y-%m}.csv")
    writer.writerow(
        [
            "Date",
            "Type",
            "Route",
            "Document",
            "Customer",
            "Description",
            "Cost centre",
            "Income code",
            "VAT treatment",
            "Net",
            "VAT",
            "Gross",
            "Card payment",
            "Entry",
        ]
    )
    for entry in entries.iterator():
        writer.writerow(
            [
                entry.tax_point.isoformat(),
                entry.get_entry_type_display(),
                entry.get_route_display(),
                entry.document.number if entry.document else "",
                csv_text(entry.school.name if entry.school else ""),
                csv_text(entry.description),
                csv_text(entry.cost_centre),
                csv_text(entry.income_code),
                entry.vat_treatment,
                from_pence(entry.net_pence),
                from_pence(entry.vat_pence),
                from_pence(entry.gross_pence),
                entry.payment_id or "",
                entry.entry_key,
            ]
        )
    return response
