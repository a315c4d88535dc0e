"""Billing's sections of the dashboard (registered when the app is ready; see ``portal.dashboard``).

- "Invoices and receipts": for each school the user belongs to, what is open and what is overdue, with a link to
  the school's documents;
- "Finance": for finance officers and partnership administrators, a link to the finance pages.
"""

from billing.models import BillingDocument, DocumentType
from billing.selectors.documents import OPEN_STATUSES, finance_councils_for, is_overdue, overdue_invoices
from portal.dashboard import DashboardSection, register


def _school_billing(request):
    schools = [membership.school for membership in request.user.school_memberships.select_related("school")]
    if not schools:
        return None
    rows = {school.pk: {"school": school, "open": 0, "owed": 0, "overdue": 0} for school in schools}
    open_invoices = BillingDocument.objects.filter(
        school__in=schools, document_type=DocumentType.INVOICE, status__in=OPEN_STATUSES
    )
    for invoice in open_invoices:
        row = rows[invoice.school_id]
        row["open"] += 1
        row["owed"] += invoice.outstanding_pence
        row["overdue"] += is_overdue(invoice)
    return {"rows": sorted(rows.values(), key=lambda row: row["school"].name)}


def _finance(request):
    councils = list(finance_councils_for(request.user))
    if not councils:
        return None
    overdue = overdue_invoices().filter(council__in=councils).count()
    return {"councils": councils, "overdue": overdue}


def register_sections() -> None:
    register(DashboardSection("billing_schools", "billing/dashboard/schools.html", _school_billing, order=35))
    register(DashboardSection("billing_finance", "billing/dashboard/finance.html", _finance, order=55))
