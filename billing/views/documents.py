"""Documents: a school's list, one document's page and PDF, and finance recording a payment by hand."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from billing.forms import RecordPaymentForm
from billing.models import BillingDocument
from billing.pdf import document_face, document_filename, document_pdf
from billing.selectors import documents as selectors
from billing.services.documents import record_document_payment
from portal import access
from portal.access import school_member_required

PAGE_SIZE = 25


def visible_document_or_404(request, pk: int) -> BillingDocument:
    """The document named in the URL, for someone who may see it; 404 otherwise, whether or not it exists, so
    that document numbers (which run in sequence) do not tell another school or council what exists."""
    document = BillingDocument.objects.select_related("council", "school").filter(pk=pk).first()
    if document is None or not selectors.can_view_document(request.user, document):
        raise Http404("No such document.")
    return document


@school_member_required()
def school_documents(request, school):
    """A school's invoices, receipts, credit notes and recharges, newest first."""
    documents = selectors.school_documents(school=school)
    page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
    for document in page:
        document.overdue_flag = selectors.is_overdue(document)
    return render(request, "billing/school_documents.html", {"school": school, "page": page})


@login_required
def document_detail(request, pk: int):
    document = visible_document_or_404(request, pk)
    can_manage = selectors.can_manage_document(request.user, document)
    if document.school_id and access.is_school_member(request.user, document.school) and not can_manage:
        back = (reverse("billing:school_documents", args=[document.school.urn]), "Back to invoices and receipts")
    elif can_manage:
        back = (reverse("billing:council_documents", args=[document.council.slug]), "Back to the council's documents")
    else:
        back = (reverse("portal:dashboard"), "Back to your account")
    document.overdue_flag = selectors.is_overdue(document)
    context = {
        "back": back,
        "document": document,
        "face": document_face(document),
        "lines": list(document.lines.all()),
        "payments": list(document.payments.select_related("card_payment")),
        "credit_notes": list(document.credit_notes.all()),
        "can_manage": can_manage,
        "can_pay": selectors.can_pay_by_card(request.user, document),
        "reminders": list(document.reminders.all()) if can_manage else [],
    }
    return render(request, "billing/document_detail.html", context)


@login_required
def document_pdf_download(request, pk: int):
    document = visible_document_or_404(request, pk)
    response = HttpResponse(document_pdf(document), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document_filename(document)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def record_payment(request, pk: int):
    """Finance of the issuing council records money received: date, reference, amount (part payments too)."""
    document = visible_document_or_404(request, pk)
    if not selectors.can_manage_document(request.user, document):
        raise PermissionDenied("Only the council's finance officers record payments.")
    if document.is_credit_note or document.outstanding_pence <= 0:
        messages.info(request, f"{document.number} has nothing left to pay.")
        return redirect("billing:document", pk=document.pk)
    form = RecordPaymentForm(request.POST or None, outstanding_pence=document.outstanding_pence)
    if request.method == "POST" and form.is_valid():
        try:
            payment = record_document_payment(
                document=document,
                amount_pence=form.cleaned_data["amount"],
                paid_on=form.cleaned_data["paid_on"],
                method=form.cleaned_data["method"],
                reference=form.cleaned_data["reference"],
                recorded_by=request.user,
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            document.refresh_from_db()
            messages.success(
                request,
                f"Payment of £{payment.amount_pence / 100:,.2f} recorded. {document.number} is now "
                f"{document.get_status_display().lower()}.",
            )
            return redirect("billing:document", pk=document.pk)
    return render(request, "billing/record_payment.html", {"document": document, "form": form})
