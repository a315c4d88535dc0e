"""Which billing documents a user may see or act on, and the lists the pages show.

One rule, used by lists and detail pages alike: a school's members (bookers and approvers) see the school's
documents; a council's finance officers see every document their council issued; partnership administrators see
everything. Nobody else sees anything; catalogue editors and course administrators are not finance.
"""

import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from billing.models import BillingDocument, DocumentStatus, DocumentType, PaymentRoute
from portal import access
from portal.models import Council, CouncilRole, School, SchoolRole

FINANCE = CouncilRole.FINANCE
OPEN_STATUSES = (DocumentStatus.ISSUED, DocumentStatus.PART_PAID)


def documents_visible_to(user) -> QuerySet[BillingDocument]:
    """Every document the user may open (none for anonymous users)."""
    if access.is_partnership_admin(user):
        return BillingDocument.objects.all()
    return BillingDocument.objects.filter(
        Q(school__in=access.schools_for(user)) | Q(council__in=access.councils_for(user, role=FINANCE))
    )


def can_view_document(user, document: BillingDocument) -> bool:
    if access.is_partnership_admin(user):
        return True
    if document.school_id and access.is_school_member(user, document.school):
        return True
    return access.is_council_member(user, document.council, role=FINANCE)


def can_manage_document(user, document: BillingDocument) -> bool:
    """Finance of the issuing council (or an administrator): record payments against it."""
    return access.is_council_member(user, document.council, role=FINANCE)


def can_pay_by_card(user, document: BillingDocument) -> bool:
    """The school's approvers pay its open invoices online."""
    return (
        document.school_id is not None
        and access.is_school_member(user, document.school, role=SchoolRole.APPROVER)
        and is_payable_by_card(document)
    )


def is_payable_by_card(document: BillingDocument) -> bool:
    return (
        document.document_type == DocumentType.INVOICE
        and document.status in OPEN_STATUSES
        and document.outstanding_pence > 0
    )


def is_overdue(document: BillingDocument, *, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return (
        document.document_type == DocumentType.INVOICE
        and document.route == PaymentRoute.INVOICE
        and document.status in OPEN_STATUSES
        and document.outstanding_pence > 0
        and document.due_date < today
    )


def school_documents(*, school: School) -> QuerySet[BillingDocument]:
    return BillingDocument.objects.filter(school=school).select_related("council").order_by("-issue_date", "-pk")


def council_documents(
    *, council: Council, document_type: str = "", status: str = "", overdue: bool = False, query: str = ""
) -> QuerySet[BillingDocument]:
    documents = BillingDocument.objects.filter(council=council).select_related("school")
    if document_type:
        documents = documents.filter(document_type=document_type)
    if status:
        documents = documents.filter(status=status)
    if overdue:
        documents = documents.filter(pk__in=overdue_invoices().filter(council=council).values("pk"))
    if query:
        documents = documents.filter(
            Q(number__icontains=query) | Q(customer_name__icontains=query) | Q(po_number__icontains=query)
        )
    return documents.order_by("-issue_date", "-pk")


def overdue_invoices(*, today: datetime.date | None = None) -> QuerySet[BillingDocument]:
    """Invoices past their due date with money still owed (card receipts are paid at once, so never overdue)."""
    today = today or timezone.localdate()
    return BillingDocument.objects.filter(
        document_type=DocumentType.INVOICE,
        route=PaymentRoute.INVOICE,
        status__in=OPEN_STATUSES,
        due_date__lt=today,
    )


def finance_councils_for(user) -> QuerySet[Council]:
    """Councils whose finance pages the user may open."""
    return access.councils_for(user, role=FINANCE)
