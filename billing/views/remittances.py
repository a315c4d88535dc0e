"""Remittance and bank files: upload (checked and matched at once), preview, confirm."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from billing.forms import RemittanceUploadForm
from billing.models import RemittanceBatch, RemittanceRowStatus, RemittanceStatus
from billing.services.remittances import apply_remittance_batch, create_remittance_batch

from .finance import finance_required

ROW_GROUPS = [
    (RemittanceRowStatus.MATCHED, "To be applied"),
    (RemittanceRowStatus.OVERPAYS, "More than is owed: not applied"),
    (RemittanceRowStatus.UNMATCHED, "Not matched to an invoice"),
    (RemittanceRowStatus.ALREADY_APPLIED, "Already recorded"),
    (RemittanceRowStatus.INVALID, "Could not be read"),
]


@finance_required
def remittance_upload(request, council):
    form = RemittanceUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = create_remittance_batch(
                council=council, uploaded_by=request.user, filename=upload.name, content=upload.read()
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error("file", message)
        else:
            return redirect("billing:remittance", council_slug=council.slug, pk=batch.pk)
    batches = RemittanceBatch.objects.filter(council=council).select_related("uploaded_by")[:20]
    return render(request, "billing/remittance_upload.html", {"council": council, "form": form, "batches": batches})


def _batch(council, pk: int) -> RemittanceBatch:
    # Looked up inside the council: another council's batch is a 404, whatever its number.
    return get_object_or_404(RemittanceBatch, pk=pk, council=council)


@finance_required
def remittance_detail(request, council, pk: int):
    batch = _batch(council, pk)
    groups = [(status, label, batch.rows_with(status)) for status, label in ROW_GROUPS]
    matched = batch.rows_with(RemittanceRowStatus.MATCHED)
    context = {
        "council": council,
        "batch": batch,
        "groups": [group for group in groups if group[2]],
        "matched_pence": sum(row["amount_pence"] for row in matched),
        "matched_count": len(matched),
        "applied": batch.status == RemittanceStatus.APPLIED,
    }
    return render(request, "billing/remittance_detail.html", context)


@finance_required
@require_POST
def remittance_apply(request, council, pk: int):
    batch = apply_remittance_batch(batch=_batch(council, pk), applied_by=request.user)
    messages.success(
        request,
        f"{batch.applied_count} payment{'s' if batch.applied_count != 1 else ''} applied, "
        f"£{batch.applied_pence / 100:,.2f} in all.",
    )
    return redirect("billing:remittance", council_slug=council.slug, pk=batch.pk)
